/*
 * stk_egress_client: runs inside the sandbox for egress_test and talks to the test's server on
 * the host through the egress forwarder (127.0.0.1:<port>). It prints "ok ..." when every
 * byte came back as egress_pattern.h says, else what differed (on stderr) and "failed".
 *
 *   stk_egress_client exchange <port> <up> <down> <connections>
 *       that many connections at once (a process each), each sending a request of <up>
 *       bytes, shutting its write side, and reading a reply of exactly <down> bytes to EOF;
 *       the server replies once all of them are connected
 *   stk_egress_client bound <port>
 *       with max_connections 2: two connections held, a third one waits until the first
 *       closes
 *   stk_egress_client stall <port>
 *       one connection whose reply is never read, one whose request is never read, then an
 *       exchange on a third
 *   stk_egress_client refused <port> <count>
 *       that many connections one after another, each of which the forwarder must close
 *       (its proxy refuses it), then prints "ok <count>"
 *   stk_egress_client backlog <port>
 *       with a proxy whose backlog holds one connection and which never accepts: the first
 *       connection stays open, the second is closed
 *   stk_egress_client many <port> <count>
 *       prints "ready", waits for EOF on stdin, opens that many held connections at once,
 *       then reads each one's answer in order and closes it
 *   stk_egress_client proxy_closes <port>
 *       with max_connections 1: a connection the proxy closes while this side keeps it open,
 *       then a second one, which gets the slot
 *   stk_egress_client token <port> <count>
 *       that many connections open at once, each sending "T <k>" and shutting its write side,
 *       then one sending nothing; each reply must be "token <k>" ("token 0") then EOF: the
 *       server saw the token once, first, and nothing else but the request
 *   stk_egress_client reset <port> <count>
 *       that many connections reset (SO_LINGER 0) right after the connect, then one "T 1"
 *       exchange as with `token`
 *   stk_egress_client wait <port>
 *       prints "ready", waits for EOF on stdin, then one small exchange
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress_pattern.h"

static uint16_t port;

static int connect_forwarder(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "connect 127.0.0.1:%u: %s\n", port, strerror(errno));
        exit(1);
    }
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fprintf(stderr, "send: %s\n", strerror(errno));
            exit(1);
        }
        p += n;
        len -= (size_t)n;
    }
}

static void send_text(int fd, const char *text)
{
    send_all(fd, text, strlen(text));
}

/* Reads exactly one line (up to '\n') into line; exits on EOF or error. */
static void read_line(int fd, char *line, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t k = read(fd, line + n, 1);
        if (k <= 0) {
            fprintf(stderr, "read_line: %s\n", k == 0 ? "EOF" : strerror(errno));
            exit(1);
        }
        if (line[n++] == '\n') {
            break;
        }
    }
    line[n] = '\0';
}

/* One request/reply on a fresh connection; returns 0 when the reply was exact. */
static int exchange_one(uint32_t seed, size_t up, size_t down, unsigned barrier)
{
    int fd = connect_forwarder();
    char header[128];
    snprintf(header, sizeof header, "X %zu %zu %u %u\n", up, down, seed, barrier);
    send_text(fd, header);
    static uint8_t buf[65536];
    for (size_t sent = 0; sent < up;) {
        size_t n = up - sent < sizeof buf ? up - sent : sizeof buf;
        egress_pattern_fill(seed, sent, buf, n);
        send_all(fd, buf, n);
        sent += n;
    }
    /* Half-close: the server replies only after this EOF, so the reply proves it passed
     * through while the other direction stayed open. */
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "read of the reply: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0) {
            break;
        }
        size_t bad = egress_pattern_check(EGRESS_REPLY_SEED(seed), got, buf, (size_t)n);
        if (bad != (size_t)n || got + (size_t)n > down) {
            fprintf(stderr, "reply byte %zu differs (or more than %zu bytes)\n", got + bad, down);
            return 1;
        }
        got += (size_t)n;
    }
    close(fd);
    if (got != down) {
        fprintf(stderr, "reply of %zu bytes, expected %zu\n", got, down);
        return 1;
    }
    return 0;
}

