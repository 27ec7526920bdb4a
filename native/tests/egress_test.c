/*
 * Tests of the egress forwarder (STK_F_EGRESS, src/helper/egress.c) with the real kernel:
 *
 *     egress_test --list
 *     egress_test <stockade-helper> <stk_egress_client> <test-name|all>
 *
 * Each test serves a UNIX stream socket on the host (a server thread per connection, below),
 * binds it into the sandbox read-only at STK_EGRESS_SOCKET as the Java side does, and runs
 * stk_egress_client (egress_client.c) inside, which connects to 127.0.0.1:<port>. Both ends
 * check every byte against egress_pattern.h. Every stream the server accepts must begin with
 * the spec's token (a fresh random one per server), as the Java proxy requires: a stream
 * without it fails the test. Every test passes as root and as an unprivileged user.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress_pattern.h"
#include "spec_writer.h"
#include "stockade.h"

#define RUN_TIMEOUT_S 60
/* Only to stop a hang: how long the server waits for a barrier or for its workers' end. */
#define SERVER_WAIT_S 30
#define PORT STK_EGRESS_PORT

static const char *helper;
static const char *client;
static char client_dir[4096];

static bool is_root(void)
{
    return getuid() == 0;
}

/* ---- the proxy's stand-in: a UNIX socket server on the host ---- */

struct server {
    char dir[64];
    char path[128];
    int fd;
    int stop[2];
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active, max_active, workers;
    int verified, failed;
    int tokenless; /* streams that did not begin with the token */
    uint8_t token[STK_EGRESS_TOKEN_SIZE];
    char log[4096];
    size_t log_len;
};

struct worker {
    struct server *s;
    int fd;
};

static void server_log(struct server *s, const char *line)
{
    pthread_mutex_lock(&s->mu);
    size_t n = strlen(line);
    if (s->log_len + n < sizeof s->log) {
        memcpy(s->log + s->log_len, line, n + 1);
        s->log_len += n;
    }
    pthread_mutex_unlock(&s->mu);
}

