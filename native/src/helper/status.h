/*
 * Fixed-size records on the helper's internal channels:
 * - the command's process -> pid 1, a close-on-exec SOCK_SEQPACKET socketpair: its exec
 *   status, a record only when a step failed, EOF when execve succeeded; before that, with
 *   REPORT fields, LISTENER carrying the seccomp listener fd (SCM_RIGHTS). One message per
 *   record, delivered whole or not at all, even when the writer dies right after.
 * - pid 1 -> monitor, a SOCK_SEQPACKET socketpair (one record per message): STARTED,
 *   VIOLATION, ERROR, EXITED, UPPER, READY, CRASHED. STARTED may carry one fd (SCM_RIGHTS): a pidfd of the
 *   command; UPPER carries the transactional workspace's upper directory.
 * - the network namespace's maker -> pid 1 (netns.h), a SOCK_SEQPACKET socketpair: one record,
 *   NETNS with the namespace's fd or ERROR.
 */
#ifndef STK_STATUS_H
#define STK_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum stk_record_kind {
    STK_REC_STARTED = 1,
    STK_REC_ERROR = 2,
    STK_REC_EXITED = 3,
    STK_REC_LISTENER = 4,  /* command -> pid 1, with the seccomp listener fd */
    STK_REC_VIOLATION = 5, /* pid 1 -> monitor, relayed as STK_EVT_VIOLATION */
    STK_REC_UPPER = 6,     /* pid 1 -> monitor, before STARTED: the TRANSACTIONAL upper's fd */
    STK_REC_READY = 7,     /* pid 1 -> monitor: a warm sandbox is set up (warm.h) */
    /* pid 1 -> monitor: the egress forwarder died of a signal pid 1 did not expect
     * (wait_status: its status) */
    STK_REC_CRASHED = 8,
    /* network namespace maker -> pid 1, with the namespace's fd (netns.h) */
    STK_REC_NETNS = 9,
    /* command -> pid 1: a warm command's process has its filters, before READY (command.h) */
    STK_REC_FILTERED = 10,
};

/* VIOLATION: one syscall's aggregate (stockade.h, STK_EVT_VIOLATION). */
struct stk_violation {
    uint32_t nr;
    uint32_t err;   /* the errno the calls got; 0 = let through */
    uint64_t count; /* notifications so far */
    int32_t pid;    /* first occurrence, as pid 1 sees it */
    uint32_t pad;
    uint64_t args[6]; /* first occurrence */
};

struct stk_record {
    uint32_t kind;
    int32_t command_pid; /* STARTED: as pid 1 sees it */
    int32_t wait_status; /* EXITED: the command's, from wait4; CRASHED: the forwarder's */
    uint32_t pad;
    uint64_t wall_time_ns; /* EXITED: from just before fork to the command's exit */
    uint64_t user_cpu_us;
    uint64_t sys_cpu_us;
    uint64_t max_rss_kb;
    struct stk_violation violation; /* VIOLATION */
    struct stk_error error;          /* ERROR */
};

/* On either socket; pass_fd >= 0 travels with the record. Async-signal-safe. */
int stk_record_send(int sock, const struct stk_record *r, int pass_fd);

/* Returns 1 with a record (*received_fd: a passed fd, close-on-exec, or -1), 0 at EOF, -1
 * with errno (EAGAIN: nothing yet; EPROTO: a malformed message). Never blocks unless wait is
 * set. Async-signal-safe. */
int stk_record_receive(int sock, struct stk_record *r, int *received_fd, bool wait);

/* The one way pid 1 and the command's process report a failed step: an ERROR record to the
 * process above them (which relays it; the monitor's own errors go up to main.c, which writes
 * the run's one ERROR frame), then _exit with the step's exit code. Async-signal-safe. */
_Noreturn void stk_record_error_exit(int sock, const struct stk_error *e);

/* The same ERROR record without the exit, for a process that reports a failure on another's
 * behalf (the monitor, for the maker it could not fork). Async-signal-safe. */
int stk_record_send_error(int sock, const struct stk_error *e);

#endif
