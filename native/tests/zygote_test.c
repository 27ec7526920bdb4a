/*
 * Tests of the helper zygote (`stockade-helper zygote`, zygote.c) with real processes:
 *
 *     zygote_test --list
 *     zygote_test <stockade-helper> <stk_probe> <test-name>     (or "all")
 *
 * The harness starts the zygote as the Java side does (/dev/null on fds 0-2, its socket on
 * fd 3), sends FORK requests with pipes and a control socket, and drives each helper it forks
 * with a SPEC frame (spec_writer.c) running stk_probe. Every test passes as root and as an
 * unprivileged user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec_writer.h"
#include "stockade.h"

#define WAIT_MS 60000

static const char *helper;
static const char *probe;
static char probe_dir[4096];

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct zygote {
    pid_t pid;
    int socket;
};

/* In the zygote's child before its exec: clone3 fails with ENOSYS, as under a container
 * runtime's seccomp profile. */
static void deny_clone3(void)
{
    if (deny_syscall_here(SYS_clone3, ENOSYS) != 0) {
        _exit(126);
    }
}

static void start_zygote_with(struct zygote *z, bool without_clone3)
{
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) != 0) {
        perror("socketpair");
        exit(2);
    }
    z->pid = fork();
    if (z->pid < 0) {
        perror("fork");
        exit(2);
    }
    if (z->pid == 0) {
        /* Spawned as a JVM's child often is (glibc's posix_spawn leaves its two internal
         * signals ignored): the helper must not pass that on to the command. glibc refuses
         * them in sigaction, hence the system call (the kernel's struct: handler, flags,
         * restorer, mask). */
        struct {
            void (*handler)(int);
            unsigned long flags;
            void (*restorer)(void);
            uint64_t mask;
        } ignore = {SIG_IGN, 0, NULL, 0};
        syscall(SYS_rt_sigaction, 32, &ignore, NULL, sizeof ignore.mask);
        syscall(SYS_rt_sigaction, 33, &ignore, NULL, sizeof ignore.mask);
        if (without_clone3) {
            deny_clone3();
        }
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        dup2(s[1], STK_CONTROL_FD);
        execl(helper, "stockade-helper", "zygote", (char *)NULL);
        _exit(127);
    }
    close(s[1]);
    z->socket = s[0];
}

static void start_zygote(struct zygote *z)
{
    start_zygote_with(z, false);
}

/* The zygote's exit status once it ended (within WAIT_MS), or -1. */
static int zygote_status(struct zygote *z)
{
    for (int waited = 0; waited < WAIT_MS; waited += 10) {
        int status;
        pid_t got = waitpid(z->pid, &status, WNOHANG);
        if (got == z->pid) {
            return status;
        }
        usleep(10000);
    }
    kill(z->pid, SIGKILL);
    waitpid(z->pid, NULL, 0);
    return -1;
}

static int send_frame(int socket, uint32_t type, const uint8_t *payload, uint32_t len,
                      const int *fds, size_t fd_count)
{
    uint8_t frame[64];
    put_u32(frame, type);
    put_u32(frame + 4, len);
    if (len > 0) {
        memcpy(frame + 8, payload, len);
    }
    return spec_send_with_fds(socket, frame, 8 + len, fds, fd_count);
}

struct forked {
    bool answered;
    int32_t pid;
    uint32_t err;
    int pidfd;
};

