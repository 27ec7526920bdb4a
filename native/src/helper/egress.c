#include "egress.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sys.h"

/* The forwarder is forked from pid 1 without exec and never execs: async-signal-safe calls
 * only, no allocation (its buffers are mapped once, before the fork), no stdio. */

/* How long the listener stays out of poll after an accept that failed for want of a resource
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending connection keeps the listener readable, and
 * polling it again at once would spin. */
#define ACCEPT_BACKOFF_MS 100

/* One direction of a connection: what was read from one side and is not yet sent to the
 * other. The side it comes from is read only while this has room (back-pressure). */
struct direction {
    uint8_t *buf;
    size_t start, len;
    bool eof;  /* the side it comes from reached EOF */
    bool shut; /* and the other side was shut for writing once everything was sent */
};

struct relay {
    int client;   /* the accepted TCP connection; -1: a free slot */
    int upstream; /* the stream to the proxy's socket */
    struct direction out; /* client -> upstream */
    struct direction in;  /* upstream -> client */
};

struct forwarder {
    int listener;
    uint32_t max;
    uint32_t open;
    uint64_t backoff_until_ns; /* 0: the listener may be polled */
    struct sockaddr_un target;
    uint8_t token[STK_EGRESS_TOKEN_SIZE]; /* the proxy serves only streams that begin with it */
    struct relay relays[STK_EGRESS_MAX_CONNECTIONS];
    /* The poll set: the listener, then two entries per open connection only (poll refuses
     * more entries than RLIMIT_NOFILE with EINVAL, so free slots take none), and which slot
     * each pair is. */
    struct pollfd fds[1 + 2 * STK_EGRESS_MAX_CONNECTIONS];
    uint32_t slot_of[STK_EGRESS_MAX_CONNECTIONS];
};

/* What of the token the first send did not take goes first in the client->upstream buffer. */
_Static_assert(STK_EGRESS_BUFFER_BYTES > STK_EGRESS_TOKEN_SIZE, "the token fits the buffer");

/* Static, not on pid 1's stack: the forwarder's copy is its whole state. */
static struct forwarder fw;

static int listen_inside(uint16_t port, int *listener, struct stk_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return stk_fail(err, STK_STEP_EGRESS, errno, "socket(AF_INET)");
    }
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *what = NULL;
    if (bind(fd, (const struct sockaddr *)&address, sizeof address) < 0) {
        what = "bind 127.0.0.1:";
    } else if (listen(fd, SOMAXCONN) < 0) {
        what = "listen 127.0.0.1:";
    }
    if (what != NULL) {
        int saved = errno;
        close(fd);
        stk_fail(err, STK_STEP_EGRESS, saved, what);
        stk_error_append_u64(err, port);
        return -1;
    }
    *listener = fd;
    return 0;
}

static void prepare(const struct stk_spec *spec, int listener, uint8_t *buffers)
{
    fw.listener = listener;
    fw.max = spec->egress_max_connections;
    fw.open = 0;
    fw.backoff_until_ns = 0;
    memset(&fw.target, 0, sizeof fw.target);
    fw.target.sun_family = AF_UNIX;
    /* spec.c checked that the path fits sun_path with its NUL. */
    memcpy(fw.target.sun_path, spec->egress_socket, stk_strlen(spec->egress_socket) + 1);
    memcpy(fw.token, spec->egress_token, sizeof fw.token);
    for (uint32_t i = 0; i < fw.max; i++) {
        struct relay *r = &fw.relays[i];
        memset(r, 0, sizeof *r);
        r->client = -1;
        r->upstream = -1;
        r->out.buf = buffers + (size_t)i * 2 * STK_EGRESS_BUFFER_BYTES;
        r->in.buf = r->out.buf + STK_EGRESS_BUFFER_BYTES;
    }
}

static void reset_direction(struct direction *d)
{
    d->start = 0;
    d->len = 0;
    d->eof = false;
    d->shut = false;
}

static void close_relay(struct relay *r)
{
    close(r->client);
    close(r->upstream);
    r->client = -1;
    r->upstream = -1;
    reset_direction(&r->out);
    reset_direction(&r->in);
    fw.open--;
}

static void back_off(void)
{
    fw.backoff_until_ns = stk_now_ns() + (uint64_t)ACCEPT_BACKOFF_MS * 1000000u;
}

