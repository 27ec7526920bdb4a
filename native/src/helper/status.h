/*
 * Fixed-size records on the helper's internal channels:
 * - the command's process -> pid 1, a close-on-exec pipe: its exec status, a record only when
 *   a step failed, EOF when execve succeeded. A record is smaller than PIPE_BUF, so one write()
 *   delivers it whole or not at all, even when the writer dies right after.
 * - pid 1 -> monitor, a SOCK_SEQPACKET socketpair (one record per message): STARTED, ERROR,
 *   EXITED. STARTED may carry one fd (SCM_RIGHTS): a pidfd of the command.
 */
#ifndef STK_STATUS_H
#define STK_STATUS_H

#include <limits.h>
#include <stdint.h>

#include "error.h"

enum stk_record_kind {
    STK_REC_STARTED = 1,
    STK_REC_ERROR = 2,
    STK_REC_EXITED = 3,
};

struct stk_record {
    uint32_t kind;
    int32_t command_pid; /* STARTED: as pid 1 sees it */
    int32_t wait_status; /* EXITED: the command's, from wait4 */
    uint32_t pad;
    uint64_t wall_time_ns; /* EXITED: from just before fork to the command's exit */
    uint64_t user_cpu_us;
    uint64_t sys_cpu_us;
    uint64_t max_rss_kb;
    struct stk_error error; /* ERROR */
};

_Static_assert(sizeof(struct stk_record) <= PIPE_BUF, "a record must be one atomic pipe write");

/* On the exec-status pipe. Async-signal-safe. Returns 0 or -1 with errno. */
int stk_record_write(int fd, const struct stk_record *r);

/* Returns 1 with a record, 0 at EOF, -1 with errno (EPROTO for a partial record). */
int stk_record_read(int fd, struct stk_record *r);

/* On the status socket; pass_fd >= 0 travels with the record. Async-signal-safe. */
int stk_record_send(int sock, const struct stk_record *r, int pass_fd);

/* Never blocks. Returns 1 with a record (*received_fd: a passed fd, close-on-exec, or -1),
 * 0 at EOF, -1 with errno (EAGAIN: nothing yet; EPROTO: a malformed message). */
int stk_record_receive(int sock, struct stk_record *r, int *received_fd);

#endif