static void count_result(struct server *s, bool ok, const char *why)
{
    pthread_mutex_lock(&s->mu);
    if (ok) {
        s->verified++;
    } else {
        s->failed++;
        fprintf(stderr, "server: %s\n", why);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Reads one line; false at EOF or error, *got saying how many bytes came before it. */
static bool read_header(int fd, char *line, size_t size, size_t *got)
{
    size_t n = 0;
    *got = 0;
    while (n + 1 < size) {
        ssize_t k = read(fd, line + n, 1);
        if (k <= 0) {
            line[n] = '\0';
            *got = n;
            return false;
        }
        if (line[n++] == '\n') {
            break;
        }
    }
    line[n] = '\0';
    return true;
}

static bool send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static struct timespec deadline_in(int seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += seconds;
    return t;
}

/* "X up down seed barrier": waits until `barrier` connections were open at once, reads the
 * request to EOF, checks it, sends the reply. */
static void serve_exchange(struct server *s, int fd, const char *header)
{
    size_t up, down;
    unsigned seed, barrier;
    if (sscanf(header, "X %zu %zu %u %u", &up, &down, &seed, &barrier) != 4) {
        count_result(s, false, "bad exchange header");
        return;
    }
    pthread_mutex_lock(&s->mu);
    struct timespec until = deadline_in(SERVER_WAIT_S);
    /* Once that many were open together (a late worker may see some closed already). */
    while (s->max_active < (int)barrier &&
           pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
    }
    bool together = s->max_active >= (int)barrier;
    pthread_mutex_unlock(&s->mu);
    static __thread uint8_t buf[65536];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (got + (size_t)n > up ||
            egress_pattern_check(seed, got, buf, (size_t)n) != (size_t)n) {
            count_result(s, false, "request bytes differ");
            return;
        }
        got += (size_t)n;
    }
    if (got != up || !together) {
        count_result(s, false, got != up ? "request short" : "barrier never reached");
        return;
    }
    for (size_t sent = 0; sent < down;) {
        size_t n = down - sent < sizeof buf ? down - sent : sizeof buf;
        egress_pattern_fill(EGRESS_REPLY_SEED(seed), sent, buf, n);
        if (!send_all(fd, buf, n)) {
            count_result(s, false, "reply send failed");
            return;
        }
        sent += n;
    }
    count_result(s, true, NULL);
}

static void serve_hold(struct server *s, int fd, const char *header)
{
    unsigned k;
    char line[64];
    if (sscanf(header, "H %u", &k) != 1) {
        count_result(s, false, "bad hold header");
        return;
    }
    snprintf(line, sizeof line, "open %u\n", k);
    server_log(s, line);
    snprintf(line, sizeof line, "held %u\n", k);
    send_all(fd, line, strlen(line));
    char c;
    while (read(fd, &c, 1) > 0) {
    }
    snprintf(line, sizeof line, "close %u\n", k);
    server_log(s, line);
}

/* What the proxy does first: exactly STK_EGRESS_TOKEN_SIZE bytes, equal to the spec's token.
 * Bounded in time: a stream without it (its client waiting for a reply) fails, not hangs. */
static bool read_token(struct server *s, int fd)
{
    struct timeval limit = {.tv_sec = SERVER_WAIT_S}, none = {0};
    uint8_t got[STK_EGRESS_TOKEN_SIZE];
    size_t n = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    while (n < sizeof got) {
        ssize_t k = read(fd, got + n, sizeof got - n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        n += (size_t)k;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    if (n == sizeof got && memcmp(got, s->token, sizeof got) == 0) {
        return true;
    }
    pthread_mutex_lock(&s->mu);
    s->tokenless++;
    pthread_mutex_unlock(&s->mu);
    count_result(s, false, n == sizeof got ? "a stream began with other bytes than the token"
                                           : "a stream ended before the token");
    return false;
}

/* "T k" then EOF, or nothing at all after the token: anything more (a second token, any byte)
 * fails. Replies "token k" ("token 0" for the empty stream). */
static void serve_token_once(struct server *s, int fd, const char *header, bool empty)
{
    unsigned k = 0;
    char rest[64], line[64];
    if (!empty && sscanf(header, "T %u", &k) != 1) {
        count_result(s, false, "bad token header");
        return;
    }
    size_t extra = 0;
    for (;;) {
        ssize_t n = read(fd, rest, sizeof rest);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        extra += (size_t)n;
    }
    if (extra != 0) {
        fprintf(stderr, "server: stream %u: %zu bytes after the request\n", k, extra);
        count_result(s, false, "bytes after the request (the token again?)");
        return;
    }
    snprintf(line, sizeof line, "token %u\n", k);
    send_all(fd, line, strlen(line));
    count_result(s, true, NULL);
}

static void *serve(void *arg)
{
    struct worker *w = arg;
    struct server *s = w->s;
    char header[128];
    size_t got;
    if (!read_token(s, w->fd)) {
        /* closed below */
    } else if (!read_header(w->fd, header, sizeof header, &got)) {
        if (got == 0) {
            serve_token_once(s, w->fd, header, true);
        }
    } else {
        if (header[0] == 'T') {
            serve_token_once(s, w->fd, header, false);
        } else if (header[0] == 'X') {
            serve_exchange(s, w->fd, header);
        } else if (header[0] == 'H') {
            serve_hold(s, w->fd, header);
        } else if (header[0] == 'F') {
            /* A flood nobody reads: ends when the sandbox (the forwarder) is gone. */
            static __thread uint8_t buf[65536];
            memset(buf, 'f', sizeof buf);
            while (send_all(w->fd, buf, sizeof buf)) {
            }
        } else if (header[0] == 'C') {
            /* The proxy ending a connection (its idle timeout): closed both ways at once. */
            send_all(w->fd, "bye\n", 4);
        } else if (header[0] == 'S') {
            /* Never reads; waits for the other side's end. */
            struct pollfd p = {.fd = w->fd, .events = POLLRDHUP};
            while (poll(&p, 1, -1) < 0 && errno == EINTR) {
            }
        }
    }
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_mutex_unlock(&s->mu);
    close(w->fd);
    pthread_mutex_lock(&s->mu);
    s->workers--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    free(w);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            continue;
        }
        if (p[1].revents != 0) {
            return NULL;
        }
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        struct worker *w = malloc(sizeof *w);
        w->s = s;
        w->fd = fd;
        pthread_mutex_lock(&s->mu);
        s->active++;
        s->workers++;
        if (s->active > s->max_active) {
            s->max_active = s->active;
        }
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_t t;
        pthread_create(&t, NULL, serve, w);
        pthread_detach(t);
    }
}

/* A socket everyone may connect to (the sandbox's uid is not the caller's for a root caller),
 * in a directory everyone may search: the Java side makes its socket so too. */
static void server_start(struct server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (getrandom(s->token, sizeof s->token, 0) != (ssize_t)sizeof s->token) {
        perror("getrandom");
        exit(2);
    }
    snprintf(s->dir, sizeof s->dir, "/tmp/stk-egress-XXXXXX");
    if (mkdtemp(s->dir) == NULL || chmod(s->dir, 0755) != 0) {
        perror("server dir");
        exit(2);
    }
    snprintf(s->path, sizeof s->path, "%s/proxy.sock", s->dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, s->path, strlen(s->path) + 1);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        chmod(s->path, 0666) != 0 || listen(s->fd, 512) < 0 || pipe2(s->stop, O_CLOEXEC) < 0) {
        perror("server socket");
        exit(2);
    }
    pthread_create(&s->acceptor, NULL, accept_loop, s);
}