static bool transient(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Accepts while the bound allows; a connection past it waits in the backlog until one
 * closes. The stream to the proxy is made before the accept, so that a lack of fds (EMFILE,
 * ENFILE) leaves the next client waiting in the backlog instead of accepting it only to drop
 * it. Its connect fails or succeeds at once (a UNIX stream never says EINPROGRESS); when it
 * fails (EAGAIN: the proxy's backlog is full; ECONNREFUSED, ENOENT: the proxy is gone) that
 * client is closed and no other is touched. */
static void accept_clients(void)
{
    while (fw.open < fw.max) {
        int upstream = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (upstream < 0) {
            back_off();
            return;
        }
        int client = accept4(fw.listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            int e = errno;
            close(upstream);
            if (e == EINTR || e == ECONNABORTED) {
                continue;
            }
            if (e != EAGAIN && e != EWOULDBLOCK) {
                back_off();
            }
            return;
        }
        /* The token leads the stream, before any byte of the client: it proves to the proxy
         * that the stream comes from this sandbox's forwarder. Sent at once (a new stream has
         * room for it), so that it is there even when the client is gone (a reset) before
         * the relay first runs; whatever does not fit goes first in the relay's buffer. */
        ssize_t sent = -1;
        if (connect(upstream, (const struct sockaddr *)&fw.target, sizeof fw.target) == 0) {
            sent = send(upstream, fw.token, sizeof fw.token, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0 && transient(errno)) {
                sent = 0;
            }
        }
        if (sent < 0) {
            close(upstream);
            close(client);
            continue;
        }
        for (uint32_t i = 0; i < fw.max; i++) {
            struct relay *r = &fw.relays[i];
            if (r->client < 0) {
                r->client = client;
                r->upstream = upstream;
                r->out.len = sizeof fw.token - (size_t)sent;
                memcpy(r->out.buf, fw.token + sent, r->out.len);
                fw.open++;
                break;
            }
        }
    }
}

static short read_interest(const struct direction *d)
{
    return !d->eof && d->len < STK_EGRESS_BUFFER_BYTES ? POLLIN : 0;
}

static short write_interest(const struct direction *d)
{
    return d->len > 0 ? POLLOUT : 0;
}

static void watch(struct pollfd *p, int fd, short events)
{
    p->fd = fd;
    p->events = events;
    p->revents = 0;
}

/* Whether a side is done: everything it sent was passed on (and its EOF), and nothing waits
 * to be sent to it. */
static bool side_done(const struct direction *from_side, const struct direction *to_side)
{
    return from_side->shut && to_side->len == 0;
}

/* A side that is done is still watched with no events: poll reports POLLHUP and POLLERR
 * anyway, and its hang-up (the proxy closing an idle connection) ends the connection instead
 * of holding its slot while the other side stays open. Any other side with nothing to do (it
 * waits for room toward its peer) is left out of poll (fd -1): its hang-up would wake the
 * loop again and again; the relay learns of it once it reads or writes that side again. */
static void watch_side(struct pollfd *p, int fd, const struct direction *from_side,
                       const struct direction *to_side)
{
    short events = (short)(read_interest(from_side) | write_interest(to_side));
    watch(p, events != 0 || side_done(from_side, to_side) ? fd : -1, events);
}

static int poll_timeout(void)
{
    if (fw.backoff_until_ns == 0) {
        return -1;
    }
    uint64_t now = stk_now_ns();
    if (now >= fw.backoff_until_ns) {
        fw.backoff_until_ns = 0;
        return -1;
    }
    return stk_ms_until(fw.backoff_until_ns, now);
}

/* Returns the number of entries. */
static nfds_t build_poll_set(bool listening)
{
    watch(&fw.fds[0], listening ? fw.listener : -1, POLLIN);
    nfds_t n = 1;
    for (uint32_t i = 0; i < fw.max; i++) {
        const struct relay *r = &fw.relays[i];
        if (r->client < 0) {
            continue;
        }
        fw.slot_of[(n - 1) / 2] = i;
        watch_side(&fw.fds[n], r->client, &r->out, &r->in);
        watch_side(&fw.fds[n + 1], r->upstream, &r->in, &r->out);
        n += 2;
    }
    return n;
}

/* Moves what `from` has to `to` as far as each is ready; -1 when either failed (reset, broken
 * pipe): the whole connection is closed then. EOF from `from` is passed on as a shutdown of
 * `to` for writing once everything before it was sent; the other direction goes on. */
static int pump(int from, int to, struct direction *d, short from_events, short to_events)
{
    if ((from_events & (POLLIN | POLLHUP | POLLERR)) != 0 && read_interest(d) != 0) {
        if (d->start > 0 && d->start + d->len == STK_EGRESS_BUFFER_BYTES) {
            memmove(d->buf, d->buf + d->start, d->len);
            d->start = 0;
        }
        size_t room = STK_EGRESS_BUFFER_BYTES - d->start - d->len;
        ssize_t n = recv(from, d->buf + d->start + d->len, room, MSG_DONTWAIT);
        if (n > 0) {
            d->len += (size_t)n;
        } else if (n == 0) {
            d->eof = true;
        } else if (!transient(errno)) {
            return -1;
        }
    }
    if ((to_events & (POLLOUT | POLLHUP | POLLERR)) != 0 && d->len > 0) {
        ssize_t n = send(to, d->buf + d->start, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            d->start += (size_t)n;
            d->len -= (size_t)n;
            if (d->len == 0) {
                d->start = 0;
            }
        } else if (n < 0 && !transient(errno)) {
            return -1;
        }
    }
    if (d->eof && d->len == 0 && !d->shut) {
        if (shutdown(to, SHUT_WR) < 0) {
            return -1;
        }
        d->shut = true;
    }
    return 0;
}

static void service(struct relay *r, short client_events, short upstream_events)
{
    if (client_events == 0 && upstream_events == 0) {
        return;
    }
    const short gone = POLLHUP | POLLERR;
    if (pump(r->client, r->upstream, &r->out, client_events, upstream_events) < 0 ||
        pump(r->upstream, r->client, &r->in, upstream_events, client_events) < 0 ||
        (r->out.shut && r->in.shut) ||
        ((client_events & gone) != 0 && side_done(&r->out, &r->in)) ||
        ((upstream_events & gone) != 0 && side_done(&r->in, &r->out))) {
        close_relay(r);
    }
}

static _Noreturn void forward(pid_t parent)
{
    /* The forwarder dies with pid 1 (a pid namespace would end it anyway; without one nothing
     * else would). pid 1 may already be gone: then the signal was never armed. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) {
        _exit(0);
    }
    /* Nothing of pid 1's but the listener: the command's stdio (a held stdout pipe would keep
     * the caller's reader waiting), the status socket, the sync pipe, the pty's slave. */
    if ((fw.listener > 0 && close_range(0, (unsigned int)fw.listener - 1, 0) < 0) ||
        close_range((unsigned int)fw.listener + 1, ~0U, 0) < 0) {
        _exit(STK_EXIT_SETUP);
    }
    for (;;) {
        int timeout = poll_timeout();
        nfds_t count = build_poll_set(fw.open < fw.max && fw.backoff_until_ns == 0);
        if (poll(fw.fds, count, timeout) < 0) {
            if (errno != EINTR) {
                /* ENOMEM for the moment, or EINVAL: RLIMIT_NOFILE lowered below the fds the
                 * open connections hold. */
                poll(NULL, 0, ACCEPT_BACKOFF_MS);
            }
            continue;
        }
        short listener_events = fw.fds[0].revents;
        for (nfds_t k = 1; k < count; k += 2) {
            service(&fw.relays[fw.slot_of[(k - 1) / 2]], fw.fds[k].revents, fw.fds[k + 1].revents);
        }
        if (listener_events != 0) {
            accept_clients();
        }
    }
}

pid_t stk_egress_start(const struct stk_spec *spec, struct stk_error *err)
{
    int listener = -1;
    if (listen_inside(spec->egress_port, &listener, err) < 0) {
        return -1;
    }
    size_t bytes = (size_t)spec->egress_max_connections * 2 * STK_EGRESS_BUFFER_BYTES;
    void *buffers = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffers == MAP_FAILED) {
        int saved = errno;
        close(listener);
        return stk_fail(err, STK_STEP_EGRESS, saved, "mmap of the forwarder's buffers");
    }
    prepare(spec, listener, buffers);
    pid_t parent = getpid();
    pid_t pid = stk_clone(SIGCHLD);
    if (pid == 0) {
        forward(parent);
    }
    int saved = errno;
    /* Only the forwarder needs its copy. */
    memset(fw.token, 0, sizeof fw.token);
    munmap(buffers, bytes);
    close(listener);
    if (pid < 0) {
        return stk_fail(err, STK_STEP_EGRESS, saved, "fork of the egress forwarder");
    }
    return pid;
}
