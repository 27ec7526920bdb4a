/*
 * `stockade-helper probe`: tries, for real and as the calling user, each kernel feature the
 * sandbox uses and prints one line per feature on stdout (format in docs/protocol.md):
 *     name=yes [key=value ...]
 *     name=no errno=N [key=value ...] reason=free text to the end of the line
 */
#ifndef STK_PROBE_H
#define STK_PROBE_H

/* Returns the exit code (0 unless stdout fails). */
int stk_probe_run(void);

#endif
