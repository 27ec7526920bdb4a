#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "sys.h"

/* How a destination is written without ever blocking the monitor's loop. */
enum dest_kind {
    DEST_PIPE = 0,   /* splice(SPLICE_F_NONBLOCK) from the relay pipe: never blocks */
    DEST_SOCKET = 1, /* send(MSG_DONTWAIT) of the buffer */
    DEST_OTHER = 2,  /* write of the buffer: a regular file or a device, which do not wait */
};

size_t stk_output_admit(struct stk_output_budget *b, size_t n)
{
    b->written += n;
    uint64_t room = b->max - b->delivered;
    size_t admitted = (uint64_t)n < room ? n : (size_t)room;
    b->delivered += admitted;
    if (admitted < n) {
        b->dropped += n - admitted;
        b->exceeded = true;
    }
    return admitted;
}

static int dest_kind(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return DEST_OTHER;
    }
    if (S_ISFIFO(st.st_mode)) {
        return DEST_PIPE;
    }
    return S_ISSOCK(st.st_mode) ? DEST_SOCKET : DEST_OTHER;
}

/* fd 2 goes into fd 1's pipe when both are the same open file (the caller merged them): the
 * order of their bytes is then the order the command wrote them in. */
static bool same_file(int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0) {
        return false;
    }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
           fcntl(a, F_GETFL) == fcntl(b, F_GETFL);
}

static int open_stream(struct stk_output_stream *s, int fd, struct stk_error *err)
{
    int pipe_fds[2];
    /* Our copy of the caller's fd first: dup2 below replaces the fd itself. */
    s->dst = fcntl(fd, F_DUPFD_CLOEXEC, STK_PROGRESS_FD + 1);
    if (s->dst < 0) {
        return stk_fail(err, STK_STEP_OUTPUT, errno, "copying the caller's output fd");
    }
    s->kind = dest_kind(s->dst);
    if (s->kind != DEST_PIPE) {
        s->buf = malloc(STK_OUTPUT_CHUNK);
        if (s->buf == NULL) {
            return stk_fail(err, STK_STEP_OUTPUT, ENOMEM, "the relay buffer");
        }
    }
    /* Only the read end, ours, is non-blocking: the two ends are open files of their own, so
     * the command's write end stays blocking, as its stdout would have been. */
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        return stk_fail(err, STK_STEP_OUTPUT, errno, "pipe2");
    }
    s->src = pipe_fds[0];
    if (fcntl(s->src, F_SETFL, O_NONBLOCK) < 0) {
        stk_close_fd(&pipe_fds[1]);
        return stk_fail(err, STK_STEP_OUTPUT, errno, "O_NONBLOCK on the relay's read end");
    }
    int rc = 0;
    for (int target = 1; target <= 2; target++) {
        if ((s->fds & (1 << target)) != 0 && dup2(pipe_fds[1], target) < 0) {
            rc = stk_fail(err, STK_STEP_OUTPUT, errno, "dup2 of the relay's write end");
        }
    }
    stk_close_fd(&pipe_fds[1]);
    return rc;
}

static bool stdin_writable(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return false; /* no stdin: nothing to write to */
    }
    if (S_ISSOCK(st.st_mode)) {
        return true;
    }
    if (S_ISCHR(st.st_mode)) {
        return false; /* /dev/null opened read-write, as daemons do: writes go nowhere */
    }
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

/* A stdin the command can write to (one socket for both directions, as inetd or socat hand
 * over, or a file opened read-write) would carry output past the bound: refused rather than
 * bounded in name only. */
int stk_output_check_stdin(int fd, struct stk_error *err)
{
    if (stdin_writable(fd)) {
        return stk_fail(err, STK_STEP_OUTPUT, EINVAL,
                        "stdin is writable (a socket or a read-write file): the output bound"
                        " would not cover it; give the command a read-only stdin");
    }
    return 0;
}

int stk_output_monitor_prepare(struct stk_output *o, const struct stk_spec *spec,
                               unsigned int tty_fds, struct stk_error *err)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < 2; i++) {
        o->streams[i].src = o->streams[i].dst = -1;
    }
    if (spec->max_output == 0) {
        return 0;
    }
    /* The relay covers fds 1 and 2. A terminal is the pty's, which counts against the same
     * budget. */
    if ((tty_fds & 1u) == 0 && stk_output_check_stdin(0, err) < 0) {
        return -1;
    }
    o->budget.active = true;
    o->budget.kill = spec->output_action == STK_OUTPUT_KILL;
    o->budget.max = spec->max_output;
    bool relay1 = (tty_fds & 2u) == 0;
    bool relay2 = (tty_fds & 4u) == 0;
    /* A warm sandbox's fds are /dev/null here: whether the command's stdout and stderr are
     * one file is known only at COMMAND (stk_output_monitor_redirect). */
    if (relay1 && relay2 && !spec->warm && same_file(1, 2)) {
        o->streams[o->count++].fds = (1 << 1) | (1 << 2);
    } else {
        if (relay1) {
            o->streams[o->count++].fds = 1 << 1;
        }
        if (relay2) {
            o->streams[o->count++].fds = 1 << 2;
        }
    }
    for (size_t i = 0; i < o->count; i++) {
        if (open_stream(&o->streams[i], (o->streams[i].fds & 2) != 0 ? 1 : 2, err) < 0) {
            stk_output_monitor_restore(o);
            return -1;
        }
    }
    return 0;
}