/* Reads one FORKED frame (and the pidfd it carries). */
static struct forked read_forked(int socket)
{
    struct forked f = {false, 0, 0, -1};
    uint8_t frame[16];
    size_t have = 0;
    while (have < sizeof frame) {
        struct pollfd p = {.fd = socket, .events = POLLIN};
        if (poll(&p, 1, WAIT_MS) != 1) {
            return f;
        }
        struct iovec iov = {.iov_base = frame + have, .iov_len = sizeof frame - have};
        union {
            struct cmsghdr align;
            char data[CMSG_SPACE(4 * sizeof(int))];
        } control;
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data;
        msg.msg_controllen = sizeof control.data;
        ssize_t n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            return f;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                EXPECT(f.pidfd < 0 && c->cmsg_len == CMSG_LEN(sizeof(int)),
                       "one descriptor with FORKED");
                memcpy(&f.pidfd, CMSG_DATA(c), sizeof(int));
            }
        }
        have += (size_t)n;
    }
    EXPECT(get_u32(frame) == STK_EVT_FORKED && get_u32(frame + 4) == 8,
           "a FORKED frame, got type %u length %u", get_u32(frame),
           get_u32(frame + 4));
    f.answered = true;
    f.pid = (int32_t)get_u32(frame + 8);
    f.err = get_u32(frame + 12);
    return f;
}

/* A helper the zygote forked, with the test's ends of its streams and control socket. */
struct child {
    struct forked f;
    int control, out, err;
};

/* Sends FORK with pipes as stdout and stderr, /dev/null as stdin, a fresh control socket and,
 * when with_progress, a memfd as the progress page. */
