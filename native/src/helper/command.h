/*
 * The command's process, from pid 1's fork to execve: new session, working directory,
 * rlimits, fds, no_new_privs, the seccomp filter (and its listener, passed to pid 1), the
 * program search. A failed step is written as one record to status_fd (close-on-exec, so a
 * successful execve shows as EOF) and the process exits with the record's exit code.
 */
#ifndef STK_COMMAND_H
#define STK_COMMAND_H

#include "plan.h"

_Noreturn void stk_command_run(const struct stk_plan *plan, int status_fd);

#endif