/* Stops accepting and waits (bounded) until every worker ended: each one's connection closes
 * when the forwarder does, so a worker left means a connection the sandbox's end did not
 * close. */
static void server_stop(struct server *s)
{
    if (write(s->stop[1], "x", 1) != 1) {
        perror("server stop");
    }
    pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->mu);
    struct timespec until = deadline_in(SERVER_WAIT_S);
    while (s->workers > 0 && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
    }
    int left = s->workers;
    int tokenless = s->tokenless;
    pthread_mutex_unlock(&s->mu);
    EXPECT(left == 0, "every relayed connection closed with the sandbox (%d left)", left);
    EXPECT(tokenless == 0, "every stream began with the token (%d did not)", tokenless);
    close(s->fd);
    close(s->stop[0]);
    close(s->stop[1]);
    unlink(s->path);
    rmdir(s->dir);
}

/* ---- specs and runs ---- */

static void egress_spec(struct spec_buf *b, const struct server *s, uint32_t namespaces,
                        uint32_t max_connections, const char *const *args)
{
    spec_init(b);
    spec_string(b, STK_F_ARG, client);
    for (size_t i = 0; args[i] != NULL; i++) {
        spec_string(b, STK_F_ARG, args[i]);
    }
    spec_u32(b, STK_F_NAMESPACES, namespaces);
    spec_host_view(b);
    spec_bind(b, client_dir, client_dir, true);
    spec_tmpfs(b, "/run", 1u << 20);
    spec_bind_flags(b, s->path, STK_EGRESS_SOCKET, STK_MOUNT_READONLY | STK_MOUNT_SPECIAL);
    spec_egress(b, PORT, max_connections, s->token, STK_EGRESS_SOCKET,
                strlen(STK_EGRESS_SOCKET));
}

static void run(struct spec_buf *b, const struct run_options *o, struct run_result *r)
{
    size_t len;
    const uint8_t *frame = spec_finish(b, &len);
    if (run_helper(helper, frame, len, o, r, RUN_TIMEOUT_S) < 0) {
        fprintf(stderr, "harness failure\n");
        stk_test_failures++;
    }
    EXPECT(!r->bad_frame, "every event frame well-formed");
}

static void expect_exit_output(const struct run_result *r, const char *expected)
{
    int before = stk_test_failures;
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED, no ERROR");
    EXPECT(WIFEXITED(r->wait_status) && WEXITSTATUS(r->wait_status) == 0, "exit code 0");
    EXPECT(strcmp(r->out, expected) == 0, "stdout [%s]", expected);
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 0, "helper exits 0");
    if (stk_test_failures != before) {
        stk_describe_run(r);
    }
}

/* Runs the client with args and a fresh server; returns the server's counts in *out. */
static void run_client(uint32_t namespaces, uint32_t max_connections, const char *const *args,
                       const char *expected, struct server *s)
{
    server_start(s);
    struct spec_buf b;
    struct run_result r;
    egress_spec(&b, s, namespaces, max_connections, args);
    run(&b, NULL, &r);
    expect_exit_output(&r, expected);
    run_result_free(&r);
    spec_free(&b);
    server_stop(s);
}

#define PORT_ARG "3128"

/* ---- tests ---- */

/* 12 MiB up and 11 MiB down on one connection, byte-identical, the reply sent only after the
 * request's EOF (half-close); and the smallest exchange, a request with no body. */
