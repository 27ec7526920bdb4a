/*
 * `stockade-helper zygote`: forks a helper in run mode for each FORK request on the zygote
 * socket (fd 3; stockade.h, enum stk_zygote_message_type). The library starts one per JVM; the
 * JVM then pays a fork per sandbox instead of a spawn and an exec.
 */
#ifndef STK_ZYGOTE_H
#define STK_ZYGOTE_H

/* Serves requests until the socket closes (0) or fails or a request is malformed (the helper's
 * set-up exit code, after a FORKED frame with EPROTO for the latter). mode_word is the
 * "zygote" of the zygote's argv, which each helper blanks in its copy. */
int stk_zygote_run(char *mode_word);

#endif
