/*
 * The helper's run mode: one sandbox from the SPEC frame on the control socket (fd 3), with the
 * command's stdio on fds 0-2 and the progress page (optionally) on fd 4. Entered by a helper the
 * JVM spawned (main.c) and by each one the zygote forked (zygote.c).
 */
#ifndef STK_RUN_H
#define STK_RUN_H

/* Leaves the process as a fresh exec would see it: every fd from first_fd_to_close on closed
 * (the spawner's leftovers must not reach the sandbox), fds 0-2 valid (so that no descriptor
 * opened later lands there and poses as the command's stdio), every signal disposition default
 * and the mask empty. Returns 0, or -1 with errno. */
int stk_process_sanitize(unsigned int first_fd_to_close);

/* Reads the SPEC, runs the sandbox and sends its one ERROR frame should set-up fail. Returns
 * the exit code for the helper: STK_EXIT_OWN_CRASH when a process of the sandbox that runs the
 * helper's code died of a signal it did not send, else 0 after EXITED was sent, else the
 * error's. */
int stk_run_helper(void);

#endif
