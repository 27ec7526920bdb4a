/*
 * The command's process, from pid 1's fork to execve: new session, working directory,
 * rlimits, fds, no_new_privs, the seccomp filter (and its listener, passed to pid 1), the
 * program search. A failed step is written as one record to status_fd (close-on-exec, so a
 * successful execve shows as EOF) and the process exits with the record's exit code.
 *
 * A cold spawn runs the steps in one go, the filters last before execve. A warm sandbox's
 * command's process, forked before READY (warm.h), can have its filters before the hand-over
 * instead, when they allow every call it makes after them whatever the arguments (so none of
 * those calls can be refused, reported or answered differently than before them): the
 * filters' install then costs a start nothing.
 */
#ifndef STK_COMMAND_H
#define STK_COMMAND_H

#include "plan.h"

#include <stdbool.h>

#include "spec.h"

/* Every step, the filters last. */
_Noreturn void stk_command_run(const struct stk_plan *plan, int status_fd);

/* Monitor, building the plan: whether spec's filters allow, whatever their arguments, every
 * call the command's process makes between stk_command_filter_early and its execve. */
bool stk_command_can_filter_early(const struct stk_spec *spec);

/* The steps that do not depend on the command (session, signal mask, no_new_privs, the
 * filters with the listener passed), then a FILTERED record to pid 1. */
void stk_command_filter_early(const struct stk_plan *plan, int status_fd);

/* The rest once the hand-over pointed the plan at the command: working directory, rlimits,
 * fds, execve. */
_Noreturn void stk_command_run_filtered(const struct stk_plan *plan, int status_fd);

#endif