static struct child fork_child(struct zygote *z, bool with_progress)
{
    struct child c = {{false, 0, 0, -1}, -1, -1, -1};
    int out[2], err[2], ctl[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0) {
        perror("pipe/socketpair");
        exit(2);
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int progress = with_progress ? memfd_create("progress", MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
    if (progress >= 0 && (ftruncate(progress, STK_PROGRESS_SIZE) != 0 ||
                          fcntl(progress, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)) {
        perror("the progress page");
        exit(2);
    }
    int fds[5] = {null, out[1], err[1], ctl[1], progress};
    EXPECT(send_frame(z->socket, STK_MSG_FORK, NULL, 0, fds, with_progress ? 5 : 4) == 0,
           "FORK sent: %s", strerror(errno));
    c.f = read_forked(z->socket);
    close(null);
    close(out[1]);
    close(err[1]);
    close(ctl[1]);
    if (progress >= 0) {
        close(progress);
    }
    c.control = ctl[0];
    c.out = out[0];
    c.err = err[0];
    return c;
}

/* The probe's spec: every namespace, the host's system directories and its own directory. */
static void probe_spec(struct spec_buf *b, const char *const *args)
{
    spec_init(b);
    spec_string(b, STK_F_ARG, probe);
    for (size_t i = 0; args[i] != NULL; i++) {
        spec_string(b, STK_F_ARG, args[i]);
    }
    spec_string(b, STK_F_ENV, "PATH=/usr/bin:/bin");
    spec_u32(b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    spec_host_view(b);
    spec_bind(b, probe_dir, probe_dir, true);
}

static void send_spec(struct child *c, const char *const *args)
{
    struct spec_buf b;
    probe_spec(&b, args);
    size_t len;
    const uint8_t *frame = spec_finish(&b, &len);
    EXPECT(write(c->control, frame, len) == (ssize_t)len, "SPEC sent: %s", strerror(errno));
    spec_free(&b);
}

/* Reads event frames until one of type `type` (its payload into payload, at most cap bytes);
 * returns false at EOF, on a timeout or at an ERROR when that was not the one asked for. */
static bool await_event(int control, uint32_t type, uint8_t *payload, size_t cap)
{
    for (;;) {
        struct pollfd p = {.fd = control, .events = POLLIN};
        uint8_t header[8];
        if (poll(&p, 1, WAIT_MS) != 1 || read(control, header, 8) != 8) {
            return false;
        }
        uint32_t got = get_u32(header);
        uint32_t len = get_u32(header + 4);
        uint8_t body[512];
        if (len > sizeof body) {
            return false;
        }
        size_t have = 0;
        while (have < len) {
            ssize_t n = read(control, body + have, len - have);
            if (n <= 0) {
                return false;
            }
            have += (size_t)n;
        }
        if (got == type) {
            memcpy(payload, body, len < cap ? len : cap);
            return true;
        }
        if (got == STK_EVT_ERROR) {
            fprintf(stderr, "ERROR event: step %.*s\n", (int)get_u32(body + 8),
                    (const char *)body + 12);
            return false;
        }
    }
}

static char *read_all(int fd)
{
    static char buf[8192];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof buf - 1 && (n = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
        have += (size_t)n;
    }
    buf[have] = '\0';
    return buf;
}

/* The helper's wait status through its pidfd (it is the caller's child), or -1. */
static int wait_pidfd(int pidfd)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid((idtype_t)3 /* P_PIDFD */, (id_t)pidfd, &info, WEXITED) != 0) {
        return -1;
    }
    return info.si_code == CLD_EXITED ? info.si_status : 1000 + info.si_status;
}

static pid_t parent_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[1024];
    pid_t ppid = -1;
    if (fgets(line, sizeof line, f) != NULL) {
        const char *close_paren = strrchr(line, ')');
        char state;
        if (close_paren == NULL || sscanf(close_paren + 2, "%c %d", &state, &ppid) != 2) {
            ppid = -1;
        }
    }
    fclose(f);
    return ppid;
}

static void close_child(struct child *c)
{
    close(c->control);
    close(c->out);
    close(c->err);
    if (c->f.pidfd >= 0) {
        close(c->f.pidfd);
    }
}

/* A FORK gives a helper that is the caller's child (not the zygote's), with the streams it
 * was sent, running a command to its end; requests are served in turn, with or without the
 * progress page. */
static void test_fork(void)
{
    struct zygote z;
    start_zygote(&z);
    for (int i = 0; i < 3; i++) {
        struct child c = fork_child(&z, i == 1);
        EXPECT(c.f.answered && c.f.pid > 0 && c.f.err == 0 && c.f.pidfd >= 0,
               "a helper, got pid %d errno %u pidfd %d", c.f.pid, c.f.err, c.f.pidfd);
        if (c.f.pid <= 0) {
            break;
        }
        EXPECT(parent_of(c.f.pid) == getpid(), "the helper's parent is the caller (%d), not %d",
               (int)getpid(), (int)parent_of(c.f.pid));
        char code[8];
        snprintf(code, sizeof code, "%d", 3 + i);
        send_spec(&c, (const char *const[]){"stdio", "to stdout", code, NULL});
        uint8_t started[8];
        EXPECT(await_event(c.control, STK_EVT_STARTED, started, sizeof started), "STARTED");
        uint8_t exited[80];
        EXPECT(await_event(c.control, STK_EVT_EXITED, exited, sizeof exited), "EXITED");
        EXPECT(strcmp(read_all(c.out), "to stdout") == 0, "the command's stdout");
        EXPECT(strcmp(read_all(c.err), code) == 0, "the command's stderr");
        int status = wait_pidfd(c.f.pidfd);
        EXPECT(status == 0, "the helper exited 0 through its pidfd, got %d", status);
        close_child(&c);
    }
    close(z.socket);
    int status = zygote_status(&z);
    EXPECT(status == 0, "the zygote ends with status 0 when its socket closes, got %#x", status);
}

/* The helper holds what it was sent and nothing of the zygote: not its socket, none of its
 * ignored signals, nor the internal ones its spawner left ignored (the command's SigIgn is
 * empty). */
static void test_nothing_of_the_zygote(void)
{
    struct zygote z;
    start_zygote(&z);
    char link[64], zygote_socket[128] = "";
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)z.pid, STK_CONTROL_FD);
    for (int waited = 0; waited < WAIT_MS && zygote_socket[0] == '\0'; waited += 10) {
        ssize_t n = readlink(link, zygote_socket, sizeof zygote_socket - 1);
        if (n > 0) {
            zygote_socket[n] = '\0';
        } else {
            usleep(10000);
        }
    }
    struct child c = fork_child(&z, true);
    EXPECT(c.f.pid > 0, "a helper, errno %u", c.f.err);
    if (c.f.pid > 0) {
        send_spec(&c, (const char *const[]){"file", "/proc/self/status", NULL});
        uint8_t started[8];
        EXPECT(await_event(c.control, STK_EVT_STARTED, started, sizeof started), "STARTED");
        uint8_t exited[80];
        EXPECT(await_event(c.control, STK_EVT_EXITED, exited, sizeof exited), "EXITED");
        const char *status = read_all(c.out);
        EXPECT(strstr(status, "SigIgn:\t0000000000000000\n") != NULL,
               "no ignored signal in the command: %s", status);
        close_child(&c);
    }
    /* A second helper, inspected while its command sleeps: none of its fds is the zygote's
     * socket. */
    c = fork_child(&z, false);
    EXPECT(c.f.pid > 0, "a helper, errno %u", c.f.err);
    if (c.f.pid > 0) {
        send_spec(&c, (const char *const[]){"sleep", "1000", NULL});
        uint8_t started[8];
        EXPECT(await_event(c.control, STK_EVT_STARTED, started, sizeof started), "STARTED");
        for (int fd = 0; fd < 64; fd++) {
            char path[64], target[128];
            snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)c.f.pid, fd);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n > 0) {
                target[n] = '\0';
                EXPECT(strcmp(target, zygote_socket) != 0, "fd %d of the helper is the zygote's"
                       " socket %s", fd, zygote_socket);
            }
        }
        close(c.control); /* the control socket's end kills the sandbox */
        c.control = -1;
        int status = wait_pidfd(c.f.pidfd);
        EXPECT(status >= 0, "the helper ended after its control socket closed");
        close(c.out);
        close(c.err);
        close(c.f.pidfd);
    }
    close(z.socket);
    EXPECT(zygote_status(&z) == 0, "the zygote ends at its socket's close");
}