static int set_destination(struct stk_output_stream *s, int fd, struct stk_error *err)
{
    stk_close_fd(&s->dst);
    s->dst = fd;
    s->kind = dest_kind(fd);
    if (s->kind != DEST_PIPE && s->buf == NULL) {
        s->buf = malloc(STK_OUTPUT_CHUNK);
        if (s->buf == NULL) {
            return stk_fail(err, STK_STEP_OUTPUT, ENOMEM, "the relay buffer");
        }
    }
    return 0;
}

int stk_output_monitor_redirect(struct stk_output *o, int out_fd, int err_fd, bool *merged,
                                struct stk_error *err)
{
    *merged = o->count == 2 && same_file(out_fd, err_fd);
    int rc = 0;
    for (size_t i = 0; i < o->count; i++) {
        struct stk_output_stream *s = &o->streams[i];
        int fd = (s->fds & (1 << 1)) != 0 ? out_fd : err_fd;
        if (fd == err_fd && *merged) {
            /* Its pipe reads EOF once pid 1 put fd 1's pipe on fd 2. */
            stk_close_fd(&s->dst);
            continue;
        }
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, STK_PROGRESS_FD + 1);
        if (copy < 0) {
            rc = stk_fail(err, STK_STEP_OUTPUT, errno, "copying the command's output fd");
        } else if (set_destination(s, copy, err) < 0) {
            rc = -1;
        }
    }
    if (out_fd >= 0) {
        close(out_fd);
    }
    if (err_fd >= 0) {
        close(err_fd);
    }
    return rc;
}

void stk_output_monitor_restore(struct stk_output *o)
{
    for (size_t i = 0; i < o->count; i++) {
        struct stk_output_stream *s = &o->streams[i];
        for (int target = 1; target <= 2; target++) {
            if ((s->fds & (1 << target)) != 0 && s->dst >= 0) {
                dup2(s->dst, target);
            }
        }
    }
}

void stk_output_pid1_close(const struct stk_output *o)
{
    for (size_t i = 0; i < o->count; i++) {
        if (o->streams[i].src >= 0) {
            close(o->streams[i].src);
        }
        if (o->streams[i].dst >= 0) {
            close(o->streams[i].dst);
        }
    }
}

/* What the stream waits for: its destination's room, or its source's data. */
static bool waits_for_dest(const struct stk_output_stream *s)
{
    return s->dst >= 0 && (s->dst_full || s->len != 0);
}

size_t stk_output_poll_fds(const struct stk_output *o, struct pollfd *fds)
{
    for (size_t i = 0; i < o->count; i++) {
        const struct stk_output_stream *s = &o->streams[i];
        struct pollfd *src = &fds[2 * i];
        struct pollfd *dst = &fds[2 * i + 1];
        src->fd = dst->fd = -1;
        src->events = dst->events = 0;
        src->revents = dst->revents = 0;
        if (waits_for_dest(s)) {
            dst->fd = s->dst;
            dst->events = POLLOUT;
        } else if (s->src >= 0) {
            src->fd = s->src;
            src->events = POLLIN;
        }
    }
    return 2 * o->count;
}

/* The caller's end is closed (EPIPE) or broken: what comes is still counted, never sent. */
static void dest_gone(struct stk_output_stream *s)
{
    stk_close_fd(&s->dst);
    s->dst_full = false;
    s->len = s->pos = 0;
}

static void source_done(struct stk_output_stream *s)
{
    stk_close_fd(&s->src);
}

