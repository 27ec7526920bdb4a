/*
 * Frames on the control socket (fd 3): full reads and writes that survive EINTR and short
 * transfers, little-endian encoding, and the three events the helper sends.
 */
#ifndef STK_FRAME_H
#define STK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "stockade.h"

uint32_t stk_get_u32(const uint8_t *p);
uint64_t stk_get_u64(const uint8_t *p);
uint16_t stk_get_u16(const uint8_t *p);
void stk_put_u32(uint8_t *p, uint32_t v);
void stk_put_u64(uint8_t *p, uint64_t v);

/* Reads until len bytes or EOF. Returns the bytes read (< len only at EOF), -1 on error. */
ssize_t stk_read_full(int fd, void *buf, size_t len);

/* Sends all of buf on a socket (MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE).
 * Returns 0 or -1 with errno. */
int stk_send_full(int fd, const void *buf, size_t len);

/* The most descriptors one recvmsg takes: a FORK request's, and one more (seen, not lost). */
#define STK_RECV_MAX_FDS (STK_FORK_MAX_FDS + 1u)

/* recvmsg of at most len bytes with the descriptors their first byte carries (SCM_RIGHTS,
 * received close-on-exec), flags as recvmsg's. The descriptors are appended to fds while *count
 * is below max (at most STK_RECV_MAX_FDS); any more are closed, and *truncated is set then and
 * when the kernel cut the control data short. Returns what recvmsg does (EINTR included). */
ssize_t stk_recv_with_fds(int fd, void *buf, size_t len, int flags, int *fds, size_t max,
                          size_t *count, bool *truncated);

/* Event frames (stockade.h). Each returns 0, or -1 when the peer is gone. */
int stk_send_started(int fd, int32_t sandbox_pid, int32_t command_pid);
int stk_send_error(int fd, const struct stk_error *e);
/* The zygote's answer to a FORK: the helper's pid and its pidfd (-1 with none), or 0 and the
 * errno of the failed fork. */
int stk_send_forked(int fd, int32_t pid, uint32_t err, int pidfd);

struct stk_exit_report {
    int32_t wait_status; /* as waitpid reports the command */
    uint32_t flags;      /* STK_EXIT_* */
    uint64_t wall_time_ns;
    uint64_t user_cpu_us;
    uint64_t sys_cpu_us;
    uint64_t max_rss_kb;
    uint64_t peak_memory_bytes;
    uint64_t peak_processes;
    uint64_t output_bytes;
    uint64_t output_dropped_bytes;
};
/* pass_fd >= 0 travels with the frame (SCM_RIGHTS): the transactional upper layer. */
int stk_send_exited(int fd, const struct stk_exit_report *r, int pass_fd);

struct stk_violation_report {
    uint32_t nr;
    uint32_t err;
    uint64_t count;
    int32_t pid;
    uint64_t args[6];
};
int stk_send_violation(int fd, const struct stk_violation_report *v);

/*
 * Reads the control frames that follow the spec (KILL, and a warm sandbox's COMMAND) without
 * ever blocking: the monitor calls stk_control_read when poll says the socket is readable.
 * Descriptors (SCM_RIGHTS) are taken only with a frame's first byte; a COMMAND's payload is
 * the caller's to read.
 */
#define STK_CONTROL_MAX_FDS 4u /* one more than a COMMAND carries: a fourth is seen, not lost */

struct stk_control_reader {
    uint8_t buf[12]; /* header + the u32 kill mode */
    size_t have;
    int fds[STK_CONTROL_MAX_FDS]; /* close-on-exec; -1 beyond fd_count */
    size_t fd_count;
    bool fds_truncated; /* more came than fit (the kernel closed the rest) */
    uint32_t command_len; /* STK_CONTROL_COMMAND: the payload's length */
};

enum stk_control_result {
    STK_CONTROL_NONE = 0, /* nothing complete yet */
    STK_CONTROL_KILL = 1, /* *kill_mode holds the mode */
    STK_CONTROL_EOF = 2,  /* the peer closed (or the socket failed) */
    STK_CONTROL_BAD = 3,  /* a frame that is neither a well-formed KILL nor a COMMAND */
    /* A COMMAND header: command_len, and in fds the descriptors its first byte carried,
     * which the caller takes over; the payload follows on the socket. */
    STK_CONTROL_COMMAND = 4,
};

void stk_control_reader_init(struct stk_control_reader *r);
enum stk_control_result stk_control_read(int fd, struct stk_control_reader *r,
                                         uint32_t *kill_mode);
/* Closes any descriptors the reader still holds. */
void stk_control_reader_close(struct stk_control_reader *r);

/* READY (empty payload). */
int stk_send_ready(int fd);

#endif