/* ^C, a hang-up and a group-wide SIGTERM reach the zygote (it is in the caller's process
 * group) and must not end it: it still forks afterwards. */
static void test_outlives_group_signals(void)
{
    struct zygote z;
    start_zygote(&z);
    struct child c = fork_child(&z, false); /* the zygote is up and serving */
    EXPECT(c.f.pid > 0, "a helper, errno %u", c.f.err);
    if (c.f.pid > 0) {
        close(c.control); /* no SPEC: the helper ends at EOF */
        wait_pidfd(c.f.pidfd);
    }
    close(c.out);
    close(c.err);
    if (c.f.pidfd >= 0) {
        close(c.f.pidfd);
    }
    static const int sigs[] = {SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGPIPE, SIGTSTP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        kill(z.pid, sigs[i]);
    }
    usleep(100000);
    EXPECT(waitpid(z.pid, NULL, WNOHANG) == 0, "the zygote is still there");
    c = fork_child(&z, false);
    EXPECT(c.f.pid > 0, "the zygote still forks, errno %u", c.f.err);
    if (c.f.pid > 0) {
        send_spec(&c, (const char *const[]){"exit", "0", NULL});
        uint8_t exited[80];
        EXPECT(await_event(c.control, STK_EVT_EXITED, exited, sizeof exited), "EXITED");
        EXPECT(wait_pidfd(c.f.pidfd) == 0, "the helper exited 0");
    }
    close_child(&c);
    close(z.socket);
    EXPECT(zygote_status(&z) == 0, "the zygote ends at its socket's close");
}

/* Where clone3 is ENOSYS (a seccomp profile around the JVM), the zygote forks with clone:
 * the same child of the caller, running its command. */