/* Reads and drops up to a chunk; counts it. */
static void drop_some(struct stk_output *o, struct stk_output_stream *s)
{
    static char sink[STK_OUTPUT_CHUNK];
    ssize_t n = read(s->src, sink, sizeof sink);
    if (n > 0) {
        /* Below the bound this happens only once the caller closed its end: what the command
         * writes then still spends the budget, as if it went to /dev/null. */
        (void)stk_output_admit(&o->budget, (size_t)n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        source_done(s);
    }
}

/* Pipe to pipe: splice moves at most what is admitted, never blocking (SPLICE_F_NONBLOCK is
 * about both pipes, not the files' flags). */
static void splice_some(struct stk_output *o, struct stk_output_stream *s)
{
    uint64_t room = o->budget.max - o->budget.delivered;
    if (room == 0) {
        drop_some(o, s);
        return;
    }
    size_t want = room < STK_OUTPUT_CHUNK ? (size_t)room : STK_OUTPUT_CHUNK;
    ssize_t n = splice(s->src, NULL, s->dst, NULL, want, SPLICE_F_NONBLOCK);
    if (n > 0) {
        stk_output_admit(&o->budget, (size_t)n);
        s->dst_full = false;
    } else if (n == 0) {
        source_done(s);
    } else if (errno == EAGAIN) {
        /* The source had data (poll said so): the caller's pipe is full. */
        s->dst_full = true;
    } else if (errno != EINTR) {
        dest_gone(s); /* EPIPE: the Java side closed its stream */
    }
}

static void read_into_buffer(struct stk_output *o, struct stk_output_stream *s)
{
    ssize_t n = read(s->src, s->buf, STK_OUTPUT_CHUNK);
    if (n > 0) {
        s->len = stk_output_admit(&o->budget, (size_t)n);
        s->pos = 0;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        source_done(s);
    }
}

static void write_buffer(struct stk_output_stream *s)
{
    ssize_t n;
    if (s->kind == DEST_SOCKET) {
        n = send(s->dst, s->buf + s->pos, s->len - s->pos, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
        n = write(s->dst, s->buf + s->pos, s->len - s->pos);
    }
    if (n > 0) {
        s->pos += (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        dest_gone(s);
        return;
    }
    if (s->pos == s->len) {
        s->len = s->pos = 0;
    }
}

static void relay_stream(struct stk_output *o, struct stk_output_stream *s,
                         const struct pollfd *src, const struct pollfd *dst)
{
    if (s->dst < 0) {
        if (src->revents != 0 && s->src >= 0) {
            drop_some(o, s);
        }
        return;
    }
    if (s->kind == DEST_PIPE) {
        if ((dst->revents & (POLLERR | POLLHUP)) != 0) {
            dest_gone(s);
        } else if (dst->revents != 0 || src->revents != 0) {
            s->dst_full = false;
            splice_some(o, s);
        }
        return;
    }
    if (s->len == 0 && src->revents != 0) {
        read_into_buffer(o, s);
    }
    if (s->len != 0) {
        write_buffer(s); /* at once: the destination usually has room */
    }
}

void stk_output_relay(struct stk_output *o, const struct pollfd *fds)
{
    for (size_t i = 0; i < o->count; i++) {
        struct stk_output_stream *s = &o->streams[i];
        const struct pollfd *src = &fds[2 * i];
        const struct pollfd *dst = &fds[2 * i + 1];
        /* poll reports a hung-up source with data still in it as POLLIN|POLLHUP: reading
         * finds the data first, then EOF. */
        relay_stream(o, s, src, dst);
    }
}

static bool drained(const struct stk_output *o)
{
    for (size_t i = 0; i < o->count; i++) {
        const struct stk_output_stream *s = &o->streams[i];
        if (s->src >= 0 || (s->dst >= 0 && s->len != 0)) {
            return false;
        }
    }
    return true;
}

void stk_output_monitor_drain(struct stk_output *o, int control_fd, bool killed)
{
    if (o->count == 0) {
        return;
    }
    struct pollfd fds[5];
    /* Without a pid namespace a process the command left behind may hold a relay pipe and
     * write a line now and then: the sources are read for at most this long, however often
     * data comes, so that EXITED cannot be held back by the step. */
    uint64_t stop_reading = stk_now_ns() + STK_DRAIN_MS * 1000000ull;
    while (!drained(o)) {
        uint64_t now = stk_now_ns();
        bool reading = now < stop_reading;
        if (!reading) {
            for (size_t i = 0; i < o->count; i++) {
                stk_close_fd(&o->streams[i].src);
            }
            if (drained(o)) {
                return;
            }
        }
        size_t n = stk_output_poll_fds(o, fds);
        /* Output the caller has yet to take is waited for as long as it takes (nothing below
         * the bound is lost), unless the sandbox was killed: a caller that waits for the end
         * before it reads must still hear of it, as with a pipe of its own, whose command the
         * kill ends with its unread output. A KILL frame (or the caller gone) ends the wait. */
        bool waiting_for_dest = false;
        for (size_t i = 0; i < o->count; i++) {
            waiting_for_dest = waiting_for_dest || fds[2 * i + 1].fd >= 0;
        }
        fds[n].fd = control_fd;
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        int wait_ms = waiting_for_dest && !killed ? -1 : STK_DRAIN_MS;
        if (reading) {
            int left = stk_ms_until(stop_reading, now);
            wait_ms = wait_ms < 0 || left < wait_ms ? left : wait_ms;
        }
        int ready = poll(fds, n + 1, wait_ms);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (fds[n].revents != 0 || (ready == 0 && (!reading || killed || !waiting_for_dest))) {
            return;
        }
        if (ready > 0) {
            stk_output_relay(o, fds);
        }
    }
}

void stk_output_monitor_close(struct stk_output *o)
{
    for (size_t i = 0; i < o->count; i++) {
        struct stk_output_stream *s = &o->streams[i];
        stk_close_fd(&s->src);
        stk_close_fd(&s->dst);
        free(s->buf);
        s->buf = NULL;
    }
    o->count = 0;
}
