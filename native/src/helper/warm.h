/*
 * A warm sandbox (STK_F_WARM): set up in full before its command exists. pid 1 reports READY
 * with nothing of the command's run yet; the command comes later in the one COMMAND frame
 * (ARG, ENV, CWD and the three stdio fds, stockade.h).
 *
 * pid 1 is a clone without exec: it may not allocate, and what the monitor allocates after the
 * clone is not in its memory. So the monitor decodes the frame into a region it mapped
 * MAP_SHARED before the clone (at the same address in both processes; only the pages written
 * are ever backed), lays out argv, envp and the execve candidates there exactly as the plan
 * does for a cold spawn (stk_exec_paths_fill), and hands the fds over on a socketpair made
 * before the clone. From then on the sandbox goes on as in a cold spawn.
 *
 * With NEWPID, pid 1 forks the command's process before READY, and that process takes the
 * hand-over: a start then costs no fork and one hop fewer. It waits with nothing of the
 * command's, before the command's own steps (setsid, chdir, limits, filters, execve), which
 * run after the hand-over exactly as in a cold spawn. Without NEWPID pid 1 takes the hand-over
 * and forks then: an idle process forked early would outlive a pid 1 killed while idle, where
 * a pid namespace ends it with pid 1.
 */
#ifndef STK_WARM_H
#define STK_WARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "output.h"
#include "plan.h"

struct stk_warm {
    void *region; /* MAP_SHARED, region_size bytes; MAP_FAILED/NULL when not mapped */
    size_t region_size;
    int channel[2]; /* SOCK_SEQPACKET: [0] the monitor's, [1] the sandbox's */
    bool ready;     /* READY went to the caller */
    bool commanded; /* a COMMAND frame was taken (well-formed or not) */
};

/* Monitor, before the clone: the region and the channel. Step "command". */
int stk_warm_prepare(struct stk_warm *w, struct stk_error *err);

/* pid 1 right after the clone / the monitor right after it: each drops the other's end. pid 1
 * drops the sandbox's end too once the command's process it forked before READY has it. */
void stk_warm_pid1_close(struct stk_warm *w);
void stk_warm_close_sandbox_end(struct stk_warm *w);

/* Monitor, once a COMMAND header was read (len: its payload length; fds: the fd_count
 * descriptors its first byte carried, all taken over here). Reads the payload, checks it and
 * the fds, lays the command out for pid 1, makes the received stdout/stderr the output relay's
 * destinations when there is one, and hands the rest of the fds over. Returns 0 once the sandbox
 * has the command, or -1 with the error (the sandbox is then to be killed). */
int stk_warm_take_command(struct stk_warm *w, const struct stk_plan *plan, int control_fd,
                          uint32_t len, int *fds, size_t fd_count, bool fds_truncated,
                          struct stk_output *output, struct stk_error *err);

/* pid 1, after its whole set-up (and, with NEWPID, the command's fork): enters step "command"
 * and reports READY to the monitor; exits without a word when the monitor is gone (it reports
 * itself). Async-signal-safe. */
void stk_warm_report_ready(int status_fd);

/* The process that will exec the command (the command's own with NEWPID, forked before READY;
 * pid 1 without one), once READY went: waits for the hand-over, checks the view is still the
 * one set up (step "protect"), puts the command's fds on 0-2 (those the output relay owns stay
 * the relay's) and points its plan at the command: *command is a copy of the spec with the
 * command's argv, envp and cwd, and must live as long as the plan is used. Returns -1 with the
 * error (ECANCELED when the monitor ended first). Async-signal-safe. */
int stk_warm_await_command(struct stk_warm *w, struct stk_plan *p, struct stk_spec *command,
                           struct stk_error *err);

/* pid 1, once the command's execve succeeded: CLOCK_MONOTONIC at the hand-over, which the
 * monitor wrote into the region (the command's wall time starts there, not at its fork). */
uint64_t stk_warm_handed_over_ns(const struct stk_warm *w);

/* Monitor, on every way out: unmaps and closes (safe twice). */
void stk_warm_release(struct stk_warm *w);

#endif