static void test_relay(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"exchange", PORT_ARG, "12582912", "11534336", "1", NULL},
               "ok 1\n", &s);
    EXPECT(s.verified == 1 && s.failed == 0, "the server checked the request (%d/%d)",
           s.verified, s.failed);
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"exchange", PORT_ARG, "0", "5", "1", NULL}, "ok 1\n", &s);
    EXPECT(s.verified == 1 && s.failed == 0, "empty request (%d/%d)", s.verified, s.failed);
}

/* The token leads every stream exactly once, before the client's first byte: five streams
 * open at once and one on which the client sends nothing; each arrives at the server as the
 * token, the request, EOF (the server fails a stream with anything else). */
static void test_token_once(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"token", PORT_ARG, "5", NULL}, "ok 5\n", &s);
    EXPECT(s.verified == 6 && s.failed == 0 && s.tokenless == 0,
           "six streams, each the token once and first (%d/%d, %d without)", s.verified,
           s.failed, s.tokenless);
}

/* A client reset right after its connect, before the forwarder first relays for it (the
 * kernel still hands it to accept): each of the 20 streams to the server began with the token (the proxy must not take it for a stream
 * from elsewhere), and the forwarder serves on. */
static void test_token_on_reset(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"reset", PORT_ARG, "20", NULL}, "ok 20\n", &s);
    EXPECT(s.failed == 0 && s.tokenless == 0 && s.verified == 21,
           "every stream began with the token (%d/%d, %d without)", s.verified, s.failed,
           s.tokenless);
}

/* Eight connections open at the server at once (it replies to none before all eight are
 * there), each 1 MiB both ways. */
static void test_concurrent(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"exchange", PORT_ARG, "1048576", "1048576", "8", NULL},
               "ok 8\n", &s);
    EXPECT(s.verified == 8 && s.failed == 0, "eight verified (%d/%d)", s.verified, s.failed);
    EXPECT(s.max_active == 8, "eight at once (%d)", s.max_active);
}

/* max_connections 2: the third connection reaches the server only after the first closed,
 * and then it does. */
static void test_bound(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, 2, (const char *const[]){"bound", PORT_ARG, NULL},
               "ok\n", &s);
    EXPECT(strncmp(s.log, "open 1\nopen 2\nclose 1\nopen 3\n", 28) == 0,
           "the third waited for the first: [%s]", s.log);
    EXPECT(s.max_active == 2, "at most two at once (%d)", s.max_active);
}

/* A connection whose reply is never read and one whose request is never read hold only their
 * own buffers: a third one's exchange goes through. */
static void test_stall(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
               (const char *const[]){"stall", PORT_ARG, NULL}, "ok\n", &s);
    EXPECT(s.verified == 1 && s.failed == 0, "the third exchange verified (%d/%d)", s.verified,
           s.failed);
}

/* The proxy's socket bound but listening with `backlog` (-1: not listening at all) and never
 * accepting; closed by the caller. */
static int stuck_proxy(struct server *s, int backlog)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/stk-egress-XXXXXX");
    if (mkdtemp(s->dir) == NULL || chmod(s->dir, 0755) != 0) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(s->path, sizeof s->path, "%s/proxy.sock", s->dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, s->path, strlen(s->path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || chmod(s->path, 0666) != 0 ||
        (backlog >= 0 && listen(fd, backlog) < 0)) {
        perror("stuck proxy socket");
        exit(2);
    }
    return fd;
}

static void run_with_stuck_proxy(int backlog, const char *const *args, const char *expected)
{
    struct server s;
    int fd = stuck_proxy(&s, backlog);
    struct spec_buf b;
    struct run_result r;
    egress_spec(&b, &s, STK_ALLOWED_NAMESPACES, 4, args);
    run(&b, NULL, &r);
    expect_exit_output(&r, expected);
    run_result_free(&r);
    spec_free(&b);
    close(fd);
    unlink(s.path);
    rmdir(s.dir);
}

/* A proxy that refuses (ECONNREFUSED: its socket is not listening) costs the client its
 * connection and nothing else: more connections than the bound (4), one after another, are
 * each closed, none keeps a slot. */
static void test_proxy_refuses(void)
{
    run_with_stuck_proxy(-1, (const char *const[]){"refused", PORT_ARG, "20", NULL}, "ok 20\n");
}

/* A proxy whose backlog is full (the non-blocking connect's EAGAIN): that client is closed,
 * the one queued before it stays. */
static void test_proxy_backlog_full(void)
{
    run_with_stuck_proxy(0, (const char *const[]){"backlog", PORT_ARG, NULL}, "ok\n");
}