static void test_without_clone3(void)
{
    struct zygote z;
    start_zygote_with(&z, true);
    struct child c = fork_child(&z, false);
    EXPECT(c.f.answered && c.f.pid > 0 && c.f.err == 0 && c.f.pidfd >= 0,
           "a helper, got pid %d errno %u pidfd %d", c.f.pid, c.f.err, c.f.pidfd);
    if (c.f.pid > 0) {
        EXPECT(parent_of(c.f.pid) == getpid(), "the helper's parent is the caller");
        send_spec(&c, (const char *const[]){"stdio", "no clone3", "", NULL});
        uint8_t exited[80];
        EXPECT(await_event(c.control, STK_EVT_EXITED, exited, sizeof exited), "EXITED");
        EXPECT(strcmp(read_all(c.out), "no clone3") == 0, "the command's stdout");
        EXPECT(wait_pidfd(c.f.pidfd) == 0, "the helper exited 0");
    }
    close_child(&c);
    close(z.socket);
    EXPECT(zygote_status(&z) == 0, "the zygote ends at its socket's close");
}

/* A malformed request is answered with EPROTO and ends the zygote (set-up exit code), the fds
 * it carried closed: nothing was forked with them. */
static void test_malformed_requests(void)
{
    static const struct {
        const char *name;
        uint32_t type;
        uint32_t len;
        size_t fd_count;
        bool half_header;
    } cases[] = {
        {"SPEC instead of FORK", STK_MSG_SPEC, 0, 4, false},
        {"three fds", STK_MSG_FORK, 0, 3, false},
        {"six fds", STK_MSG_FORK, 0, 6, false},
        {"no fd", STK_MSG_FORK, 0, 0, false},
        {"a payload", STK_MSG_FORK, 4, 4, false},
        {"half a header, then EOF", STK_MSG_FORK, 0, 4, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct zygote z;
        start_zygote(&z);
        int ctl[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int fds[6] = {null, null, null, ctl[1], null, null};
        uint8_t payload[4] = {0};
        if (cases[i].half_header) {
            uint8_t half[4];
            put_u32(half, STK_MSG_FORK);
            EXPECT(spec_send_with_fds(z.socket, half, sizeof half, fds, 4) == 0, "%s: sent",
                   cases[i].name);
            shutdown(z.socket, SHUT_WR);
        } else {
            EXPECT(send_frame(z.socket, cases[i].type, payload, cases[i].len, fds,
                              cases[i].fd_count) == 0,
                   "%s: sent", cases[i].name);
        }
        close(null);
        close(ctl[1]);
        struct forked f = read_forked(z.socket);
        EXPECT(f.answered && f.pid == 0 && f.err == EPROTO && f.pidfd < 0,
               "%s: FORKED with EPROTO, got answered %d pid %d errno %u", cases[i].name,
               f.answered, f.pid, f.err);
        int status = zygote_status(&z);
        EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == STK_EXIT_SETUP,
               "%s: the zygote exits %d, got %#x", cases[i].name, STK_EXIT_SETUP, status);
        if (cases[i].fd_count > 3) {
            struct pollfd p = {.fd = ctl[0], .events = POLLIN};
            char byte;
            EXPECT(poll(&p, 1, WAIT_MS) == 1 && read(ctl[0], &byte, 1) == 0,
                   "%s: the control socket sent was closed, not given to a helper",
                   cases[i].name);
        }
        close(ctl[0]);
        close(z.socket);
    }
}

static const struct stk_test tests[] = {
    {"fork", test_fork},
    {"nothing_of_the_zygote", test_nothing_of_the_zygote},
    {"outlives_group_signals", test_outlives_group_signals},
    {"without_clone3", test_without_clone3},
    {"malformed_requests", test_malformed_requests},
};

int main(int argc, char **argv)
{
    const struct stk_test_driver d = {
        .name = "zygote_test",
        .tool_name = "stk_probe",
        .tests = tests,
        .count = sizeof tests / sizeof tests[0],
        .helper = &helper,
        .tool = &probe,
        .tool_dir = probe_dir,
        .tool_dir_size = sizeof probe_dir,
    };
    return stk_test_main(&d, argc, argv);
}