static int cmd_exchange(char **a)
{
    size_t up = strtoull(a[0], NULL, 10), down = strtoull(a[1], NULL, 10);
    unsigned connections = (unsigned)atoi(a[2]);
    for (unsigned i = 0; i < connections; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            _exit(exchange_one(i + 1, up, down, connections));
        }
    }
    unsigned failed = 0;
    int status;
    while (wait(&status) > 0) {
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    if (failed != 0) {
        printf("failed %u\n", failed);
        return 1;
    }
    printf("ok %u\n", connections);
    return 0;
}

static int hold(unsigned k)
{
    int fd = connect_forwarder();
    char line[64];
    snprintf(line, sizeof line, "H %u\n", k);
    send_text(fd, line);
    return fd;
}

static void expect_held(int fd, unsigned k)
{
    char line[64], expected[64];
    read_line(fd, line, sizeof line);
    snprintf(expected, sizeof expected, "held %u\n", k);
    if (strcmp(line, expected) != 0) {
        fprintf(stderr, "got [%s], expected [%s]\n", line, expected);
        exit(1);
    }
}

static int cmd_bound(char **a)
{
    (void)a;
    int first = hold(1);
    expect_held(first, 1);
    int second = hold(2);
    expect_held(second, 2);
    /* The kernel completes this connect from the backlog; the forwarder must not take it. */
    int third = hold(3);
    /* A forwarder without the bound would pass it on meanwhile (the server's log shows when
     * it arrived); a correct one is not timed by this. */
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000000L};
    nanosleep(&pause, NULL);
    close(first);
    expect_held(third, 3);
    close(second);
    close(third);
    printf("ok\n");
    return 0;
}

static int cmd_stall(char **a)
{
    (void)a;
    int unread_reply = connect_forwarder();
    send_text(unread_reply, "F\n");
    int unread_request = connect_forwarder();
    send_text(unread_request, "S\n");
    /* Fill everything between here and the server that never reads. */
    fcntl(unread_request, F_SETFL, O_NONBLOCK);
    static uint8_t buf[65536];
    memset(buf, 'x', sizeof buf);
    for (;;) {
        ssize_t n = send(unread_request, buf, sizeof buf, MSG_NOSIGNAL);
        if (n > 0) {
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            fprintf(stderr, "send: %s\n", strerror(errno));
            return 1;
        }
        struct pollfd p = {.fd = unread_request, .events = POLLOUT};
        if (poll(&p, 1, 300) == 0) {
            break;
        }
    }
    if (exchange_one(7, 2u << 20, 2u << 20, 0) != 0) {
        printf("failed\n");
        return 1;
    }
    close(unread_reply);
    close(unread_request);
    printf("ok\n");
    return 0;
}

static int cmd_refused(char **a)
{
    int count = atoi(a[0]);
    for (int i = 0; i < count; i++) {
        int fd = connect_forwarder();
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n != 0 && !(n < 0 && errno == ECONNRESET)) {
            fprintf(stderr, "connection %d: read %zd (%s), expected EOF\n", i, n, strerror(errno));
            printf("failed\n");
            return 1;
        }
        close(fd);
    }
    printf("ok %d\n", count);
    return 0;
}