struct fd_limit {
    pid_t helper;
    int rc;
    int err;
};

static pid_t child_named(pid_t parent, const char *comm);

/* Lowers the forwarder's own fd limit while the command waits: 12 fds hold five connections. */
static void limit_forwarder_fds(void *ctx)
{
    struct fd_limit *l = ctx;
    pid_t monitor = child_named(l->helper, "stockade-helper");
    pid_t pid1 = monitor > 0 ? child_named(monitor, "stockade-helper") : 0;
    pid_t forwarder = pid1 > 0 ? child_named(pid1, "stockade-helper") : 0;
    struct rlimit limit = {.rlim_cur = 12, .rlim_max = 12};
    l->rc = forwarder > 0 ? prlimit(forwarder, RLIMIT_NOFILE, &limit, NULL) : -2;
    l->err = errno;
}

/* Out of fds (EMFILE), the forwarder leaves further clients in the backlog (it makes the
 * stream to the proxy before it accepts, and backs off) and takes them as others close: all
 * 24 connections are answered, never more than its fds allow at once. */
static void test_out_of_fds(void)
{
    struct server s;
    server_start(&s);
    struct spec_buf b;
    struct run_result r;
    egress_spec(&b, &s, STK_ALLOWED_NAMESPACES, STK_EGRESS_MAX_CONNECTIONS,
                (const char *const[]){"many", PORT_ARG, "24", NULL});
    struct fd_limit l = {.helper = getpid()};
    struct run_options o = {.wait_for_stdout = "ready\n", .hold_stdin = true,
                            .on_ready = limit_forwarder_fds, .ctx = &l};
    run(&b, &o, &r);
    EXPECT(l.rc == 0, "prlimit of the forwarder (rc %d, errno %d)", l.rc, l.err);
    expect_exit_output(&r, "ready\nok 24\n");
    run_result_free(&r);
    spec_free(&b);
    server_stop(&s);
    EXPECT(s.max_active >= 1 && s.max_active <= 6, "at most what 12 fds hold at once (%d)",
           s.max_active);
}

/* The proxy closing a connection (its idle timeout) ends it in the forwarder too, though the
 * client keeps its side open: with max_connections 1 the next connection gets the slot. */
static void test_proxy_closes(void)
{
    struct server s;
    run_client(STK_ALLOWED_NAMESPACES, 1, (const char *const[]){"proxy_closes", PORT_ARG, NULL},
               "ok\n", &s);
    EXPECT(strcmp(s.log, "open 2\nclose 2\n") == 0, "the second one served [%s]", s.log);
}

/* The EGRESS field is port, max_connections, the token and the path, cut to `length` bytes
 * when that is shorter. */
static void expect_spec_refusal_cut(const struct server *s, uint32_t namespaces, uint32_t port,
                                    uint32_t max, const uint8_t *token, const char *path,
                                    size_t path_len, size_t length, const char *detail)
{
    uint8_t value[8 + STK_EGRESS_TOKEN_SIZE + 256];
    const uint32_t u32s[2] = {port, max};
    for (size_t i = 0; i < 8; i++) {
        value[i] = (uint8_t)(u32s[i / 4] >> (8 * (i % 4))); /* little-endian, as every u32 */
    }
    memcpy(value + 8, token, STK_EGRESS_TOKEN_SIZE);
    memcpy(value + 8 + STK_EGRESS_TOKEN_SIZE, path, path_len);
    size_t full = 8 + STK_EGRESS_TOKEN_SIZE + path_len;
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_string(&b, STK_F_ARG, client);
    spec_u32(&b, STK_F_NAMESPACES, namespaces);
    if ((namespaces & CLONE_NEWNS) != 0) {
        /* (Without NEWNS a MOUNT would be refused first, for itself.) */
        spec_bind_flags(&b, s->path, STK_EGRESS_SOCKET, STK_MOUNT_READONLY | STK_MOUNT_SPECIAL);
    }
    spec_bytes_field(&b, STK_F_EGRESS, value, length < full ? length : full);
    run(&b, NULL, &r);
    int before = stk_test_failures;
    EXPECT(r.error && !r.started && r.events == 1, "exactly one ERROR");
    EXPECT(strcmp(r.step, "spec") == 0 && r.err_errno == EINVAL && r.err_exit_code == 125,
           "spec / EINVAL / 125, got %s / %u / %u", r.step, r.err_errno, r.err_exit_code);
    EXPECT(strcmp(r.detail, detail) == 0, "detail [%s], got [%s]", detail, r.detail);
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
    spec_free(&b);
}

