/*
 * The monitor once pid 1 is released: it relays pid 1's records to the control socket
 * (STARTED, VIOLATION, EXITED), forwards signals, enforces the timeout and the kill grace,
 * kills the sandbox on a KILL frame or when the control socket closes, and finally reaps pid 1.
 * monitor.c sets up what it watches.
 */
#ifndef STK_MONITOR_LOOP_H
#define STK_MONITOR_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "frame.h"
#include "output.h"
#include "plan.h"
#include "protect.h"
#include "pty.h"
#include "status.h"
#include "warm.h"

struct stk_monitor {
    const struct stk_plan *plan;
    pid_t pid1;
    int pidfd;
    int status_fd;     /* pid 1's records (SOCK_SEQPACKET); -1 after EOF */
    int command_pidfd; /* without NEWPID only: the command, passed by pid 1; else -1 */
    int upper_fd;      /* the TRANSACTIONAL overlay's upper directory, passed on with EXITED */
    /* The sandbox's mount namespace (-1: none, or not held). Held past pid 1's reap so that
     * freeing it, which waits for an RCU grace period (a few hundred microseconds), comes
     * after EXITED instead of inside pid 1's exit, before it. */
    int mount_ns_fd;
    /* The network namespace's maker (netns.h), 0 when there is none (any more): ended when
     * pid 1 reports STARTED, READY or ERROR (it has joined the namespace or given up), reaped
     * then or on the monitor's way out. */
    pid_t netns_maker;
    int control_fd;    /* -1 once closed by the peer or broken */
    int signal_fd;
    struct stk_control_reader control;
    struct stk_pty *pty; /* the relay when the caller's stdio is a terminal (pty.h) */
    struct stk_output *output; /* the output bound's relay (output.h); count 0 without */
    /* PROTECT placeholders the monitor made (protect.h), removed once pid 1 is reaped. */
    struct stk_placeholders *placeholders;
    /* The sandbox's cgroups (version 0: none), read and removed once pid 1 is reaped. */
    struct stk_cgroup *cgroup;
    /* A warm sandbox's region and hand-over (warm.h); NULL without STK_F_WARM. */
    struct stk_warm *warm;

    bool started;      /* STARTED sent */
    bool exited;       /* pid 1 reported the command's exit */
    bool failed;       /* pid 1 reported a set-up error, or a COMMAND was refused */
    bool killed_by_us; /* SIGKILL sent to pid 1 */
    /* pid 1 or the egress forwarder died of a signal nobody of the helper's sent: the helper
     * exits STK_EXIT_OWN_CRASH */
    bool own_crash;
    int32_t command_pid;
    uint32_t flags; /* STK_EXIT_* */
    uint64_t start_ns;
    uint64_t timeout_at; /* 0 = none */
    uint64_t kill_at;    /* 0 = none */
    struct stk_record exit_record;
    struct stk_error error;
};

/* Runs until pid 1 has exited (its pidfd is readable). */
void stk_monitor_loop(struct stk_monitor *m);

/* Reaps pid 1 and ends the exchange: returns 0 after sending EXITED, or -1 with the set-up
 * error (pid 1's, or step "init" when pid 1 ended without a report) for the caller to send. */
int stk_monitor_finish(struct stk_monitor *m, struct stk_error *err);

#endif