static int cmd_backlog(char **a)
{
    (void)a;
    int queued = connect_forwarder();
    /* Accepted in this order by the forwarder: the first takes the proxy's one backlog
     * slot before the second's connect is tried. */
    int refused = connect_forwarder();
    char c;
    ssize_t n = read(refused, &c, 1);
    if (n != 0 && !(n < 0 && errno == ECONNRESET)) {
        fprintf(stderr, "second connection: read %zd (%s), expected EOF\n", n, strerror(errno));
        printf("failed\n");
        return 1;
    }
    struct pollfd p = {.fd = queued, .events = POLLIN};
    if (poll(&p, 1, 0) != 0) {
        fprintf(stderr, "the first connection ended too (revents %#x)\n", p.revents);
        printf("failed\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}

static int cmd_many(char **a)
{
    int count = atoi(a[0]);
    printf("ready\n");
    char c;
    while (read(0, &c, 1) > 0) {
    }
    int fds[256];
    for (int k = 0; k < count && k < 256; k++) {
        fds[k] = hold((unsigned)k + 1);
    }
    for (int k = 0; k < count && k < 256; k++) {
        expect_held(fds[k], (unsigned)k + 1);
        close(fds[k]);
    }
    printf("ok %d\n", count);
    return 0;
}

static int cmd_proxy_closes(char **a)
{
    (void)a;
    int first = connect_forwarder();
    send_text(first, "C\n");
    char line[64];
    read_line(first, line, sizeof line);
    char c;
    if (strcmp(line, "bye\n") != 0 || read(first, &c, 1) != 0) {
        fprintf(stderr, "the first connection: [%s], then no EOF\n", line);
        printf("failed\n");
        return 1;
    }
    /* `first` stays open: only the forwarder can free its slot. */
    int second = hold(2);
    expect_held(second, 2);
    close(second);
    close(first);
    printf("ok\n");
    return 0;
}

static int expect_token_reply(int fd, unsigned k)
{
    char line[64], expected[64];
    read_line(fd, line, sizeof line);
    snprintf(expected, sizeof expected, "token %u\n", k);
    char c;
    if (strcmp(line, expected) != 0 || read(fd, &c, 1) != 0) {
        fprintf(stderr, "stream %u: [%s], expected [%s] then EOF\n", k, line, expected);
        return 1;
    }
    close(fd);
    return 0;
}

static int cmd_token(char **a)
{
    int count = atoi(a[0]);
    int fds[256];
    for (int k = 0; k < count && k < 256; k++) {
        fds[k] = connect_forwarder();
        char line[64];
        snprintf(line, sizeof line, "T %d\n", k + 1);
        send_text(fds[k], line);
        shutdown(fds[k], SHUT_WR);
    }
    int failed = 0;
    for (int k = 0; k < count && k < 256; k++) {
        failed += expect_token_reply(fds[k], (unsigned)k + 1);
    }
    int empty = connect_forwarder();
    shutdown(empty, SHUT_WR);
    failed += expect_token_reply(empty, 0);
    if (failed != 0) {
        printf("failed %d\n", failed);
        return 1;
    }
    printf("ok %d\n", count);
    return 0;
}

static int cmd_reset(char **a)
{
    int count = atoi(a[0]);
    for (int k = 0; k < count; k++) {
        int fd = connect_forwarder();
        struct linger reset = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        close(fd);
    }
    int fd = connect_forwarder();
    send_text(fd, "T 1\n");
    shutdown(fd, SHUT_WR);
    if (expect_token_reply(fd, 1) != 0) {
        printf("failed\n");
        return 1;
    }
    printf("ok %d\n", count);
    return 0;
}

static int cmd_wait(char **a)
{
    (void)a;
    printf("ready\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    if (exchange_one(3, 1000, 1000, 0) != 0) {
        printf("failed\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int args;
        int (*fn)(char **);
    } commands[] = {
        {"exchange", 3, cmd_exchange},
        {"bound", 0, cmd_bound},
        {"stall", 0, cmd_stall},
        {"refused", 1, cmd_refused},
        {"backlog", 0, cmd_backlog},
        {"many", 1, cmd_many},
        {"proxy_closes", 0, cmd_proxy_closes},
        {"token", 1, cmd_token},
        {"reset", 1, cmd_reset},
        {"wait", 0, cmd_wait},
    };
    for (size_t i = 0; argc >= 3 && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0 && argc - 3 == commands[i].args) {
            port = (uint16_t)atoi(argv[2]);
            setvbuf(stdout, NULL, _IONBF, 0);
            return commands[i].fn(argv + 3);
        }
    }
    fprintf(stderr, "usage: stk_egress_client exchange|bound|stall|refused|backlog|many|proxy_closes|token|reset|wait <port> [args]\n");
    return 2;
}
