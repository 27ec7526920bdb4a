/*
 * The output bound (STK_F_MAX_OUTPUT): the command's stdout and stderr together may deliver at
 * most max bytes to the caller; past it the monitor reads and drops what comes (the command is
 * never blocked by the bound) or kills the sandbox, and counts both.
 *
 * Only with the field: the monitor then gives the command a pipe of its own for fd 1 and for
 * fd 2 (one pipe for both when they are the same file, so their order is kept) and relays each
 * pipe to the caller's fd it replaced. A fd that is a terminal is not replaced: the pty relay
 * (pty.h) counts it against the same budget. The caller's fds keep their file status flags (an
 * O_NONBLOCK set on one would reach the caller's own open file description): the relay asks
 * for POLLOUT and then moves at most what cannot block, with splice(SPLICE_F_NONBLOCK) into a
 * pipe and send(MSG_DONTWAIT) into a socket; a regular file or a device is written plainly.
 * So a caller that does not read blocks only its own stream's relay, never the monitor's loop
 * (timeouts, kills and control frames go on being served).
 *
 * Everything here runs in the monitor.
 */
#ifndef STK_OUTPUT_H
#define STK_OUTPUT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

/* How long the end-of-run drains (this relay's and the pty's) read sources that have not
 * reported EOF, and wait for one that went quiet. With a pid namespace every writer is gone
 * once pid 1 is; only a process outside one (or a daemon it left) can keep a source open. */
#define STK_DRAIN_MS 1000

/* Read at once from a relay pipe: the pipe's default capacity. */
#define STK_OUTPUT_CHUNK 65536u

/* The one budget of a sandbox, shared by the pipe relays and the pty relay. */
struct stk_output_budget {
    bool active;         /* the spec has STK_F_MAX_OUTPUT */
    bool kill;           /* STK_OUTPUT_KILL */
    uint64_t max;        /* what may be delivered */
    uint64_t written;    /* all the command wrote to the relayed streams */
    uint64_t delivered;  /* of that, what went on to the caller (at most max) */
    uint64_t dropped;    /* of that, what came past max and was dropped */
    bool exceeded;       /* something came past max (kill: the sandbox must die) */
};

/* Of n bytes just read, how many may go on (the rest is counted as dropped). */
size_t stk_output_admit(struct stk_output_budget *b, size_t n);

/* One relayed stream: the command's pipe to one caller's fd. */
struct stk_output_stream {
    int fds;        /* bit n: the command's fd n (1, 2) is this pipe's write end */
    int src;        /* the pipe's read end (non-blocking, ours); -1 at EOF */
    int dst;        /* our copy of the caller's fd (its flags never changed); -1 when gone */
    int kind;       /* how dst is written without blocking (output.c) */
    bool dst_full;  /* splice said EAGAIN: wait for POLLOUT */
    size_t len, pos; /* pending bytes in buf (not for pipes: splice moves them directly) */
    char *buf;
};

struct stk_output {
    struct stk_output_budget budget;
    struct stk_output_stream streams[2];
    size_t count;
};

/* Before the clone, with the spec's bound: for fds 1 and 2 that are not terminals (bit n of
 * tty_fds), a pipe whose write end replaces the fd in the monitor, so that pid 1 and the
 * command inherit it; stk_output_monitor_restore puts the caller's fds back. Without the field
 * nothing is done. Step "output". */
int stk_output_monitor_prepare(struct stk_output *o, const struct stk_spec *spec,
                               unsigned int tty_fds, struct stk_error *err);

/* Step "output" when fd, the command's stdin, is writable: the bound would not cover it. */
int stk_output_check_stdin(int fd, struct stk_error *err);

/* A warm sandbox's COMMAND (warm.h): the relay's destinations become the command's stdout and
 * stderr (out_fd, err_fd: both taken over and closed here) instead of the /dev/null the helper
 * started with. *merged when both are the same open file and each has its own pipe: pid 1 then
 * puts fd 1's pipe on fd 2 too, so their bytes keep the order the command wrote them in. */
int stk_output_monitor_redirect(struct stk_output *o, int out_fd, int err_fd, bool *merged,
                                struct stk_error *err);

/* Right after the clone (whether it worked or not): the monitor's fds 1 and 2 are the
 * caller's again, so the pipes' only write ends are the sandbox's. */
void stk_output_monitor_restore(struct stk_output *o);

/* In pid 1 right after the clone (async-signal-safe): the relay's ends and the copies of the
 * caller's fds are the monitor's; pid 1 keeps only the write ends on its fds 1 and 2. */
void stk_output_pid1_close(const struct stk_output *o);

/* The relay's poll slots: two per stream (source, destination), 2 * count of them; unused
 * slots get fd -1. */
size_t stk_output_poll_fds(const struct stk_output *o, struct pollfd *fds);
void stk_output_relay(struct stk_output *o, const struct pollfd *fds);

/* After pid 1 is reaped: relays until every pipe reads EOF, or nothing came for a while from a
 * pipe someone outside a pid namespace still holds. Waits as long as the caller takes to read
 * what may still go to it, unless control_fd (polled for its hang-up only) closes or the
 * sandbox was killed (then for a quiet while at most). */
void stk_output_monitor_drain(struct stk_output *o, int control_fd, bool killed);

/* Closes everything; safe to call more than once. */
void stk_output_monitor_close(struct stk_output *o);

#endif