static void expect_spec_refusal(const struct server *s, uint32_t namespaces, uint32_t port,
                                uint32_t max, const char *path, size_t path_len,
                                const char *detail)
{
    expect_spec_refusal_cut(s, namespaces, port, max, s->token, path, path_len, SIZE_MAX, detail);
}

/* Each bad EGRESS value is refused before anything starts, naming the field. */
static void test_spec_refusals(void)
{
    struct server s;
    server_start(&s);
    const uint32_t all = STK_ALLOWED_NAMESPACES;
    const char *sock = STK_EGRESS_SOCKET;
    size_t sock_len = strlen(sock);
    char long_path[108];
    memset(long_path, 'a', sizeof long_path);
    long_path[0] = '/';
    const char *short_field = "EGRESS: shorter than port, max_connections, token and path";
    const char *not_absolute =
        "EGRESS: the socket path must be absolute and shorter than 108 bytes";
    /* 24 bytes: the token without a path; 23: the token cut short; 9: the u32s and a path of
     * one byte (the layout before the token); 8: the u32s alone. */
    expect_spec_refusal(&s, all, PORT, 1, "", 0, short_field);
    expect_spec_refusal_cut(&s, all, PORT, 1, s.token, "/", 1, 8 + STK_EGRESS_TOKEN_SIZE - 1,
                            short_field);
    expect_spec_refusal_cut(&s, all, PORT, 1, s.token, "/", 1, 9, short_field);
    expect_spec_refusal_cut(&s, all, PORT, 1, s.token, "/", 1, 8, short_field);
    /* The layout before the token with the real path is read as a token of the path's first
     * 16 bytes and a relative rest: refused, not half-used. */
    expect_spec_refusal_cut(&s, all, PORT, 1, (const uint8_t *)sock,
                            sock + STK_EGRESS_TOKEN_SIZE, sock_len - STK_EGRESS_TOKEN_SIZE,
                            SIZE_MAX, not_absolute);
    expect_spec_refusal(&s, all, 0, 1, sock, sock_len, "EGRESS: port must be 1..65535");
    expect_spec_refusal(&s, all, 65536, 1, sock, sock_len, "EGRESS: port must be 1..65535");
    expect_spec_refusal(&s, all, PORT, 0, sock, sock_len, "EGRESS: max_connections must be 1..256");
    expect_spec_refusal(&s, all, PORT, STK_EGRESS_MAX_CONNECTIONS + 1, sock, sock_len,
                        "EGRESS: max_connections must be 1..256");
    expect_spec_refusal(&s, all, PORT, 1, "run/stockade-egress.sock", 24,
                        "EGRESS: the socket path must be absolute and shorter than 108 bytes");
    expect_spec_refusal(&s, all, PORT, 1, long_path, sizeof long_path,
                        "EGRESS: the socket path must be absolute and shorter than 108 bytes");
    expect_spec_refusal(&s, all, PORT, 1, "/run/a\0b", 8, "EGRESS #0: contains a NUL byte");
    expect_spec_refusal(&s, all & ~(uint32_t)CLONE_NEWNET, PORT, 1, sock, sock_len,
                        "EGRESS: needs CLONE_NEWNET and CLONE_NEWNS in NAMESPACES");
    expect_spec_refusal(&s, all & ~(uint32_t)CLONE_NEWNS, PORT, 1, sock, sock_len,
                        "EGRESS: needs CLONE_NEWNET and CLONE_NEWNS in NAMESPACES");
    server_stop(&s);
}

/* The forwarder listens after pid 1 dropped its capabilities: a privileged port is refused
 * (the new network namespace's ip_unprivileged_port_start is the kernel's 1024), step egress
 * with the errno, and nothing runs. */
static void test_listen_error(void)
{
    struct server s;
    server_start(&s);
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_string(&b, STK_F_ARG, client);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    spec_host_view(&b);
    spec_tmpfs(&b, "/run", 1u << 20);
    spec_bind_flags(&b, s.path, STK_EGRESS_SOCKET, STK_MOUNT_READONLY | STK_MOUNT_SPECIAL);
    spec_egress(&b, 80, 1, s.token, STK_EGRESS_SOCKET, strlen(STK_EGRESS_SOCKET));
    run(&b, NULL, &r);
    int before = stk_test_failures;
    EXPECT(r.error && !r.started && r.events == 1, "exactly one ERROR");
    EXPECT(strcmp(r.step, "egress") == 0 && r.err_errno == EACCES && r.err_exit_code == 125,
           "egress / EACCES / 125, got %s / %u / %u", r.step, r.err_errno, r.err_exit_code);
    EXPECT(strcmp(r.detail, "bind 127.0.0.1:80") == 0, "detail [%s]", r.detail);
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
    spec_free(&b);
    server_stop(&s);
}

/* ---- the forwarder as a process ---- */

/* The children of `parent` named `comm` (without exec, the forwarder keeps the helper's). */
static pid_t child_named(pid_t parent, const char *comm)
{
    DIR *d = opendir("/proc");
    pid_t found = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        int ppid;
        if (open == NULL || close == NULL || sscanf(close + 2, "%*c %d", &ppid) != 1) {
            continue;
        }
        if (ppid == parent && (size_t)(close - open - 1) == strlen(comm) &&
            strncmp(open + 1, comm, strlen(comm)) == 0) {
            found = (pid_t)atoi(e->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return found;
}

static bool gone_or_zombie(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return true;
    }
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    char *close = strrchr(stat, ')');
    return close == NULL || close[2] == 'Z' || close[2] == 'X';
}

static char *status_line(pid_t pid, const char *key, char *out, size_t size)
{
    char path[64], line[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            snprintf(out, size, "%s", line);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return out;
}

struct forwarder_probe {
    pid_t helper; /* this test process, the helper's parent */
    pid_t forwarder;
    int fd_count;       /* -1: /proc/<pid>/fd refused */
    int fd_errno;
    bool listener_only; /* the one fd is the socket listening on 127.0.0.1:PORT */
    char cap_eff[64];
};

/* The inode of the socket listening on 127.0.0.1:PORT in pid's network namespace, 0 when
 * none. */
static unsigned long listening_inode(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/net/tcp", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long inode = 0;
    char expected[32];
    snprintf(expected, sizeof expected, "0100007F:%04X", PORT);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char local[64], remote[64], state[8];
        unsigned long ino;
        if (sscanf(line, " %*s %63s %63s %7s %*s %*s %*s %*s %*s %lu", local, remote, state,
                   &ino) == 4 &&
            strcmp(local, expected) == 0 && strcmp(state, "0A") == 0) {
            inode = ino;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return inode;
}

static void inspect_forwarder(void *ctx)
{
    struct forwarder_probe *p = ctx;
    /* This process's one child of that name is the monitor; its child is pid 1. */
    pid_t monitor = child_named(p->helper, "stockade-helper");
    pid_t pid1 = monitor > 0 ? child_named(monitor, "stockade-helper") : 0;
    p->forwarder = pid1 > 0 ? child_named(pid1, "stockade-helper") : 0;
    if (p->forwarder <= 0) {
        return;
    }
    status_line(p->forwarder, "CapEff:", p->cap_eff, sizeof p->cap_eff);
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)p->forwarder);
    DIR *d = opendir(dir);
    if (d == NULL) {
        p->fd_count = -1;
        p->fd_errno = errno;
        return;
    }
    unsigned long inode = listening_inode(p->forwarder);
    char target[128], expected[64];
    snprintf(expected, sizeof expected, "socket:[%lu]", inode);
    /* The forwarder drops pid 1's fds itself, first thing once it runs: on a loaded machine
     * the command can be up before the forwarder was ever scheduled. Looked at again until
     * it has (bounded only to stop a hang). */
    for (int attempt = 0; attempt < 1000; attempt++) {
        p->fd_count = 0;
        p->listener_only = false;
        rewinddir(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char link[400];
            snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            p->fd_count++;
            p->listener_only = p->fd_count == 1 && inode != 0 && strcmp(target, expected) == 0;
        }
        if (p->fd_count <= 1) {
            break;
        }
        usleep(10000);
    }
    closedir(d);
}

/* While the command runs, the forwarder is pid 1's child holding nothing but its listener
 * (none of the command's stdio, the status socket, the sync pipe), with no capability; it
 * still relays afterwards; and once the sandbox ended it is gone: with the pid namespace and
 * without (then only its parent-death signal ends it). An unprivileged caller may not look
 * into the forwarder's fds at all: it is non-dumpable. */
static void forwarder_process_case(uint32_t namespaces)
{
    struct server s;
    server_start(&s);
    struct spec_buf b;
    struct run_result r;
    egress_spec(&b, &s, namespaces, STK_EGRESS_MAX_CONNECTIONS,
                (const char *const[]){"wait", PORT_ARG, NULL});
    struct forwarder_probe p = {.helper = getpid()};
    struct run_options o = {.wait_for_stdout = "ready\n", .hold_stdin = true,
                            .on_ready = inspect_forwarder, .ctx = &p};
    run(&b, &o, &r);
    expect_exit_output(&r, "ready\nok\n");
    EXPECT(p.forwarder > 0, "the forwarder found as a child of pid 1");
    if (p.forwarder > 0) {
        EXPECT(strcmp(p.cap_eff, "CapEff:\t0000000000000000\n") == 0, "no capability [%s]",
               p.cap_eff);
        if (is_root()) {
            EXPECT(p.fd_count == 1 && p.listener_only,
                   "exactly one fd, the listener on 127.0.0.1:%u (%d fds)", PORT, p.fd_count);
        } else {
            EXPECT(p.fd_count == -1 && p.fd_errno == EACCES,
                   "its fds are not the caller's to see (errno %d)", p.fd_errno);
        }
        bool gone = false;
        for (int i = 0; i < 1000 && !(gone = gone_or_zombie(p.forwarder)); i++) {
            usleep(10000);
        }
        EXPECT(gone, "the forwarder %d is gone after the sandbox's end", (int)p.forwarder);
    }
    run_result_free(&r);
    spec_free(&b);
    server_stop(&s);
}

static void test_forwarder_process(void)
{
    forwarder_process_case(STK_ALLOWED_NAMESPACES);
}

static void test_without_pid_namespace(void)
{
    forwarder_process_case(STK_ALLOWED_NAMESPACES & ~(uint32_t)CLONE_NEWPID);
}

/* A warm sandbox (STK_F_WARM): the forwarder, started during set-up before any command
 * exists, serves the command that COMMAND brings later, token first. */
static void test_warm(void)
{
    struct server s;
    server_start(&s);
    struct spec_buf b, c;
    spec_init(&b);
    spec_bytes_field(&b, STK_F_WARM, NULL, 0);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    spec_host_view(&b);
    spec_bind(&b, client_dir, client_dir, true);
    spec_tmpfs(&b, "/run", 1u << 20);
    spec_bind_flags(&b, s.path, STK_EGRESS_SOCKET, STK_MOUNT_READONLY | STK_MOUNT_SPECIAL);
    spec_egress(&b, PORT, STK_EGRESS_MAX_CONNECTIONS, s.token, STK_EGRESS_SOCKET,
                strlen(STK_EGRESS_SOCKET));
    spec_init_command(&c);
    spec_args(&c, (const char *const[]){client, "exchange", PORT_ARG, "1048576", "65536", "2",
                                        NULL});
    struct run_options o = {.warm = true, .warm_idle_ms = 200};
    o.command = spec_finish(&c, &o.command_len);
    struct run_result r;
    run(&b, &o, &r);
    EXPECT(r.ready && r.ready_index == 0, "READY first");
    expect_exit_output(&r, "ok 2\n");
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
    server_stop(&s);
    EXPECT(s.verified == 2 && s.failed == 0, "two exchanges verified (%d/%d)", s.verified,
           s.failed);
}

static const struct stk_test tests[] = {
    {"warm", test_warm},
    {"relay", test_relay},
    {"token_once", test_token_once},
    {"token_on_reset", test_token_on_reset},
    {"concurrent", test_concurrent},
    {"bound", test_bound},
    {"stall", test_stall},
    {"proxy_closes", test_proxy_closes},
    {"proxy_refuses", test_proxy_refuses},
    {"proxy_backlog_full", test_proxy_backlog_full},
    {"out_of_fds", test_out_of_fds},
    {"spec_refusals", test_spec_refusals},
    {"listen_error", test_listen_error},
    {"forwarder_process", test_forwarder_process},
    {"without_pid_namespace", test_without_pid_namespace},
};

int main(int argc, char **argv)
{
    static const struct stk_test_driver driver = {
        .name = "egress_test",
        .tool_name = "stk_egress_client",
        .tests = tests,
        .count = sizeof tests / sizeof tests[0],
        .helper = &helper,
        .tool = &client,
        .tool_dir = client_dir,
        .tool_dir_size = sizeof client_dir,
    };
    return stk_test_main(&driver, argc, argv);
}
