/*
 * Tests of stockade-helper with real processes and the real kernel:
 *
 *     helper_test --list     (the test names, one a line)
 *     helper_test <stockade-helper> <stk_probe> <test-name>     (or "all")
 *
 * Each test builds a SPEC frame, runs the helper on a socketpair (spec_writer.c) with
 * stk_probe (probe_tool.c) as the command, and asserts exact outcomes: events, errno, wait
 * status, bytes. Attack probes (mount, sethostname, writes to system directories) only ever
 * run inside the sandbox. Every test passes as root and as an unprivileged user; where the
 * two differ (ids, idmapped binds) the expectation follows getuid().
 *
 * To add a test: write `static void test_x(void)` and add it to `tests[]` at the end; ctest
 * makes an entry for every name `helper_test --list` prints (CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <termios.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "spec_writer.h"
#include "stockade.h"

#define RUN_TIMEOUT_S 60

static const char *helper;
static const char *probe;

static bool is_root(void)
{
    return getuid() == 0;
}

static char probe_dir[4096];

/* The sandbox's root is an empty tmpfs: the host's system directories (as the Java side's
 * default policy sends them) and the probe's directory, read-only. */
static void add_view(struct spec_buf *b)
{
    spec_host_view(b);
    spec_bind(b, probe_dir, probe_dir, true);
}

/* ---- building and running specs ---- */

/* A spec running `stk_probe args...` with every namespace and a PATH. */
static void probe_spec(struct spec_buf *b, const char *const *args)
{
    spec_init(b);
    spec_string(b, STK_F_ARG, probe);
    for (size_t i = 0; args[i] != NULL; i++) {
        spec_string(b, STK_F_ARG, args[i]);
    }
    spec_string(b, STK_F_ENV, "PATH=/usr/bin:/bin");
    spec_u32(b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(b);
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

/* STARTED then EXITED with exit code `code`, no flags, helper exit 0. */
static bool expect_exit(const struct run_result *r, int code)
{
    int before = stk_test_failures;
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED, no ERROR");
    EXPECT(WIFEXITED(r->wait_status) && WEXITSTATUS(r->wait_status) == code,
           "command exit code %d", code);
    EXPECT(r->flags == 0, "no flags");
    EXPECT(r->events == 2, "exactly two events");
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 0,
           "helper exits 0 after EXITED");
    if (stk_test_failures != before) {
        stk_describe_run(r);
        return false;
    }
    return true;
}

static void expect_signal(const struct run_result *r, int sig, uint32_t flags)
{
    int before = stk_test_failures;
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED");
    EXPECT(WIFSIGNALED(r->wait_status) && WTERMSIG(r->wait_status) == sig,
           "command killed by signal %d", sig);
    EXPECT(!WCOREDUMP(r->wait_status), "no core dump (RLIMIT_CORE 0)");
    EXPECT(r->flags == flags, "flags %u", flags);
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 0, "helper exits 0");
    if (stk_test_failures != before) {
        stk_describe_run(r);
    }
}

/* Only an ERROR: step, errno, exit code; nothing started; the helper exits with that code. */
static void expect_error(const struct run_result *r, const char *step, uint32_t err,
                         uint32_t exit_code)
{
    int before = stk_test_failures;
    EXPECT(r->error && !r->started && !r->exited && r->events == 1, "exactly one ERROR event");
    EXPECT(strcmp(r->step, step) == 0, "step \"%s\"", step);
    EXPECT(r->err_errno == err, "errno %u", err);
    EXPECT(r->err_exit_code == exit_code, "exit code %u", exit_code);
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == (int)exit_code,
           "helper exits %u", exit_code);
    if (stk_test_failures != before) {
        stk_describe_run(r);
    }
}

static void expect_output(const struct run_result *r, const char *expected)
{
    EXPECT(strcmp(r->out, expected) == 0, "stdout [%s], got [%s]", expected, r->out);
}

/* Runs `stk_probe args...` with the base spec plus `extra` fields, expects exit 0 and the
 * given stdout. */
static void probe_expect(const char *const *args, void (*extra)(struct spec_buf *),
                         const char *expected)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, args);
    if (extra != NULL) {
        extra(&b);
    }
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, expected);
    }
    run_result_free(&r);
    spec_free(&b);
}

/* ---- host-side helpers ---- */

/* A fresh directory on the host. A root caller's is root-owned 0700, like a JVM temp dir:
 * only the idmapped bind makes it usable by the sandbox user. */
static void make_host_dir(char *path, size_t len)
{
    snprintf(path, len, "/tmp/stk-helper-test-XXXXXX");
    if (mkdtemp(path) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

/* The host uid/gid a root caller's sandbox runs as (with a user namespace). */
#define ROOT_CALLER_HOST_ID 65534

/* A root caller's writable binds are plain binds written as the sandbox's host uid, so a
 * directory the sandbox is to write must belong to that uid (an unprivileged caller's own
 * directory already does). */
static void give_to_sandbox(const char *path, uid_t host_id)
{
    if (is_root() && chown(path, host_id, host_id) != 0) {
        perror("chown");
        exit(2);
    }
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
                remove_tree(child);
            } else {
                unlink(child);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

static char *read_file(const char *path)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        exit(2);
    }
    close(fd);
}

/* A unique string to find a sandboxed process by its argv in the host's /proc. */
static void make_marker(char *out, size_t len)
{
    static int counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, len, "stkmarker-%d-%ld-%d", (int)getpid(), (long)ts.tv_nsec, counter++);
}

/* How many host processes run `stk_probe hold <marker> ...` (the daemon, not the command
 * that started it, whose argv also carries the marker). */
static int count_marked(const char *marker)
{
    DIR *d = opendir("/proc");
    if (d == NULL) {
        return -1;
    }
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n <= 0) {
            continue;
        }
        buf[n - 1] = '\0';
        const char *previous = "";
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
            if (strcmp(previous, "hold") == 0 && strcmp(buf + i, marker) == 0) {
                found++;
                break;
            }
            previous = buf + i;
        }
    }
    closedir(d);
    return found;
}

/* For paths where the kernel tears the sandbox down asynchronously (the helper itself was
 * killed): waits until the marked processes are gone, giving up after 20 s. */
static int wait_marked_gone(const char *marker)
{
    for (int i = 0; i < 2000; i++) {
        int n = count_marked(marker);
        if (n == 0) {
            return 0;
        }
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return count_marked(marker);
}

struct marker_ctx {
    const char *marker;
    int seen;
};

static void on_ready_count(void *p)
{
    struct marker_ctx *c = p;
    c->seen = count_marked(c->marker);
}

/* ---- the tests ---- */

static void test_exit_codes(void)
{
    probe_expect((const char *const[]){"exit", "0", NULL}, NULL, "");
    struct spec_buf b;
    struct run_result r;
    static const int codes[] = {3, 255};
    for (size_t i = 0; i < 2; i++) {
        char code[8];
        snprintf(code, sizeof code, "%d", codes[i]);
        probe_spec(&b, (const char *const[]){"exit", code, NULL});
        run(&b, NULL, &r);
        expect_exit(&r, codes[i]);
        run_result_free(&r);
        spec_free(&b);
    }
}

static void test_signals(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"kill-self", "9", NULL});
    run(&b, NULL, &r);
    expect_signal(&r, SIGKILL, 0);
    run_result_free(&r);
    spec_free(&b);

    probe_spec(&b, (const char *const[]){"segv", NULL});
    run(&b, NULL, &r);
    expect_signal(&r, SIGSEGV, 0);
    run_result_free(&r);
    spec_free(&b);
}

static void test_stdio(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"stdio", "out \x01\xff bytes", "err bytes\n", NULL});
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "out \x01\xff bytes");
        EXPECT(strcmp(r.err_out, "err bytes\n") == 0, "stderr bytes, got [%s]", r.err_out);
    }
    run_result_free(&r);
    spec_free(&b);

    static const char input[] = "line one\nline two\n\x7f\x80 end";
    struct run_options o = {.stdin_data = input, .stdin_len = sizeof input - 1};
    probe_spec(&b, (const char *const[]){"cat", NULL});
    run(&b, &o, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(r.out_len == sizeof input - 1 && memcmp(r.out, input, r.out_len) == 0,
               "stdin copied to stdout unchanged");
    }
    run_result_free(&r);
    spec_free(&b);
}

/* A MAX_OUTPUT field: bytes, action, reserved 0. */
static void spec_max_output(struct spec_buf *b, uint64_t bytes, uint32_t action)
{
    uint8_t field[16] = {0};
    for (int k = 0; k < 8; k++) {
        field[k] = (uint8_t)(bytes >> (8 * k));
    }
    field[8] = (uint8_t)action;
    spec_bytes_field(b, STK_F_MAX_OUTPUT, field, sizeof field);
}

/* The relay (output.c) with the harness's pipes as the caller's fds: the first bytes arrive,
 * the rest is counted and dropped; without the field the counts are 0. The Java tests (OutputLimitTest) cover files, a merged stream, kills and terminals. */
static void test_output_bound(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"stdio", "0123456789", "abcdef", NULL});
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(r.output_bytes == 0 && r.output_dropped_bytes == 0, "no relay, no counts");
    }
    run_result_free(&r);
    spec_free(&b);

    /* One stream at a time: the order between two pipes is the scheduler's. */
    probe_spec(&b, (const char *const[]){"stdio", "0123456789", "", NULL});
    spec_max_output(&b, 4, STK_OUTPUT_DROP);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "0123");
        EXPECT(r.output_bytes == 10 && r.output_dropped_bytes == 6,
               "10 written, 6 dropped, got %llu, %llu", (unsigned long long)r.output_bytes,
               (unsigned long long)r.output_dropped_bytes);
        EXPECT((r.flags & STK_EXIT_OUTPUT_LIMIT) == 0, "dropping is no kill");
    }
    run_result_free(&r);
    spec_free(&b);

    probe_spec(&b, (const char *const[]){"stdio", "", "abcdef", NULL});
    spec_max_output(&b, 2, STK_OUTPUT_DROP);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(r.out_len == 0, "nothing on stdout");
        EXPECT(strcmp(r.err_out, "ab") == 0, "stderr's first 2 bytes, got [%s]", r.err_out);
        EXPECT(r.output_bytes == 6 && r.output_dropped_bytes == 4, "6 written, 4 dropped");
    }
    run_result_free(&r);
    spec_free(&b);
}

static void test_identity(void)
{
    /* Defaults: a root caller's command is nobody, an unprivileged caller's keeps its ids. */
    char expected[128];
    unsigned int uid = is_root() ? 65534u : getuid(), gid = is_root() ? 65534u : getgid();
    snprintf(expected, sizeof expected, "uid=%u gid=%u euid=%u egid=%u groups=", uid, gid, uid,
             gid);
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"ids", NULL});
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(strncmp(r.out, expected, strlen(expected)) == 0, "[%s...], got [%s]", expected,
               r.out);
        EXPECT(strncmp(r.out, "uid=0 ", 6) != 0 || !is_root(), "never uid 0 for a root caller");
        /* A root caller's supplementary groups (host gid 0) are gone. */
        EXPECT(!is_root() || strstr(r.out, "groups=0\n") != NULL, "no groups, got [%s]", r.out);
    }
    run_result_free(&r);
    spec_free(&b);

    /* Explicit ids: inside exactly those, mapped to nobody (root) or the caller. */
    unsigned int host = is_root() ? 65534u : getuid();
    probe_spec(&b, (const char *const[]){"file", "/proc/self/uid_map", NULL});
    spec_u32(&b, STK_F_UID, 4242);
    spec_u32(&b, STK_F_GID, 4343);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        unsigned int inside = 0, outside = 0, count = 0;
        EXPECT(sscanf(r.out, "%u %u %u", &inside, &outside, &count) == 3 && inside == 4242 &&
                   outside == host && count == 1,
               "uid_map \"4242 %u 1\", got [%s]", host, r.out);
    }
    run_result_free(&r);
    spec_free(&b);

    probe_spec(&b, (const char *const[]){"ids", NULL});
    spec_u32(&b, STK_F_UID, 4242);
    spec_u32(&b, STK_F_GID, 4343);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(strncmp(r.out, "uid=4242 gid=4343 euid=4242 egid=4343 ", 38) == 0,
               "ids 4242/4343, got [%s]", r.out);
    }
    run_result_free(&r);
    spec_free(&b);
}

/* Without a user namespace: only a root caller, only with non-zero ids. */
static void test_identity_without_userns(void)
{
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "ids", NULL});
    add_view(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUSER);
    run(&b, NULL, &r);
    if (is_root()) {
        if (expect_exit(&r, 0)) {
            expect_output(&r, "uid=65534 gid=65534 euid=65534 egid=65534 groups=0\n");
        }
    } else {
        expect_error(&r, "spec", EPERM, 125);
    }
    run_result_free(&r);
    spec_free(&b);

    if (is_root()) {
        spec_init(&b);
        spec_args(&b, (const char *const[]){probe, "ids", NULL});
        add_view(&b);
        spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUSER);
        spec_u32(&b, STK_F_UID, 0);
        run(&b, NULL, &r);
        expect_error(&r, "spec", EPERM, 125);
        run_result_free(&r);
        spec_free(&b);

        /* Without a user namespace the command runs as host uid 4242 itself: a directory it
         * owns is writable through a bind, and what it writes belongs to 4242 on the host. */
        char dir[4096], file[4200];
        make_host_dir(dir, sizeof dir);
        give_to_sandbox(dir, 4242);
        snprintf(file, sizeof file, "%s/made-inside", dir);
        spec_init(&b);
        spec_args(&b, (const char *const[]){probe, "write", file, "x", NULL});
        add_view(&b);
        spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUSER);
        spec_u32(&b, STK_F_UID, 4242);
        spec_u32(&b, STK_F_GID, 4242);
        spec_bind(&b, dir, dir, false);
        run(&b, NULL, &r);
        if (expect_exit(&r, 0)) {
            expect_output(&r, "ok\n");
            struct stat st;
            EXPECT(stat(file, &st) == 0 && st.st_uid == 4242 && st.st_gid == 4242,
                   "stored as owned by 4242 on the host (uid %u gid %u)", (unsigned)st.st_uid,
                   (unsigned)st.st_gid);
        }
        run_result_free(&r);
        spec_free(&b);
        remove_tree(dir);
    }
}

static void test_pid1(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"pid", NULL});
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "pid=2 ppid=1\n");
        EXPECT(r.command_pid == 2, "STARTED command pid 2, got %d", r.command_pid);
        EXPECT(r.sandbox_pid > 1 && r.sandbox_pid != r.helper_pid, "host pid of pid 1");
    }
    run_result_free(&r);
    spec_free(&b);

    /* pid 1 is the helper itself; the host's processes are not visible. */
    probe_spec(&b, (const char *const[]){"file", "/proc/1/cmdline", NULL});
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(r.out_len == strlen(helper) + 1 && memcmp(r.out, helper, r.out_len) == 0,
               "/proc/1/cmdline is the helper's argv, got [%s]", r.out);
    }
    run_result_free(&r);
    spec_free(&b);

    probe_expect((const char *const[]){"pids", NULL}, NULL, "1 2\n");
}

static void test_capabilities(void)
{
    probe_expect((const char *const[]){"status", NULL}, NULL,
                 "CapInh:\t0000000000000000\n"
                 "CapPrm:\t0000000000000000\n"
                 "CapEff:\t0000000000000000\n"
                 "CapBnd:\t0000000000000000\n"
                 "CapAmb:\t0000000000000000\n"
                 "NoNewPrivs:\t1\n"
                 "Seccomp:\t0\n");
    /* uid 0 inside (mapped to nobody or to the caller) is root in name only. */
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"status", NULL});
    spec_u32(&b, STK_F_UID, 0);
    spec_u32(&b, STK_F_GID, 0);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(strstr(r.out, "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
                             "CapBnd:\t0000000000000000\n") != NULL,
               "no capabilities as uid 0 inside, got [%s]", r.out);
    }
    run_result_free(&r);
    spec_free(&b);
    probe_spec(&b, (const char *const[]){"mount-tmpfs", "/tmp", NULL});
    spec_u32(&b, STK_F_UID, 0);
    spec_u32(&b, STK_F_GID, 0);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "errno=1\n");
    }
    run_result_free(&r);
    spec_free(&b);
    /* What the capabilities would allow, tried inside only. Allowed case first: the name is
     * readable. */
    probe_expect((const char *const[]){"uname", NULL}, NULL, "stockade\n");
    probe_expect((const char *const[]){"sethostname", "evil", NULL}, NULL, "errno=1\n");
    probe_expect((const char *const[]){"mount-tmpfs", "/tmp", NULL}, NULL, "errno=1\n");
}

/* The probe's directory bound at its own path, for specs whose tmpfs /tmp would hide it. */
static void add_tmpfs_tmp_with_probe(struct spec_buf *b)
{
    spec_tmpfs(b, "/tmp", 1u << 20);
    spec_bind(b, probe_dir, probe_dir, true);
}

static void test_readonly_root(void)
{
    /* Allowed case first: the sandbox's own tmpfs is writable. */
    probe_expect((const char *const[]){"create", "/tmp/stk-new-file", NULL},
                 add_tmpfs_tmp_with_probe, "ok\n");
    probe_expect((const char *const[]){"create", "/usr/stk-new-file", NULL}, NULL, "errno=30\n");
    probe_expect((const char *const[]){"create", "/etc/stk-new-file", NULL}, NULL, "errno=30\n");
    probe_expect((const char *const[]){"mkdir", "/stk-new-dir", NULL}, NULL, "errno=30\n");
    struct stat st;
    EXPECT(stat("/usr/stk-new-file", &st) < 0 && stat("/stk-new-dir", &st) < 0,
           "nothing appeared on the host");
}

static char host_dir[4096];

static void add_bind_rw(struct spec_buf *b)
{
    spec_bind(b, host_dir, host_dir, false);
}

static void add_bind_ro(struct spec_buf *b)
{
    spec_bind(b, host_dir, host_dir, true);
}

/* A root caller's read-only bind that shows host root's files as the sandbox user's. */
static void add_bind_ro_idmapped(struct spec_buf *b)
{
    spec_bind_flags(b, host_dir, host_dir, STK_MOUNT_READONLY | STK_MOUNT_IDMAP);
}

static void test_bind(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    char pre[4200], inside[4200], arg[4200];
    snprintf(pre, sizeof pre, "%s/from-host", host_dir);
    snprintf(inside, sizeof inside, "%s/from-sandbox", host_dir);
    write_file(pre, "host data", 0600);
    struct stat st;

    /* Read-only: readable (for a root caller only through an idmapped bind, asked for), not
     * writable. */
    void (*visible_ro)(struct spec_buf *) = is_root() ? add_bind_ro_idmapped : add_bind_ro;
    probe_expect((const char *const[]){"file", pre, NULL}, visible_ro, "host data");
    snprintf(arg, sizeof arg, "%s/ro-attempt", host_dir);
    probe_expect((const char *const[]){"create", arg, NULL}, visible_ro, "errno=30\n");
    EXPECT(stat(arg, &st) < 0, "no file from the read-only bind");

    if (is_root()) {
        /* Root's own 0700 directory and 0600 file: only the idmapped read-only bind lets the
         * sandbox read them; a plain one does not, nor does a writable bind (files made
         * through an idmapped one would be host root's, set-user-ID included): the sandbox,
         * host uid 65534, is refused. */
        probe_expect((const char *const[]){"file", pre, NULL}, add_bind_ro, "errno=13\n");
        probe_expect((const char *const[]){"file", pre, NULL}, add_bind_rw, "errno=13\n");
        probe_expect((const char *const[]){"write", inside, "x", NULL}, add_bind_rw,
                     "errno=13\n");
        EXPECT(stat(inside, &st) < 0 && errno == ENOENT, "nothing written as host root");
        give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
        give_to_sandbox(pre, ROOT_CALLER_HOST_ID);
    }

    /* Read-write: the sandbox's (host) user's file is readable, and what the sandbox writes
     * persists, owned by that user on the host: the caller, or 65534 for a root caller. */
    probe_expect((const char *const[]){"file", pre, NULL}, add_bind_rw, "host data");
    probe_expect((const char *const[]){"write", inside, "from the sandbox", NULL}, add_bind_rw,
                 "ok\n");
    const char *content = read_file(inside);
    EXPECT(content != NULL && strcmp(content, "from the sandbox") == 0,
           "the write persisted on the host");
    uid_t owner = is_root() ? ROOT_CALLER_HOST_ID : getuid();
    gid_t group = is_root() ? ROOT_CALLER_HOST_ID : getgid();
    EXPECT(stat(inside, &st) == 0 && st.st_uid == owner && st.st_gid == group,
           "owned by the sandbox's host user (uid %u gid %u)", (unsigned)st.st_uid,
           (unsigned)st.st_gid);

    remove_tree(host_dir);
}

static char workspace_in_tmp[4096];

static void add_tmpfs_and_workspace(struct spec_buf *b)
{
    add_tmpfs_tmp_with_probe(b);
    spec_bind(b, host_dir, workspace_in_tmp, false);
}

/* A bind below the spec's own tmpfs: its mount point is created there (and only there). */
static void test_bind_below_tmpfs(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    snprintf(workspace_in_tmp, sizeof workspace_in_tmp, "/tmp/stk-ws-%d/a/workspace",
             (int)getpid());
    char target[4200];
    snprintf(target, sizeof target, "%s/file", workspace_in_tmp);
    probe_expect((const char *const[]){"write", target, "through tmpfs", NULL},
                 add_tmpfs_and_workspace, "ok\n");
    char host_file[4200];
    snprintf(host_file, sizeof host_file, "%s/file", host_dir);
    const char *content = read_file(host_file);
    EXPECT(content != NULL && strcmp(content, "through tmpfs") == 0, "written to the host dir");
    struct stat st;
    char host_view[4200];
    snprintf(host_view, sizeof host_view, "/tmp/stk-ws-%d", (int)getpid());
    EXPECT(stat(host_view, &st) < 0 && errno == ENOENT,
           "the mount point was created in the sandbox's tmpfs, not on the host");
    remove_tree(host_dir);
}

/* Nothing mounted inside reaches the caller's mount namespace, even when the caller's mounts
 * are shared (as systemd makes them): every tree the helper clones is made private. Root only:
 * the scenario needs a mount namespace of the test's own with shared mounts. */
static void test_mounts_stay_inside(void)
{
    if (!is_root()) {
        fprintf(stderr, "mounts_stay_inside: needs root for its own shared mount namespace\n");
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        /* A private copy of the host's mounts, all made shared: the host is not touched. */
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) != 0) {
            perror("unshare/mount");
            _exit(2);
        }
        make_host_dir(host_dir, sizeof host_dir);
        give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/sub", host_dir);
        if (mkdir(sub, 0755) != 0) {
            perror("mkdir");
            _exit(2);
        }
        struct spec_buf b;
        struct run_result r;
        probe_spec(&b, (const char *const[]){"exit", "0", NULL});
        spec_bind(&b, host_dir, host_dir, false);
        spec_tmpfs(&b, sub, 1u << 20);
        run(&b, NULL, &r);
        expect_exit(&r, 0);
        run_result_free(&r);
        spec_free(&b);
        char line[8192];
        FILE *info = fopen("/proc/self/mountinfo", "re");
        while (info != NULL && fgets(line, sizeof line, info) != NULL) {
            EXPECT(strstr(line, sub) == NULL, "a sandbox mount leaked to the caller: %s", line);
        }
        if (info != NULL) {
            fclose(info);
        }
        remove_tree(host_dir);
        _exit(stk_test_failures == 0 ? 0 : 1);
    }
    int status = 0;
    EXPECT(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
               WEXITSTATUS(status) == 0,
           "the scenario passed (status %d)", status);
}

static char bad_src[4096], bad_dst[4096];

static void add_bad_bind(struct spec_buf *b)
{
    spec_bind(b, bad_src, bad_dst, false);
}

static void test_bind_errors(void)
{
    struct spec_buf b;
    struct run_result r;
    /* Source missing. */
    snprintf(bad_src, sizeof bad_src, "/nonexistent-stk-source");
    snprintf(bad_dst, sizeof bad_dst, "/usr");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_bad_bind(&b);
    run(&b, NULL, &r);
    expect_error(&r, "bind", ENOENT, 125);
    EXPECT(strstr(r.detail, "/nonexistent-stk-source") != NULL, "detail names the source: %s",
           r.detail);
    run_result_free(&r);
    spec_free(&b);

    /* Target missing on a host bind (the read-only /usr): never created there. */
    make_host_dir(host_dir, sizeof host_dir);
    snprintf(bad_src, sizeof bad_src, "%s", host_dir);
    snprintf(bad_dst, sizeof bad_dst, "/usr/nonexistent-stk-target/sub");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_bad_bind(&b);
    run(&b, NULL, &r);
    expect_error(&r, "bind", ENOENT, 125);
    EXPECT(strstr(r.detail, "/usr/nonexistent-stk-target/sub") != NULL,
           "detail names the target: %s", r.detail);
    struct stat st;
    EXPECT(stat("/usr/nonexistent-stk-target", &st) < 0, "nothing created on the host");
    run_result_free(&r);
    spec_free(&b);

    /* A directory onto a file. */
    snprintf(bad_dst, sizeof bad_dst, "/etc/passwd");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_bad_bind(&b);
    run(&b, NULL, &r);
    expect_error(&r, "bind", ENOTDIR, 125);
    run_result_free(&r);
    spec_free(&b);

    /* A source that is (or goes through) a symlink: refused, whatever it points to, so a link
     * an earlier sandbox planted in its workspace cannot redirect a bind. The real path of the
     * same directory binds fine (the allowed case). */
    int length = snprintf(bad_src, sizeof bad_src, "%s/link", host_dir);
    EXPECT(length > 0 && (size_t)length < sizeof bad_src, "link path fits");
    EXPECT(symlink(host_dir, bad_src) == 0, "symlink: %s", strerror(errno));
    snprintf(bad_src, sizeof bad_src, "%s", host_dir);
    snprintf(bad_dst, sizeof bad_dst, "/usr");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_bad_bind(&b);
    run(&b, NULL, &r);
    expect_exit(&r, 0);
    run_result_free(&r);
    spec_free(&b);
    length = snprintf(bad_src, sizeof bad_src, "%s/link", host_dir);
    EXPECT(length > 0 && (size_t)length < sizeof bad_src, "link path fits");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_bad_bind(&b);
    run(&b, NULL, &r);
    expect_error(&r, "bind", ELOOP, 125);
    EXPECT(strstr(r.detail, "symbolic link") != NULL, "detail says why: %s", r.detail);
    run_result_free(&r);
    spec_free(&b);
    remove_tree(host_dir);
}

static void test_tmpfs(void)
{
    /* Writable, size-limited (1 MiB: the second MiB fails with ENOSPC), gone afterwards. */
    char path[128];
    snprintf(path, sizeof path, "/tmp/stk-tmpfs-test-%d", (int)getpid());
    probe_expect((const char *const[]){"fill", path, "524288", NULL}, add_tmpfs_tmp_with_probe,
                 "ok\n");
    probe_expect((const char *const[]){"fill", path, "2097152", NULL}, add_tmpfs_tmp_with_probe,
                 "errno=28\n");
    struct stat st;
    EXPECT(stat(path, &st) < 0 && errno == ENOENT, "the file stayed in the sandbox");
}

static void add_hostname(struct spec_buf *b)
{
    spec_string(b, STK_F_HOSTNAME, "stk-test-host");
}

static void test_hostname(void)
{
    char before[256], after[256];
    gethostname(before, sizeof before);
    probe_expect((const char *const[]){"uname", NULL}, add_hostname, "stk-test-host\n");
    probe_expect((const char *const[]){"uname", NULL}, NULL, "stockade\n");
    gethostname(after, sizeof after);
    EXPECT(strcmp(before, after) == 0 && strcmp(after, "stk-test-host") != 0,
           "the host's name is unchanged (%s)", after);
}

static void test_network(void)
{
    /* Allowed first: loopback is up inside and a server there is reachable. */
    probe_expect((const char *const[]){"loopback", NULL}, NULL, "ok\n");
    probe_expect((const char *const[]){"net", NULL}, NULL, "lo lo=up\n");
    /* Made beside pid 1 (netns.h), it still belongs to the sandbox's user namespace, as one
     * made in pid 1's clone would. */
    probe_expect((const char *const[]){"netns-owner", NULL}, NULL, "own\n");
    /* A server on the host's 127.0.0.1 is not: the sandbox's loopback is its own. */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 1) < 0 ||
        getsockname(s, (struct sockaddr *)&addr, &len) < 0) {
        perror("host server");
        stk_test_failures++;
        return;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    probe_expect((const char *const[]){"connect", port, NULL}, NULL, "errno=111\n");
    close(s);
}

/* The probe's all_namespaces line, which tries the sandbox's own sequence (netns.h). */
static void expect_all_namespaces(const char *expected)
{
    struct spec_buf b;
    spec_init(&b);
    struct run_options o = {.helper_arg = "probe", .shutdown_write = true};
    struct run_result r;
    run_helper(helper, b.data, 0, &o, &r, RUN_TIMEOUT_S);
    const char *line = strstr(r.out, "\nall_namespaces=");
    size_t len = line == NULL ? 0 : strcspn(line + 1, "\n");
    EXPECT(line != NULL && strncmp(line + 1, expected, strlen(expected)) == 0,
           "probe: %s..., got %.*s", expected, (int)len, line == NULL ? "" : line + 1);
    run_result_free(&r);
    spec_free(&b);
}

/* How the network namespace is kept from the helper in run_with_netns_refusal. */
enum netns_refusal {
    NETNS_ALLOWED,   /* a bound of 4: room for the sandbox's */
    NETNS_BOUND,     /* a bound of 0: the kernel refuses every new one, ENOSPC */
    NETNS_NO_SETNS,  /* a seccomp filter fails setns with EPERM; clone and unshare still work */
};

/* The calling process's and its children's setns fail with EPERM. */
static void deny_setns(void)
{
    if (deny_syscall_here(__NR_setns, EPERM) != 0) {
        perror("seccomp");
        _exit(1);
    }
}

/* In a child that entered a user namespace of its own (where a bound on network namespaces
 * applies to every namespace below it): runs `stk_probe net` and the probe, and returns the
 * number of failed expectations. The child is the sandbox's caller, unprivileged there (a root
 * runner is mapped to 1000), as the CI user is. */
static int run_with_netns_refusal(enum netns_refusal refusal)
{
    int unshared[2], mapped[2];
    if (pipe(unshared) < 0 || pipe(mapped) < 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child == 0) {
        close(unshared[0]);
        close(mapped[1]);
        char byte;
        if (unshare(CLONE_NEWUSER) < 0 || write(unshared[1], "1", 1) != 1 ||
            read(mapped[0], &byte, 1) != 1) {
            perror("unshare(CLONE_NEWUSER)");
            _exit(1);
        }
        write_file("/proc/sys/user/max_net_namespaces", refusal == NETNS_BOUND ? "0" : "4",
                   0644);
        if (refusal == NETNS_NO_SETNS) {
            deny_setns();
        }
        struct spec_buf b;
        struct run_result r;
        probe_spec(&b, (const char *const[]){"net", NULL});
        run(&b, NULL, &r);
        if (refusal == NETNS_BOUND) {
            expect_error(&r, "network_namespace", ENOSPC, 125);
            expect_all_namespaces("all_namespaces=no errno=28 ");
        } else if (refusal == NETNS_NO_SETNS) {
            /* The probe tries what the sandbox does, not only the clone. */
            expect_error(&r, "network_namespace", EPERM, 125);
            expect_all_namespaces("all_namespaces=no errno=1 ");
        } else {
            if (expect_exit(&r, 0)) {
                expect_output(&r, "lo lo=up\n");
            }
            expect_all_namespaces("all_namespaces=yes\n");
        }
        run_result_free(&r);
        spec_free(&b);
        _exit(stk_test_failures == 0 ? 0 : 1);
    }
    close(unshared[1]);
    close(mapped[0]);
    /* The maps, from the parent's user namespace: only it can write them. */
    char path[64], map[64], byte;
    unsigned inside = is_root() ? 1000u : (unsigned)getuid();
    if (read(unshared[0], &byte, 1) != 1) {
        perror("read");
    }
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)child);
    write_file(path, "deny", 0644);
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
    snprintf(map, sizeof map, "%u %u 1\n", inside, (unsigned)getuid());
    write_file(path, map, 0644);
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
    snprintf(map, sizeof map, "%u %u 1\n", is_root() ? 1000u : (unsigned)getgid(),
             (unsigned)getgid());
    write_file(path, map, 0644);
    if (write(mapped[1], "1", 1) != 1) {
        perror("write");
    }
    close(mapped[1]);
    close(unshared[0]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Where no network namespace can be made, set-up stops at step network_namespace with the
 * kernel's errno and nothing runs. */
static void test_network_namespace_refused(void)
{
    EXPECT(run_with_netns_refusal(NETNS_ALLOWED) == 0, "a bound of 4 leaves room for the sandbox's");
    EXPECT(run_with_netns_refusal(NETNS_BOUND) == 0, "a bound of 0 refuses it: network_namespace");
    EXPECT(run_with_netns_refusal(NETNS_NO_SETNS) == 0, "no setns: network_namespace, EPERM");
}

static void add_timeout(struct spec_buf *b)
{
    spec_u64(b, STK_F_TIMEOUT_MS, 300);
    spec_u64(b, STK_F_KILL_GRACE_MS, 300);
}

/* For commands that must reach a point (a signal disposition, a daemon) before the timeout
 * hits: the 3 s are a margin for a start-up that takes milliseconds, not a measurement. */
static void add_long_timeout(struct spec_buf *b)
{
    spec_u64(b, STK_F_TIMEOUT_MS, 3000);
    spec_u64(b, STK_F_KILL_GRACE_MS, 300);
}

static void test_timeout(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    add_timeout(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGTERM, STK_EXIT_TIMED_OUT);
    EXPECT(r.wall_ns >= 300000000ull, "killed no earlier than the timeout (%llu ns)",
           (unsigned long long)r.wall_ns);
    run_result_free(&r);
    spec_free(&b);

    /* A command that ignores SIGTERM gets SIGKILL after the grace. */
    probe_spec(&b, (const char *const[]){"ignore-term", NULL});
    add_long_timeout(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGKILL, STK_EXIT_TIMED_OUT);
    EXPECT(strcmp(r.out, "ready\n") == 0, "it ran: [%s]", r.out);
    run_result_free(&r);
    spec_free(&b);
}

/* A double-forked, setsid daemon is gone when the sandbox ends: after the command exits
 * normally, and after a timeout. */
static void test_daemon_gone(void)
{
    static const char *const modes[] = {"exit", "sleep"};
    for (int i = 0; i < 2; i++) {
        char marker[96];
        make_marker(marker, sizeof marker);
        struct marker_ctx ctx = {.marker = marker, .seen = -1};
        struct run_options o = {.wait_for_stdout = "ready\n", .hold_stdin = true,
                                .on_ready = on_ready_count, .ctx = &ctx};
        struct spec_buf b;
        struct run_result r;
        probe_spec(&b, (const char *const[]){"daemonize", marker, modes[i], NULL});
        if (i == 1) {
            add_long_timeout(&b);
        }
        run(&b, &o, &r);
        if (i == 0) {
            expect_exit(&r, 0);
        } else {
            expect_signal(&r, SIGTERM, STK_EXIT_TIMED_OUT);
        }
        EXPECT(ctx.seen == 1, "the daemon ran on the host (seen %d)", ctx.seen);
        EXPECT(count_marked(marker) == 0, "the daemon is gone once EXITED arrived (%s)",
               modes[i]);
        run_result_free(&r);
        spec_free(&b);
    }
}

static void test_kill_frame(void)
{
    struct spec_buf b;
    struct run_result r;
    struct run_options graceful = {.after_started = 1, .kill_mode = STK_KILL_GRACEFUL};
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    run(&b, &graceful, &r);
    expect_signal(&r, SIGTERM, STK_EXIT_KILLED);
    run_result_free(&r);
    spec_free(&b);

    struct run_options now = {.after_started = 1, .kill_mode = STK_KILL_NOW};
    probe_spec(&b, (const char *const[]){"ignore-term", NULL});
    run(&b, &now, &r);
    expect_signal(&r, SIGKILL, STK_EXIT_KILLED);
    run_result_free(&r);
    spec_free(&b);

    /* Graceful on a command that ignores SIGTERM: SIGKILL after the grace. */
    struct run_options graceful_ready = {.after_started = 1,
                                         .kill_mode = STK_KILL_GRACEFUL,
                                         .wait_for_stdout = "ready\n"};
    probe_spec(&b, (const char *const[]){"ignore-term", NULL});
    spec_u64(&b, STK_F_KILL_GRACE_MS, 200);
    run(&b, &graceful_ready, &r);
    expect_signal(&r, SIGKILL, STK_EXIT_KILLED);
    run_result_free(&r);
    spec_free(&b);
}

/* The Java side closes the control socket (or its JVM dies): the whole sandbox goes. */
static void test_control_eof(void)
{
    char marker[96];
    make_marker(marker, sizeof marker);
    struct marker_ctx ctx = {.marker = marker, .seen = -1};
    struct run_options o = {.after_started = 2, .wait_for_stdout = "ready\n",
                            .on_ready = on_ready_count, .ctx = &ctx};
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"daemonize", marker, "sleep", NULL});
    run(&b, &o, &r);
    EXPECT(r.started && !r.error, "it started");
    EXPECT(ctx.seen == 1, "the daemon ran (seen %d)", ctx.seen);
    EXPECT(WIFEXITED(r.helper_status) && WEXITSTATUS(r.helper_status) == 0,
           "the helper ended by itself (status 0x%x)", (unsigned)r.helper_status);
    EXPECT(count_marked(marker) == 0, "the daemon is gone when the helper has exited");
    run_result_free(&r);
    spec_free(&b);

    /* The helper itself killed: pid 1's parent-death signal takes the sandbox down. */
    make_marker(marker, sizeof marker);
    ctx.seen = -1;
    struct run_options k = {.after_started = 3, .signal_to_helper = SIGKILL,
                            .wait_for_stdout = "ready\n", .on_ready = on_ready_count,
                            .ctx = &ctx};
    probe_spec(&b, (const char *const[]){"daemonize", marker, "sleep", NULL});
    run(&b, &k, &r);
    EXPECT(WIFSIGNALED(r.helper_status) && WTERMSIG(r.helper_status) == SIGKILL,
           "the helper was killed");
    EXPECT(ctx.seen == 1, "the daemon ran (seen %d)", ctx.seen);
    EXPECT(wait_marked_gone(marker) == 0, "the daemon is gone after the helper died");
    run_result_free(&r);
    spec_free(&b);
}

static void test_signal_forwarding(void)
{
    struct spec_buf b;
    struct run_result r;
    struct run_options o = {.after_started = 3, .signal_to_helper = SIGTERM};
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    run(&b, &o, &r);
    expect_signal(&r, SIGTERM, 0);
    run_result_free(&r);
    spec_free(&b);

    struct run_options hup = {.after_started = 3, .signal_to_helper = SIGHUP};
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    run(&b, &hup, &r);
    expect_signal(&r, SIGHUP, 0);
    run_result_free(&r);
    spec_free(&b);
}

/* ---- malformed specs ---- */

static void expect_spec_error(struct spec_buf *b, const struct run_options *o, const char *step,
                              uint32_t err, const char *what)
{
    struct run_result r;
    run(b, o, &r);
    int before = stk_test_failures;
    expect_error(&r, step, err, 125);
    if (stk_test_failures != before) {
        fprintf(stderr, "    (case: %s)\n", what);
    }
    run_result_free(&r);
    spec_free(b);
}

static void minimal(struct spec_buf *b)
{
    spec_init(b);
    spec_args(b, (const char *const[]){probe, "exit", "0", NULL});
}

static void test_malformed_specs(void)
{
    struct spec_buf b;
    spec_init_raw(&b, 0x12345678u, STK_VERSION);
    spec_string(&b, STK_F_ARG, probe);
    expect_spec_error(&b, NULL, "spec", EPROTO, "bad magic");

    spec_init_raw(&b, STK_MAGIC, 99);
    spec_string(&b, STK_F_ARG, probe);
    expect_spec_error(&b, NULL, "spec", EPROTO, "bad version");

    minimal(&b);
    uint8_t truncated[12] = {STK_F_ARG, 0, 0, 0, 100, 0, 0, 0, 'a', 'b', 'c', 'd'};
    spec_raw(&b, truncated, sizeof truncated);
    expect_spec_error(&b, NULL, "spec", EINVAL, "truncated field");

    minimal(&b);
    uint8_t short_header[5] = {STK_F_CWD, 0, 0, 0, 1};
    spec_raw(&b, short_header, sizeof short_header);
    expect_spec_error(&b, NULL, "spec", EINVAL, "truncated field header");

    minimal(&b);
    spec_bytes_field(&b, STK_F_ARG, "a\0b", 3);
    expect_spec_error(&b, NULL, "spec", EINVAL, "string with NUL");

    minimal(&b);
    for (unsigned int i = 0; i < STK_MAX_ARGS; i++) {
        spec_string(&b, STK_F_ARG, "x");
    }
    expect_spec_error(&b, NULL, "spec", EINVAL, "too many args");

    minimal(&b);
    spec_u32(&b, 99, 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "unknown tag");

    minimal(&b);
    spec_bytes_field(&b, STK_F_SECCOMP_BPF, "123456789012", 12);
    expect_spec_error(&b, NULL, "spec", EINVAL, "BPF length not a multiple of 8");

    minimal(&b);
    spec_bytes_field(&b, STK_F_SECCOMP_BPF, "", 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "empty BPF");

    spec_init(&b);
    spec_string(&b, STK_F_ENV, "A=1");
    expect_spec_error(&b, NULL, "spec", EINVAL, "no ARG");

    minimal(&b);
    spec_string(&b, STK_F_CWD, "relative/dir");
    expect_spec_error(&b, NULL, "spec", EINVAL, "relative CWD");

    minimal(&b);
    spec_string(&b, STK_F_CWD, "/");
    spec_string(&b, STK_F_CWD, "/");
    expect_spec_error(&b, NULL, "spec", EINVAL, "CWD twice");

    minimal(&b);
    spec_string(&b, STK_F_ENV, "NOEQUALS");
    expect_spec_error(&b, NULL, "spec", EINVAL, "ENV without =");

    minimal(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES | 0x80u /* CLONE_NEWTIME */);
    expect_spec_error(&b, NULL, "spec", EINVAL, "CLONE_NEWTIME");

    minimal(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUTS);
    spec_string(&b, STK_F_HOSTNAME, "host");
    expect_spec_error(&b, NULL, "spec", EINVAL, "HOSTNAME without NEWUTS");

    minimal(&b);
    spec_string(&b, STK_F_HOSTNAME,
                "a1234567890123456789012345678901234567890123456789012345678901234");
    expect_spec_error(&b, NULL, "spec", EINVAL, "hostname of 65 bytes");

    minimal(&b);
    spec_rlimit(&b, RLIMIT_NOFILE, 100, 10);
    expect_spec_error(&b, NULL, "spec", EINVAL, "soft above hard");

    minimal(&b);
    spec_rlimit(&b, RLIM_NLIMITS, 1, 1);
    expect_spec_error(&b, NULL, "spec", EINVAL, "resource >= RLIM_NLIMITS");

    minimal(&b);
    spec_bind(&b, "/usr", "/usr/../etc", true);
    expect_spec_error(&b, NULL, "spec", EINVAL, "mount dst with ..");

    minimal(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWNS);
    spec_tmpfs(&b, "/tmp", 4096);
    expect_spec_error(&b, NULL, "spec", EINVAL, "MOUNT without NEWNS");

    minimal(&b);
    spec_tmpfs(&b, "/tmp", 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "TMPFS without a size");

    minimal(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUSER);
    uint8_t limit[16] = {STK_USER_LIMIT_INOTIFY_INSTANCES, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0};
    spec_bytes_field(&b, STK_F_USER_LIMIT, limit, sizeof limit);
    expect_spec_error(&b, NULL, "spec", EINVAL, "USER_LIMIT without NEWUSER");

    minimal(&b);
    spec_bytes_field(&b, STK_F_USER_LIMIT, limit, sizeof limit);
    spec_bytes_field(&b, STK_F_USER_LIMIT, limit, sizeof limit);
    expect_spec_error(&b, NULL, "spec", EINVAL, "USER_LIMIT twice");

    minimal(&b);
    spec_u32(&b, STK_F_PTY_MAX, 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "PTY_MAX 0");

    /* MAX_OUTPUT: u64 bytes (1..2^62), u32 action, u32 reserved 0; the relay runs in the
     * Java tests (OutputLimitTest). */
    static const struct {
        uint64_t bytes;
        uint32_t action, reserved;
        const char *what;
    } bad_outputs[] = {
        {0, STK_OUTPUT_DROP, 0, "MAX_OUTPUT 0"},
        {STK_MAX_OUTPUT_BYTES + 1, STK_OUTPUT_DROP, 0, "MAX_OUTPUT above 2^62"},
        {1, 2, 0, "MAX_OUTPUT unknown action"},
        {1, STK_OUTPUT_KILL, 1, "MAX_OUTPUT reserved word"},
    };
    for (size_t i = 0; i < sizeof bad_outputs / sizeof bad_outputs[0]; i++) {
        uint8_t field[16];
        for (int k = 0; k < 8; k++) {
            field[k] = (uint8_t)(bad_outputs[i].bytes >> (8 * k));
        }
        for (int k = 0; k < 4; k++) {
            field[8 + k] = (uint8_t)(bad_outputs[i].action >> (8 * k));
            field[12 + k] = (uint8_t)(bad_outputs[i].reserved >> (8 * k));
        }
        minimal(&b);
        spec_bytes_field(&b, STK_F_MAX_OUTPUT, field, sizeof field);
        expect_spec_error(&b, NULL, "spec", EINVAL, bad_outputs[i].what);
    }
    minimal(&b);
    spec_bytes_field(&b, STK_F_MAX_OUTPUT, (uint8_t[8]){1}, 8);
    expect_spec_error(&b, NULL, "spec", EINVAL, "MAX_OUTPUT of 8 bytes");

    minimal(&b);
    spec_u64(&b, STK_F_MEMORY_MAX, STK_MIN_MEMORY_MAX - 1);
    expect_spec_error(&b, NULL, "spec", EINVAL, "MEMORY_MAX below the minimum");

    minimal(&b);
    spec_u32(&b, STK_F_MEMORY_MAX, 1u << 30);
    expect_spec_error(&b, NULL, "spec", EINVAL, "MEMORY_MAX of 4 bytes");

    minimal(&b);
    spec_u64(&b, STK_F_MEMORY_SWAP_MAX, 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "MEMORY_SWAP_MAX without MEMORY_MAX");

    minimal(&b);
    spec_u64(&b, STK_F_PIDS_MAX, 0);
    expect_spec_error(&b, NULL, "spec", EINVAL, "PIDS_MAX 0");

    minimal(&b);
    spec_u64(&b, STK_F_PIDS_MAX, STK_MAX_PIDS + 1ull);
    expect_spec_error(&b, NULL, "spec", EINVAL, "PIDS_MAX above STK_MAX_PIDS");

    minimal(&b);
    uint8_t cpu[8] = {0xe8, 0x03, 0, 0, 0x0f, 0x27, 0, 0}; /* quota 1000, period below */
    cpu[6] = 0x98; /* period 9971471 us: above STK_MAX_CPU_PERIOD_US */
    spec_bytes_field(&b, STK_F_CPU_MAX, cpu, sizeof cpu);
    expect_spec_error(&b, NULL, "spec", EINVAL, "CPU_MAX period above the maximum");

    minimal(&b);
    uint8_t small_quota[8] = {0xe7, 0x03, 0, 0, 0xa0, 0x86, 0x01, 0}; /* 999, 100000 */
    spec_bytes_field(&b, STK_F_CPU_MAX, small_quota, sizeof small_quota);
    expect_spec_error(&b, NULL, "spec", EINVAL, "CPU_MAX quota below the minimum");

    minimal(&b);
    uint8_t bad_type[32] = {7, 0, 0, 0};
    spec_bytes_field(&b, STK_F_MOUNT, bad_type, 24);
    expect_spec_error(&b, NULL, "spec", EINVAL, "unknown mount type");

    /* Each mount type's rules (stockade.h); the allowed forms run in the view tests. */
    static const struct {
        uint32_t type, flags;
        uint64_t size;
        const char *src, *what;
    } bad_mounts[] = {
        {STK_MOUNT_TMPFS, STK_MOUNT_READONLY, 4096, "", "TMPFS READONLY"},
        {STK_MOUNT_SYMLINK, STK_MOUNT_READONLY, 0, "usr/bin", "SYMLINK with flags"},
        {STK_MOUNT_SYMLINK, 0, 1, "usr/bin", "SYMLINK with a size"},
        {STK_MOUNT_SYMLINK, 0, 0, "", "SYMLINK without content"},
        {STK_MOUNT_OVERLAY, 0, 4096, "relative", "OVERLAY relative src"},
        {STK_MOUNT_OVERLAY, 0, 0, "/usr", "OVERLAY without a size"},
        {STK_MOUNT_OVERLAY, STK_MOUNT_READONLY, 4096, "/usr", "OVERLAY with flags"},
        {STK_MOUNT_FILE, 0, 01644, "x", "FILE mode with the sticky bit"},
        {STK_MOUNT_FILE, 0, 04755, "x", "FILE set-user-ID mode"},
        {STK_MOUNT_FILE, STK_MOUNT_READONLY, 0644, "x", "FILE with flags"},
        {STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 0, "relative", "PROTECT relative src"},
        {STK_MOUNT_PROTECT, STK_MOUNT_READONLY | STK_MOUNT_DIRECTORY, 0, "/w/x",
         "PROTECT DIRECTORY without CREATE"},
        {STK_MOUNT_PROTECT, STK_MOUNT_CREATE, 0, "/w/x", "PROTECT CREATE without READONLY"},
        {STK_MOUNT_PROTECT, STK_MOUNT_READONLY | STK_MOUNT_IDMAP, 0, "/w/x", "PROTECT IDMAP"},
        {STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 1, "/w/x", "PROTECT with a size"},
        {STK_MOUNT_BIND, STK_MOUNT_IDMAP_OWNER | STK_MOUNT_READONLY, 0, "/w",
         "IDMAP_OWNER READONLY"},
        {STK_MOUNT_BIND, STK_MOUNT_IDMAP_OWNER | STK_MOUNT_IDMAP, 0, "/w", "IDMAP_OWNER IDMAP"},
        {STK_MOUNT_BIND, STK_MOUNT_PRIVATE, 0, "/w", "BIND PRIVATE"},
    };
    for (size_t i = 0; i < sizeof bad_mounts / sizeof bad_mounts[0]; i++) {
        minimal(&b);
        spec_mount(&b, bad_mounts[i].type, bad_mounts[i].flags, bad_mounts[i].size,
                   bad_mounts[i].src, "/w/x");
        expect_spec_error(&b, NULL, "spec", EINVAL, bad_mounts[i].what);
    }

    minimal(&b);
    uint8_t reserved[12] = {STK_F_UID, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0};
    spec_raw(&b, reserved, sizeof reserved);
    expect_spec_error(&b, NULL, "spec", EINVAL, "reserved header bits");

    if (!is_root()) {
        minimal(&b);
        spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWUSER);
        expect_spec_error(&b, NULL, "spec", EPERM, "unprivileged without NEWUSER");
    }

    /* Frame-level problems. */
    spec_init(&b);
    b.len = 0;
    uint8_t huge[8] = {STK_MSG_SPEC, 0, 0, 0, 0, 0, 0, 2}; /* 32 MiB */
    spec_raw(&b, huge, sizeof huge);
    struct run_options shut = {.shutdown_write = true};
    {
        struct run_result r;
        if (run_helper(helper, b.data, b.len, &shut, &r, RUN_TIMEOUT_S) < 0) {
            stk_test_failures++;
        }
        expect_error(&r, "spec", EINVAL, 125);
        run_result_free(&r);
        spec_free(&b);
    }

    spec_init(&b);
    b.len = 0;
    uint8_t kill_first[12] = {STK_MSG_KILL, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0};
    spec_raw(&b, kill_first, sizeof kill_first);
    {
        struct run_result r;
        if (run_helper(helper, b.data, b.len, &shut, &r, RUN_TIMEOUT_S) < 0) {
            stk_test_failures++;
        }
        expect_error(&r, "protocol", EPROTO, 125);
        run_result_free(&r);
        spec_free(&b);
    }

    /* The frame announces more than arrives before EOF. */
    minimal(&b);
    {
        size_t len;
        spec_finish(&b, &len);
        struct run_result r;
        if (run_helper(helper, b.data, len - 3, &shut, &r, RUN_TIMEOUT_S) < 0) {
            stk_test_failures++;
        }
        expect_error(&r, "protocol", EPROTO, 125);
        run_result_free(&r);
        spec_free(&b);
    }
}

/* ---- exec failures ---- */

static void exec_case(const char *program, const char *path_env, const char *step,
                      uint32_t err, uint32_t code)
{
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_string(&b, STK_F_ARG, program);
    add_view(&b);
    if (path_env != NULL) {
        spec_string(&b, STK_F_ENV, path_env);
    }
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    run(&b, NULL, &r);
    int before = stk_test_failures;
    expect_error(&r, step, err, code);
    if (stk_test_failures != before) {
        fprintf(stderr, "    (program %s)\n", program);
    }
    run_result_free(&r);
    spec_free(&b);
}

static void test_exec_errors(void)
{
    exec_case("/nonexistent-stk/program", NULL, "execve", ENOENT, 127);
    exec_case("stk-no-such-command", "PATH=/usr/bin:/bin", "execve", ENOENT, 127);
    exec_case("/etc/passwd", NULL, "execve", EACCES, 126);
    exec_case("/etc", NULL, "execve", EACCES, 126);
    /* Found in PATH but not executable: 126, even though later entries do not have it. */
    exec_case("passwd", "PATH=/etc:/nonexistent-stk", "execve", EACCES, 126);
    /* The PATH search itself works (allowed case). */
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_args(&b, (const char *const[]){"true", NULL});
    add_view(&b);
    spec_string(&b, STK_F_ENV, "PATH=/nonexistent-stk:/usr/bin:/bin");
    run(&b, NULL, &r);
    expect_exit(&r, 0);
    run_result_free(&r);
    spec_free(&b);
}

static void test_cwd_env(void)
{
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "cwd", NULL});
    add_view(&b);
    spec_string(&b, STK_F_CWD, "/usr/bin");
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "/usr/bin\n");
    }
    run_result_free(&r);
    spec_free(&b);

    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "cwd", NULL});
    add_view(&b);
    spec_string(&b, STK_F_CWD, "/nonexistent-stk-cwd");
    run(&b, NULL, &r);
    expect_error(&r, "chdir", ENOENT, 125);
    run_result_free(&r);
    spec_free(&b);

    /* The environment is exactly the spec's: nothing of the caller's leaks in. */
    setenv("STK_CALLER_SECRET", "leak", 1);
    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "env", NULL});
    add_view(&b);
    spec_string(&b, STK_F_ENV, "A=1");
    spec_string(&b, STK_F_ENV, "B=two words");
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "A=1\nB=two words\n");
    }
    run_result_free(&r);
    spec_free(&b);
}

static void add_limits(struct spec_buf *b)
{
    spec_rlimit(b, RLIMIT_NOFILE, 32, 64);
    spec_rlimit(b, RLIMIT_FSIZE, 4096, 4096);
}

static void add_core(struct spec_buf *b)
{
    spec_rlimit(b, RLIMIT_CORE, 1024, 2048);
}

static void test_rlimits(void)
{
    char nofile[16], core[16];
    snprintf(nofile, sizeof nofile, "%d", RLIMIT_NOFILE);
    snprintf(core, sizeof core, "%d", RLIMIT_CORE);
    probe_expect((const char *const[]){"rlimit", nofile, NULL}, add_limits, "32 64\n");
    probe_expect((const char *const[]){"rlimit", core, NULL}, NULL, "0 0\n");
    probe_expect((const char *const[]){"rlimit", core, NULL}, add_core, "1024 2048\n");

    /* RLIMIT_FSIZE: the write past 4096 bytes raises SIGXFSZ. */
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"fill", "/tmp/big", "8192", NULL});
    add_limits(&b);
    add_tmpfs_tmp_with_probe(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGXFSZ, 0);
    run_result_free(&r);
    spec_free(&b);

    /* Raising a hard limit needs CAP_SYS_RESOURCE, which the sandbox never has. */
    struct rlimit current;
    getrlimit(RLIMIT_NOFILE, &current);
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_rlimit(&b, RLIMIT_NOFILE, current.rlim_max + 1, current.rlim_max + 1);
    run(&b, NULL, &r);
    expect_error(&r, "rlimit", EPERM, 125);
    EXPECT(strstr(r.detail, "RLIMIT_NOFILE") != NULL, "detail names the limit: %s", r.detail);
    run_result_free(&r);
    spec_free(&b);
}

static void test_fds(void)
{
    /* fd 7 leaks into the helper without O_CLOEXEC, as the JVM does; the command sees only
     * its stdio. */
    struct spec_buf b;
    struct run_result r;
    struct run_options o = {.leak_fd = 7};
    probe_spec(&b, (const char *const[]){"fds", NULL});
    run(&b, &o, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "0 1 2\n");
    }
    run_result_free(&r);
    spec_free(&b);
}

static void test_dev(void)
{
    probe_expect((const char *const[]){"write", "/dev/null", "discarded", NULL}, NULL, "ok\n");
    probe_expect((const char *const[]){"mkdir", "/dev/shm/stk-dir", NULL}, NULL, "ok\n");
    probe_expect((const char *const[]){"create", "/dev/stk-new-node", NULL}, NULL, "errno=30\n");
    probe_expect((const char *const[]){"fds", NULL}, NULL, "0 1 2\n");
}

/* Denies mkdir and mkdirat with EPERM, allows the rest; kills on a foreign architecture. */
static void add_filter(struct spec_buf *b)
{
#if defined(__x86_64__)
    const uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    const uint32_t arch = AUDIT_ARCH_AARCH64;
#else
#error "add the audit architecture of this machine"
#endif
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __NR_mkdir
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdir, 2, 0),
#else
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdirat, 2, 0),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdirat, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    spec_bpf(b, insns, sizeof insns / sizeof insns[0]);
}

static void add_filter_and_tmp(struct spec_buf *b)
{
    add_filter(b);
    add_tmpfs_tmp_with_probe(b);
}

static void test_seccomp(void)
{
    /* Allowed first: mkdir works in the sandbox's tmpfs without a filter. */
    probe_expect((const char *const[]){"mkdir", "/tmp/d", NULL}, add_tmpfs_tmp_with_probe, "ok\n");
    probe_expect((const char *const[]){"mkdir", "/tmp/d", NULL}, add_filter_and_tmp,
                 "errno=1\n");
    probe_expect((const char *const[]){"create", "/tmp/f", NULL}, add_filter_and_tmp, "ok\n");
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"status", NULL});
    add_filter(&b);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(strstr(r.out, "Seccomp:\t2\n") != NULL, "filter mode, got [%s]", r.out);
    }
    run_result_free(&r);
    spec_free(&b);
}

static void test_without_pid_namespace(void)
{
    struct spec_buf b;
    struct run_result r;
    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "pid", NULL});
    add_view(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWPID);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        char expected[64];
        snprintf(expected, sizeof expected, "pid=%d ppid=%d\n", r.command_pid, r.sandbox_pid);
        expect_output(&r, expected);
        EXPECT(r.command_pid != 2, "host pids without a pid namespace");
    }
    run_result_free(&r);
    spec_free(&b);

    spec_init(&b);
    spec_args(&b, (const char *const[]){probe, "sleep", "1000", NULL});
    add_view(&b);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWPID);
    add_timeout(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGTERM, STK_EXIT_TIMED_OUT);
    run_result_free(&r);
    spec_free(&b);

    /* No namespace holds the sandbox together; the command's process group still goes: when
     * the command exits (pid 1 kills it), and on KILL NOW (the monitor, through a pidfd). */
    for (int i = 0; i < 2; i++) {
        char marker[96];
        make_marker(marker, sizeof marker);
        struct marker_ctx ctx = {.marker = marker, .seen = -1};
        struct run_options o = {.wait_for_stdout = "ready\n", .hold_stdin = true,
                                .on_ready = on_ready_count, .ctx = &ctx};
        if (i == 1) {
            o.after_started = 1;
            o.kill_mode = STK_KILL_NOW;
        }
        spec_init(&b);
        spec_args(&b, (const char *const[]){probe, "background", marker,
                                            i == 0 ? "exit" : "sleep", NULL});
        add_view(&b);
        spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES & ~CLONE_NEWPID);
        run(&b, &o, &r);
        if (i == 0) {
            expect_exit(&r, 0);
        } else {
            expect_signal(&r, SIGKILL, STK_EXIT_KILLED);
        }
        EXPECT(ctx.seen == 1, "the background process ran (seen %d)", ctx.seen);
        /* SIGKILL was sent before EXITED; the host's init reaps the orphan on its own time. */
        EXPECT(wait_marked_gone(marker) == 0, "the background process is gone");
        run_result_free(&r);
        spec_free(&b);
    }
}

/* `stockade-helper probe`: every line follows the documented grammar, every feature is
 * there, and this machine (the tests' premise) has user namespaces. */
static void add_cgroup_limits(struct spec_buf *b)
{
    spec_u64(b, STK_F_MEMORY_MAX, 64u << 20);
    spec_u64(b, STK_F_PIDS_MAX, 16);
    uint8_t cpu[8] = {0x50, 0xc3, 0, 0, 0xa0, 0x86, 0x01, 0}; /* 50000 of 100000 us */
    spec_bytes_field(b, STK_F_CPU_MAX, cpu, sizeof cpu);
}

/* MEMORY_MAX, PIDS_MAX, CPU_MAX: the sandbox's own cgroups where the caller can make them
 * (root here), else a fail-closed ERROR at step "cgroup" that says how to get one. */
static void test_cgroup(void)
{
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"alloc", "16", NULL});
    add_cgroup_limits(&b);
    run(&b, NULL, &r);
    if (r.error) {
        expect_error(&r, "cgroup", EACCES, 125);
        EXPECT(!is_root(), "root can make cgroups here");
        EXPECT(strstr(r.detail, "systemd-run --user --scope -p Delegate=yes") != NULL,
               "the detail says how to get a cgroup: %s", r.detail);
        run_result_free(&r);
        spec_free(&b);
        return;
    }
    expect_exit(&r, 0);
    expect_output(&r, "ok\n");
    EXPECT(r.peak_memory_bytes >= 16u << 20 && r.peak_memory_bytes <= 64u << 20,
           "peak memory of the whole sandbox, got %llu", (unsigned long long)r.peak_memory_bytes);
    EXPECT(r.peak_processes >= 2 && r.peak_processes <= 16, "peak processes, got %llu",
           (unsigned long long)r.peak_processes);
    run_result_free(&r);
    spec_free(&b);

    probe_spec(&b, (const char *const[]){"alloc", "256", NULL});
    add_cgroup_limits(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGKILL, STK_EXIT_MEMORY_LIMIT);
    expect_output(&r, "");
    run_result_free(&r);
    spec_free(&b);
}

static void test_probe_mode(void)
{
    struct spec_buf b;
    spec_init(&b);
    struct run_options o = {.helper_arg = "probe", .shutdown_write = true};
    struct run_result r;
    run_helper(helper, b.data, 0, &o, &r, RUN_TIMEOUT_S);
    EXPECT(WIFEXITED(r.helper_status) && WEXITSTATUS(r.helper_status) == 0, "probe exits 0");
    static const char *const names[] = {
        "user_namespace", "pid_namespace", "mount_namespace", "network_namespace",
        "ipc_namespace", "uts_namespace", "cgroup_namespace", "all_namespaces",
        "seccomp_filter", "seccomp_user_notif", "landlock", "idmapped_mounts", "cgroup",
        "cgroup_delegation"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s=", names[i]);
        const char *line = r.out;
        bool found = false;
        while (line != NULL && *line != '\0') {
            if (strncmp(line, key, strlen(key)) == 0) {
                found = true;
                const char *value = line + strlen(key);
                const char *end = strchr(line, '\n');
                size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
                char copy[1024];
                snprintf(copy, sizeof copy, "%.*s", (int)len, line);
                if (strncmp(value, "no", 2) == 0) {
                    EXPECT(strstr(copy, " errno=") != NULL && strstr(copy, " reason=") != NULL,
                           "a 'no' line has errno= and reason=: %s", copy);
                } else if (strcmp(names[i], "cgroup") == 0) {
                    EXPECT(strncmp(value, "v1\n", 3) == 0 || strncmp(value, "v2\n", 3) == 0 ||
                               strncmp(value, "hybrid\n", 7) == 0 ||
                               strncmp(value, "none\n", 5) == 0,
                           "cgroup=v1|v2|hybrid|none: %s", copy);
                } else {
                    EXPECT(strncmp(value, "yes", 3) == 0 &&
                               (value[3] == '\n' || value[3] == ' ' || value[3] == '\0'),
                           "yes or no: %s", copy);
                }
            }
            line = strchr(line, '\n');
            line = line != NULL ? line + 1 : NULL;
        }
        EXPECT(found, "a line for %s", names[i]);
    }
    EXPECT(strstr(r.out, "user_namespace=yes\n") != NULL, "user namespaces available");
    EXPECT(r.events == 0, "no protocol frames in probe mode");
    run_result_free(&r);
    spec_free(&b);
}

/* ---- the caller's terminal ---- */

/* A pty pair of the test's own, standing for the caller's terminal: a window size and a
 * non-default termios to recognise, slave opened without becoming anyone's ctty. */
struct test_tty {
    int master, slave;
};

static void open_test_tty(struct test_tty *t)
{
    t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->master < 0 || grantpt(t->master) != 0 || unlockpt(t->master) != 0) {
        perror("posix_openpt");
        exit(2);
    }
    t->slave = open(ptsname(t->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct winsize ws = {.ws_row = 33, .ws_col = 101};
    if (t->slave < 0 || ioctl(t->slave, TIOCSWINSZ, &ws) != 0) {
        perror("test pty slave");
        exit(2);
    }
    struct termios tio;
    tcgetattr(t->slave, &tio);
    tio.c_cc[VERASE] = 0x08;
    tcsetattr(t->slave, TCSANOW, &tio);
}

static void close_test_tty(struct test_tty *t)
{
    close(t->slave);
    close(t->master);
}

/* What the test checks of its terminal: everything tty-attack changes. */
struct tty_state {
    struct termios tio;
    int ldisc;
    int exclusive;
    struct winsize ws;
};

/* The tty core's own settings; n_null answers none of the line discipline's (TCGETS). */
static void read_tty_core_state(int fd, struct tty_state *s)
{
    memset(s, 0, sizeof *s);
    if (ioctl(fd, TIOCGETD, &s->ldisc) != 0 || ioctl(fd, TIOCGEXCL, &s->exclusive) != 0 ||
        ioctl(fd, TIOCGWINSZ, &s->ws) != 0) {
        perror("reading the test terminal's state");
        stk_test_failures++;
    }
}

static void read_termios(int fd, struct tty_state *s)
{
    if (tcgetattr(fd, &s->tio) != 0) {
        perror("tcgetattr of the test terminal");
        stk_test_failures++;
    }
}

static void read_tty_state(int fd, struct tty_state *s)
{
    read_tty_core_state(fd, s);
    read_termios(fd, s);
}

/* Everything readable from the master within a short while (the pty buffers it all). */
static void read_master(int master, char *buf, size_t size)
{
    size_t len = 0;
    struct pollfd pfd = {.fd = master, .events = POLLIN};
    while (len + 1 < size && poll(&pfd, 1, 200) == 1) {
        ssize_t n = read(master, buf + len, size - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
}

/* Writes one byte on the slave without blocking: 1 when the terminal's output flows. */
static ssize_t try_output(const struct test_tty *t)
{
    int flags = fcntl(t->slave, F_GETFL);
    fcntl(t->slave, F_SETFL, flags | O_NONBLOCK);
    ssize_t n = write(t->slave, "x", 1);
    fcntl(t->slave, F_SETFL, flags);
    return n;
}

#define TTY_ATTACK_RESULTS " tcsets=ok winsz=ok excl=ok flush=ok tcooff=ok setd=ok\n"

/* stk_probe tty-attack as a plain process on the test's terminal (stdin, stdout), its stderr
 * returned in err_out. */
static void attack_without_sandbox(const struct test_tty *t, char *err_out, size_t size)
{
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) {
        perror("pipe2");
        exit(2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(t->slave, 0) < 0 || dup2(t->slave, 1) < 0 || dup2(err[1], 2) < 0) {
            _exit(120);
        }
        execl(probe, probe, "tty-attack", (char *)NULL);
        _exit(122);
    }
    close(err[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(err[0], err_out + len, size - 1 - len)) > 0) {
        len += (size_t)n;
    }
    err_out[len] = '\0';
    close(err[0]);
    int status;
    waitpid(pid, &status, 0);
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tty-attack exits 0 unsandboxed");
}

static void test_terminal(void)
{
    /* The attack without the sandbox: every change lands on the caller's terminal and stays
     * after the process is gone. */
    struct test_tty plain;
    open_test_tty(&plain);
    struct tty_state before, after;
    read_tty_state(plain.slave, &before);
    EXPECT(before.ldisc == 0 && before.exclusive == 0, "a fresh terminal: N_TTY, not exclusive");
    char err_out[512];
    attack_without_sandbox(&plain, err_out, sizeof err_out);
    EXPECT(strstr(err_out, TTY_ATTACK_RESULTS) != NULL, "every ioctl works unsandboxed: [%s]",
           err_out);
    read_tty_core_state(plain.slave, &after);
    EXPECT(after.ldisc == 27, "the line discipline is n_null, got %d", after.ldisc);
    EXPECT(after.exclusive == 1, "the terminal is exclusive");
    EXPECT(after.ws.ws_row == 3 && after.ws.ws_col == 7, "the window size is 3x7");
    int n_tty = 0;
    /* n_null answers neither TCGETS nor writes: back to N_TTY to see the rest alone. */
    ioctl(plain.slave, TIOCSETD, &n_tty);
    read_termios(plain.slave, &after);
    EXPECT(memcmp(&after.tio, &before.tio, sizeof before.tio) != 0, "termios changed");
    errno = 0;
    EXPECT(try_output(&plain) < 0 && errno == EAGAIN, "output stopped (EAGAIN), errno %d", errno);
    close_test_tty(&plain);

    /* The same in a sandbox whose stdin and stdout are the caller's terminal: it acts on the
     * sandbox's own pty; the caller's terminal is as it was. */
    struct test_tty caller;
    open_test_tty(&caller);
    read_tty_state(caller.slave, &before);
    const char *const args[] = {"tty-attack", NULL};
    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, args);
    struct run_options o = {.tty_fd = caller.slave};
    run(&b, &o, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(strcmp(r.err_out, "tty=110 devtty=ok" TTY_ATTACK_RESULTS) == 0,
               "inside: stdin and stdout a terminal, stderr the pipe, /dev/tty the controlling "
               "terminal, every ioctl works; got [%s]", r.err_out);
    }
    char out[512];
    read_master(caller.master, out, sizeof out);
    EXPECT(strcmp(out, "hello\r\n") == 0, "the command's output relayed, got [%s]", out);
    read_tty_state(caller.slave, &after);
    EXPECT(after.ldisc == before.ldisc, "line discipline unchanged, got %d", after.ldisc);
    EXPECT(after.exclusive == 0, "not exclusive");
    EXPECT(after.ws.ws_row == 33 && after.ws.ws_col == 101, "window size 33x101, got %ux%u",
           after.ws.ws_row, after.ws.ws_col);
    EXPECT(memcmp(&after.tio, &before.tio, sizeof before.tio) == 0,
           "termios byte for byte as before (raw mode restored)");
    EXPECT(try_output(&caller) == 1, "output flows, errno %d", errno);
    read_master(caller.master, out, sizeof out);
    EXPECT(strcmp(out, "x") == 0, "the byte arrives, got [%s]", out);
    int second = open(ptsname(caller.master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT(second >= 0, "a second open succeeds, errno %d", errno);
    if (second >= 0) {
        close(second);
    }
    run_result_free(&r);
    spec_free(&b);
    close_test_tty(&caller);
}

/* ---- the view: root tmpfs, SYMLINK, FILE, OVERLAY, PROTECT, IDMAP_OWNER, PRIVATE ---- */

/* The command's ids inside (and, with a user namespace, on the host): the caller's, or nobody
 * for a root caller. */
static unsigned sandbox_uid(void)
{
    return is_root() ? STK_NOBODY_ID : (unsigned)getuid();
}

static unsigned sandbox_gid(void)
{
    return is_root() ? STK_NOBODY_ID : (unsigned)getgid();
}

/* Runs b (freed), expects exit 0 and stdout `expected`. */
static void run_expect(struct spec_buf *b, const char *expected)
{
    struct run_result r;
    run(b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, expected);
    }
    run_result_free(&r);
    spec_free(b);
}

/* Runs b (freed), expects the set-up error step/err whose detail contains `detail`. */
static void run_expect_error(struct spec_buf *b, const char *step, uint32_t err,
                             const char *detail)
{
    struct run_result r;
    run(b, NULL, &r);
    expect_error(&r, step, err, 125);
    EXPECT(strstr(r.detail, detail) != NULL, "detail contains [%s]: [%s]", detail, r.detail);
    run_result_free(&r);
    spec_free(b);
}

static void sh_spec(struct spec_buf *b, const char *script)
{
    spec_init(b);
    spec_args(b, (const char *const[]){"/bin/sh", "-c", script, NULL});
    spec_string(b, STK_F_ENV, "PATH=/usr/bin:/bin");
    spec_u32(b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(b);
}

static bool host_missing(const char *path)
{
    struct stat st;
    return lstat(path, &st) < 0 && errno == ENOENT;
}

/* Only what the spec mounts is there: the host's /root and /home are not; the merged-/usr
 * links come as SYMLINK mounts. */
static void test_root_view(void)
{
    struct spec_buf b;
    probe_spec(&b, (const char *const[]){"stat", "/usr", NULL});
    struct stat usr;
    char expected[4200];
    stat("/usr", &usr);
    /* Host root's /usr, bound read-only: its owner is not mapped inside (the overflow id). */
    snprintf(expected, sizeof expected, "type=d mode=%o uid=%u gid=%u size=%lld\n",
             (unsigned)(usr.st_mode & 07777), STK_NOBODY_ID, STK_NOBODY_ID,
             (long long)usr.st_size);
    run_expect(&b, expected);
    probe_spec(&b, (const char *const[]){"stat", "/root", NULL});
    run_expect(&b, "errno=2\n");
    probe_spec(&b, (const char *const[]){"stat", "/home", NULL});
    run_expect(&b, "errno=2\n");
    char target[4096];
    ssize_t n = readlink("/bin", target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        snprintf(expected, sizeof expected, "%s\n", target);
        probe_spec(&b, (const char *const[]){"readlink", "/bin", NULL});
        run_expect(&b, expected);
    }
}

static void test_symlink_mount(void)
{
    struct spec_buf b;
    probe_spec(&b, (const char *const[]){"readlink", "/stk-link", NULL});
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "usr/bin", "/stk-link");
    run_expect(&b, "usr/bin\n");
    /* In a TMPFS, its missing parents made there. */
    probe_spec(&b, (const char *const[]){"readlink", "/tmp/stk-a/b/link", NULL});
    add_tmpfs_tmp_with_probe(&b);
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "../x", "/tmp/stk-a/b/link");
    run_expect(&b, "../x\n");
    /* Never inside a host bind. */
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "bin", "/usr/stk-link");
    run_expect_error(&b, "symlink", EROFS, "/usr/stk-link");
    EXPECT(host_missing("/usr/stk-link"), "nothing made on the host");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "a", "/stk-link");
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "b", "/stk-link");
    run_expect_error(&b, "symlink", EEXIST, "/stk-link");
}

static void add_link_to_tmp_and_bind(struct spec_buf *b, const char *dst)
{
    spec_mount(b, STK_MOUNT_SYMLINK, 0, 0, "tmp", "/stk-l");
    add_tmpfs_tmp_with_probe(b);
    spec_bind(b, host_dir, dst, false);
}

/* A symbolic link anywhere in a destination is refused, never followed. */
static void test_destination_symlink(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    struct spec_buf b;
    /* Allowed: the same bind at the real path. */
    probe_spec(&b, (const char *const[]){"create", "/tmp/ws/f", NULL});
    add_link_to_tmp_and_bind(&b, "/tmp/ws");
    run_expect(&b, "ok\n");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_link_to_tmp_and_bind(&b, "/stk-l/ws");
    run_expect_error(&b, "bind", ELOOP, "destination goes through a symbolic link");
    /* The link as the last component. */
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_SYMLINK, 0, 0, "tmp", "/stk-l");
    spec_tmpfs(&b, "/stk-l", 1u << 20);
    run_expect_error(&b, "tmpfs", ELOOP, "destination goes through a symbolic link");
    struct stat st;
    if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
        probe_spec(&b, (const char *const[]){"exit", "0", NULL});
        spec_mount(&b, STK_MOUNT_FILE, 0, 0644, "x", "/bin/stk-file");
        run_expect_error(&b, "file", ELOOP, "/bin/stk-file");
    }
    remove_tree(host_dir);
}

/* Mount points are made in the root tmpfs or a spec TMPFS only. */
static void test_mountpoint_creation(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    struct spec_buf b;
    probe_spec(&b, (const char *const[]){"create", "/stk-new/ws/f", NULL});
    spec_bind(&b, host_dir, "/stk-new/ws", false);
    run_expect(&b, "ok\n");
    EXPECT(host_missing("/stk-new"), "the mount point was made in the root tmpfs");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_OVERLAY, 0, 1u << 20, host_dir, "/stk-ov");
    spec_bind(&b, probe_dir, "/stk-ov/missing", true);
    run_expect_error(&b, "bind", ENOENT, "target does not exist in the sandbox");
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/missing", host_dir);
    EXPECT(host_missing(missing), "nothing made in the overlay's lower layer");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_tmpfs(&b, "/proc/stk", 4096);
    run_expect_error(&b, "tmpfs", ENOENT, "target does not exist in the sandbox");
    remove_tree(host_dir);
}

static void test_file_mount(void)
{
    struct spec_buf b;
    const char *passwd = "me:x:1:1:me:/home/me:/bin/sh\n";
    probe_spec(&b, (const char *const[]){"file", "/etc/passwd", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, passwd, "/etc/passwd");
    run_expect(&b, passwd);
    char expected[128];
    snprintf(expected, sizeof expected, "type=f mode=644 uid=%u gid=%u size=%zu\n",
             sandbox_uid(), sandbox_gid(), strlen(passwd));
    probe_spec(&b, (const char *const[]){"stat", "/etc/passwd", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, passwd, "/etc/passwd");
    run_expect(&b, expected);
    probe_spec(&b, (const char *const[]){"write", "/etc/passwd", "x", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, passwd, "/etc/passwd");
    run_expect(&b, "errno=30\n");
    /* Mode 0: not even its owner reads it (no capabilities inside). */
    probe_spec(&b, (const char *const[]){"file", "/etc/shadow", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0, "", "/etc/shadow");
    run_expect(&b, "errno=13\n");
    /* A new file in a TMPFS; not in a host bind; not onto a directory. */
    probe_spec(&b, (const char *const[]){"file", "/tmp/stk-dir/conf", NULL});
    add_tmpfs_tmp_with_probe(&b);
    spec_mount(&b, STK_MOUNT_FILE, 0, 0600, "conf", "/tmp/stk-dir/conf");
    run_expect(&b, "conf");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, "x", "/usr/stk-file");
    run_expect_error(&b, "file", ENOENT, "/usr/stk-file");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, "x", "/etc");
    run_expect_error(&b, "file", EISDIR, "/etc");
}

static void test_overlay_mount(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    char lower[4200], created[4200], script[32768];
    snprintf(lower, sizeof lower, "%s/lower", host_dir);
    snprintf(created, sizeof created, "%s/new", host_dir);
    write_file(lower, "host data", 0644);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    give_to_sandbox(lower, ROOT_CALLER_HOST_ID);
    struct spec_buf b;
    snprintf(script, sizeof script, "cat %s && printf changed > %s && printf new > %s && cat %s %s",
             lower, lower, created, lower, created);
    sh_spec(&b, script);
    spec_mount(&b, STK_MOUNT_OVERLAY, 0, 1u << 20, host_dir, host_dir);
    run_expect(&b, "host datachangednew");
    const char *content = read_file(lower);
    EXPECT(content != NULL && strcmp(content, "host data") == 0, "the host file is unchanged");
    EXPECT(host_missing(created), "nothing written to the host directory");
    /* The lower layer is opened without following a link. */
    char link[4200];
    snprintf(link, sizeof link, "%s-link", host_dir);
    EXPECT(symlink(host_dir, link) == 0, "symlink");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_OVERLAY, 0, 1u << 20, link, "/stk-ov");
    run_expect_error(&b, "overlay", ELOOP, "lower layer goes through a symbolic link");
    unlink(link);
    remove_tree(host_dir);
}

/* Reads name under the directory fd dir (an O_PATH fd of the passed upper layer). */
static bool read_beneath(int dir, const char *name, char *buf, size_t size)
{
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return n >= 0;
}

/* A TRANSACTIONAL overlay: the host directory untouched, EXITED carrying the upper layer's
 * directory with the changes in it; DISK when the upper filled up; no descriptor otherwise. */
static void test_transactional(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    char lower[4200], created[4200], script[32768];
    snprintf(lower, sizeof lower, "%s/lower", host_dir);
    snprintf(created, sizeof created, "%s/new", host_dir);
    write_file(lower, "host data", 0644);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    give_to_sandbox(lower, ROOT_CALLER_HOST_ID);
    struct spec_buf b;
    struct run_result r;
    snprintf(script, sizeof script, "printf changed > %s && printf new > %s", lower, created);
    sh_spec(&b, script);
    spec_mount(&b, STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, host_dir, host_dir);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        char text[64];
        EXPECT(r.passed_fd >= 0, "EXITED carries the upper layer");
        EXPECT(r.passed_fd >= 0 && read_beneath(r.passed_fd, "new", text, sizeof text) &&
                   strcmp(text, "new") == 0,
               "the new file is in the upper layer");
        EXPECT(r.passed_fd >= 0 && read_beneath(r.passed_fd, "lower", text, sizeof text) &&
                   strcmp(text, "changed") == 0,
               "the changed file is copied up");
        struct stat st;
        EXPECT(r.passed_fd >= 0 && fstat(r.passed_fd, &st) == 0 && S_ISDIR(st.st_mode),
               "a directory");
    }
    run_result_free(&r);
    spec_free(&b);
    const char *content = read_file(lower);
    EXPECT(content != NULL && strcmp(content, "host data") == 0, "the host file is unchanged");
    EXPECT(host_missing(created), "nothing written to the host directory");

    /* Past the quota: ENOSPC inside, STK_EXIT_DISK_LIMIT. */
    snprintf(script, sizeof script, "head -c 2000000 /dev/zero > %s/big", host_dir);
    sh_spec(&b, script);
    spec_mount(&b, STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, host_dir, host_dir);
    run(&b, NULL, &r);
    EXPECT(r.exited && WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 1,
           "head fails");
    EXPECT(r.flags == STK_EXIT_DISK_LIMIT, "flags DISK_LIMIT, got %u", r.flags);
    EXPECT(strstr(r.err_out, "No space left on device") != NULL, "ENOSPC: [%s]", r.err_out);
    run_result_free(&r);
    spec_free(&b);

    /* A plain overlay passes nothing. */
    sh_spec(&b, "true");
    spec_mount(&b, STK_MOUNT_OVERLAY, 0, 1u << 20, host_dir, host_dir);
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        EXPECT(r.passed_fd < 0, "no descriptor without TRANSACTIONAL");
    }
    run_result_free(&r);
    spec_free(&b);

    /* One upper layer travels with EXITED. */
    sh_spec(&b, "true");
    spec_mount(&b, STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, host_dir, "/stk-a");
    spec_mount(&b, STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, host_dir, "/stk-b");
    run_expect_error(&b, "spec", EINVAL, "at most one OVERLAY may be TRANSACTIONAL");
    remove_tree(host_dir);
}

static char ws[4096];

/* The workspace bound writable, its .git pinned, hooks/config/link protected, and two
 * placeholders (.envrc, .vscode/). */
static void add_protected_workspace(struct spec_buf *b)
{
    char src[4200];
    spec_bind(b, ws, ws, false);
    static const struct {
        const char *rel;
        uint32_t flags;
    } protect[] = {
        {".git", 0},
        {".git/hooks", STK_MOUNT_READONLY},
        {".git/config", STK_MOUNT_READONLY},
        {".envrc", STK_MOUNT_READONLY | STK_MOUNT_CREATE},
        {".vscode", STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY},
        {".existing", STK_MOUNT_READONLY | STK_MOUNT_CREATE},
        {"link", STK_MOUNT_READONLY},
    };
    for (size_t i = 0; i < sizeof protect / sizeof protect[0]; i++) {
        snprintf(src, sizeof src, "%s/%s", ws, protect[i].rel);
        spec_mount(b, STK_MOUNT_PROTECT, protect[i].flags, 0, src, src);
    }
}

static void protect_case(const char *cmd, const char *rel, const char *arg, const char *expected)
{
    char path[4200], other[4200];
    snprintf(path, sizeof path, "%s/%s", ws, rel);
    struct spec_buf b;
    if (arg != NULL) {
        snprintf(other, sizeof other, "%s/%s", ws, arg);
        probe_spec(&b, (const char *const[]){cmd, path, strcmp(cmd, "write") == 0 ? arg : other,
                                             NULL});
    } else {
        probe_spec(&b, (const char *const[]){cmd, path, NULL});
    }
    add_protected_workspace(&b);
    int before = stk_test_failures;
    run_expect(&b, expected);
    if (stk_test_failures != before) {
        fprintf(stderr, "    (case: %s %s)\n", cmd, rel);
    }
}

static bool placeholders_gone(void)
{
    char envrc[4200], vscode[4200], existing[4200];
    snprintf(envrc, sizeof envrc, "%s/.envrc", ws);
    snprintf(vscode, sizeof vscode, "%s/.vscode", ws);
    snprintf(existing, sizeof existing, "%s/.existing", ws);
    struct stat st;
    return host_missing(envrc) && host_missing(vscode) && stat(existing, &st) == 0;
}

/* ws: .git with hooks/ and config, an empty unmarked .existing, link -> .git. */
static void make_protected_workspace(void)
{
    make_host_dir(ws, sizeof ws);
    char path[4200];
    snprintf(path, sizeof path, "%s/.git", ws);
    mkdir(path, 0755);
    give_to_sandbox(path, ROOT_CALLER_HOST_ID);
    snprintf(path, sizeof path, "%s/.git/hooks", ws);
    mkdir(path, 0755);
    give_to_sandbox(path, ROOT_CALLER_HOST_ID);
    snprintf(path, sizeof path, "%s/.git/config", ws);
    write_file(path, "cfg", 0644);
    give_to_sandbox(path, ROOT_CALLER_HOST_ID);
    snprintf(path, sizeof path, "%s/.existing", ws);
    write_file(path, "", 0644);
    snprintf(path, sizeof path, "%s/link", ws);
    EXPECT(symlink(".git", path) == 0, "symlink");
    give_to_sandbox(ws, ROOT_CALLER_HOST_ID);
}

static void test_protect(void)
{
    make_protected_workspace();
    char path[4200];

    /* Allowed: the workspace and a pinned directory stay writable; a file is renamed. */
    protect_case("write", "free", "x", "ok\n");
    protect_case("rename", "free", "free2", "ok\n");
    protect_case("write", ".git/new", "x", "ok\n");
    /* Protected read-only: EROFS; pinned: EBUSY. */
    protect_case("write", ".git/config", "evil", "errno=30\n");
    protect_case("create", ".git/hooks/pre-commit", NULL, "errno=30\n");
    protect_case("rename", ".git", "moved", "errno=16\n");
    protect_case("rename", ".git/hooks", ".git/hooks2", "errno=16\n");
    /* A mount over a symbolic link: the link stays, cannot be renamed away. */
    protect_case("readlink", "link", NULL, ".git\n");
    protect_case("rename", "link", "link2", "errno=16\n");
    /* The placeholders: there during the run (empty, read-only), gone after it. */
    char placeholder[128];
    snprintf(placeholder, sizeof placeholder, "type=f mode=644 uid=%u gid=%u size=0\n",
             sandbox_uid(), sandbox_gid());
    protect_case("stat", ".envrc", NULL, placeholder);
    protect_case("create", ".envrc", NULL, "errno=30\n");
    protect_case("mkdir", ".vscode/x", NULL, "errno=30\n");
    snprintf(path, sizeof path, "%s/.git/config", ws);
    const char *content = read_file(path);
    EXPECT(content != NULL && strcmp(content, "cfg") == 0, "the protected file is unchanged");
    EXPECT(placeholders_gone(), "placeholders removed, the existing file kept");

    /* Removed on the other ways out too: a later set-up error, a KILL. */
    struct spec_buf b;
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    add_protected_workspace(&b);
    spec_bind(&b, "/nonexistent-stk-source", "/stk-x", true);
    run_expect_error(&b, "bind", ENOENT, "/nonexistent-stk-source");
    EXPECT(placeholders_gone(), "placeholders removed after a set-up error");
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    add_protected_workspace(&b);
    struct run_options o = {.after_started = 1, .kill_mode = STK_KILL_NOW};
    struct run_result r;
    run(&b, &o, &r);
    expect_signal(&r, SIGKILL, STK_EXIT_KILLED);
    run_result_free(&r);
    spec_free(&b);
    EXPECT(placeholders_gone(), "placeholders removed after a KILL");
    /* Control socket EOF, and a timeout. */
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    add_protected_workspace(&b);
    struct run_options eof = {.after_started = 2};
    run(&b, &eof, &r);
    EXPECT(r.started && WIFEXITED(r.helper_status) && WEXITSTATUS(r.helper_status) == 0,
           "started, and the helper ended by itself (status 0x%x)", (unsigned)r.helper_status);
    run_result_free(&r);
    spec_free(&b);
    EXPECT(placeholders_gone(), "placeholders removed after control socket EOF");
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    add_protected_workspace(&b);
    add_timeout(&b);
    run(&b, NULL, &r);
    expect_signal(&r, SIGTERM, STK_EXIT_TIMED_OUT);
    run_result_free(&r);
    spec_free(&b);
    EXPECT(placeholders_gone(), "placeholders removed after a timeout");

    /* A placeholder only at dst's host path. */
    char elsewhere[4200];
    snprintf(elsewhere, sizeof elsewhere, "%s-elsewhere", ws);
    snprintf(path, sizeof path, "%s/.x", ws);
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_bind(&b, ws, ws, false);
    spec_mount(&b, STK_MOUNT_PROTECT, STK_MOUNT_READONLY | STK_MOUNT_CREATE, 0, elsewhere, path);
    run_expect_error(&b, "protect", EINVAL, elsewhere);
    EXPECT(host_missing(elsewhere) && host_missing(path), "no placeholder made");

    /* Through a link, or outside a writable bind: refused. */
    snprintf(path, sizeof path, "%s/link/config", ws);
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_bind(&b, ws, ws, false);
    spec_mount(&b, STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 0, path, path);
    run_expect_error(&b, "protect", ELOOP, "destination goes through a symbolic link");
    probe_spec(&b, (const char *const[]){"exit", "0", NULL});
    spec_mount(&b, STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 0, "/usr/bin", "/usr/bin");
    run_expect_error(&b, "protect", EINVAL, "not inside an earlier writable BIND");
    remove_tree(ws);
}

/* The mark protect.c sets on a placeholder (its definition there; the test only reads it). */
#define PLACEHOLDER_XATTR "user.stockade.placeholder"
#define PLACEHOLDER_MARK "1"

static bool host_marked(const char *path)
{
    char value[16];
    ssize_t n = lgetxattr(path, PLACEHOLDER_XATTR, value, sizeof value);
    return n == (ssize_t)strlen(PLACEHOLDER_MARK) && memcmp(value, PLACEHOLDER_MARK, (size_t)n) == 0;
}

/* Whether the workspace's filesystem keeps user extended attributes (else placeholders are
 * unmarked, protect.c). */
static bool host_user_xattrs(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.xattr-probe", ws);
    write_file(path, "", 0644);
    bool ok = setxattr(path, "user.stockade.test", "1", 1, 0) == 0;
    EXPECT(ok || errno == ENOTSUP, "setxattr on the workspace: errno %d", errno);
    unlink(path);
    return ok;
}

/* Blocks until no process holds a lock on the workspace directory any more: a sandbox whose
 * monitor was killed keeps its shared locks in pid 1 until pid 1 is gone. */
static void wait_workspace_unlocked(void)
{
    int fd = open(ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT(fd >= 0 && flock(fd, LOCK_EX) == 0, "exclusive lock of the workspace");
    close(fd);
}

static void write_line(const char *fifo)
{
    int fd = open(fifo, O_WRONLY | O_CLOEXEC); /* blocks until the sandbox opened it */
    EXPECT(fd >= 0 && write(fd, "x\n", 2) == 2, "release %s", fifo);
    close(fd);
}

struct two_sandboxes {
    char fifo_a[4200], fifo_b[4200];
    struct run_result *a;
    const char *b_expected;
    bool xattrs;
};

/* B (started while A runs) is ready: A ends first, and its monitor is done (its helper exited,
 * not reaped here) before B tries to write. */
static void second_ready(void *ctx)
{
    struct two_sandboxes *t = ctx;
    write_line(t->fifo_a);
    siginfo_t si;
    EXPECT(waitid(P_PID, (id_t)t->a->helper_pid, &si, WEXITED | WNOWAIT) == 0,
           "the first helper ended");
    char envrc[4200], vscode[4200];
    snprintf(envrc, sizeof envrc, "%s/.envrc", ws);
    snprintf(vscode, sizeof vscode, "%s/.vscode", ws);
    EXPECT(!host_missing(envrc) && !host_missing(vscode),
           "the first sandbox's placeholders stay while the second covers them");
    EXPECT(host_marked(envrc) == t->xattrs && host_marked(vscode) == t->xattrs,
           "placeholders marked (%d)", t->xattrs);
    write_line(t->fifo_b);
}

/* A runs; once it is ready, B starts on the same workspace. B's spec is what the Java side
 * sends then: .envrc exists (A's placeholder), so without CREATE; .vscode still with CREATE
 * (its walk saw nothing: the EEXIST path). */
static void first_ready(void *ctx)
{
    struct two_sandboxes *t = ctx;
    char script[32768], path[4200];
    snprintf(script, sizeof script,
             "echo ready; read x < %s; %s write %s/.envrc evil; %s create %s/.vscode/tasks.json; "
             "%s stat %s/.envrc",
             t->fifo_b, probe, ws, probe, ws, probe, ws);
    struct spec_buf b;
    sh_spec(&b, script);
    spec_bind(&b, ws, ws, false);
    snprintf(path, sizeof path, "%s/.envrc", ws);
    spec_mount(&b, STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 0, path, path);
    snprintf(path, sizeof path, "%s/.vscode", ws);
    spec_mount(&b, STK_MOUNT_PROTECT,
               STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY, 0, path, path);
    struct run_options o = {.wait_for_stdout = "ready\n", .on_ready = second_ready, .ctx = t};
    struct run_result r;
    run(&b, &o, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, t->b_expected);
    }
    run_result_free(&r);
    spec_free(&b);
}

static void make_fifo(char *path, size_t len, const char *name)
{
    snprintf(path, len, "%s/%s", ws, name);
    EXPECT(mkfifo(path, 0666) == 0, "mkfifo %s", path);
    give_to_sandbox(path, ROOT_CALLER_HOST_ID);
}

/* Two sandboxes on one workspace, the first ending first: its monitor must not remove the
 * placeholders the second still covers (unlinking a mount point that lives only in another
 * mount namespace detaches that mount); the second removes them at its end. */
static void test_protect_shared(void)
{
    make_protected_workspace();
    struct two_sandboxes t;
    memset(&t, 0, sizeof t);
    t.xattrs = host_user_xattrs();
    make_fifo(t.fifo_a, sizeof t.fifo_a, "fifo-a");
    make_fifo(t.fifo_b, sizeof t.fifo_b, "fifo-b");
    char expected[256];
    snprintf(expected, sizeof expected,
             "ready\nerrno=30\nerrno=30\ntype=f mode=644 uid=%u gid=%u size=0\n", sandbox_uid(),
             sandbox_gid());
    t.b_expected = expected;
    char script[16384];
    snprintf(script, sizeof script, "echo ready; read x < %s", t.fifo_a);
    struct spec_buf b;
    sh_spec(&b, script);
    add_protected_workspace(&b);
    struct run_result r;
    t.a = &r;
    struct run_options o = {.wait_for_stdout = "ready\n", .on_ready = first_ready, .ctx = &t};
    run(&b, &o, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, "ready\n");
    }
    run_result_free(&r);
    spec_free(&b);
    EXPECT(placeholders_gone(), "the last sandbox removed the placeholders");
    if (!t.xattrs) {
        /* Unmarked, the second did not know them for placeholders: they stay. */
        char path[4200];
        snprintf(path, sizeof path, "%s/.envrc", ws);
        unlink(path);
        snprintf(path, sizeof path, "%s/.vscode", ws);
        rmdir(path);
    }
    remove_tree(ws);
}

/* Swaps the placeholder .envrc for another empty, marked file while the sandbox runs. */
static void swap_envrc(void *ctx)
{
    (void)ctx;
    char envrc[4200], other[4200];
    snprintf(envrc, sizeof envrc, "%s/.envrc", ws);
    snprintf(other, sizeof other, "%s/.envrc.new", ws);
    write_file(other, "", 0644);
    setxattr(other, PLACEHOLDER_XATTR, PLACEHOLDER_MARK, strlen(PLACEHOLDER_MARK), 0);
    EXPECT(rename(other, envrc) == 0, "rename over .envrc");
}

/* Placeholders a monitor killed with SIGKILL left behind: marked, so a later monitor adopts
 * and removes the empty one; one that is no longer empty, an unmarked empty user file, and a
 * placeholder replaced by another inode stay. */
static void test_protect_stale(void)
{
    make_protected_workspace();
    char envrc[4200], vscode[4200], inside[4200], existing[4200];
    snprintf(envrc, sizeof envrc, "%s/.envrc", ws);
    snprintf(vscode, sizeof vscode, "%s/.vscode", ws);
    snprintf(inside, sizeof inside, "%s/.vscode/settings.json", ws);
    snprintf(existing, sizeof existing, "%s/.existing", ws);
    bool xattrs = host_user_xattrs();

    struct spec_buf b;
    struct run_result r;
    probe_spec(&b, (const char *const[]){"sleep", "1000", NULL});
    add_protected_workspace(&b);
    struct run_options k = {.after_started = 3, .signal_to_helper = SIGKILL};
    run(&b, &k, &r);
    EXPECT(WIFSIGNALED(r.helper_status) && WTERMSIG(r.helper_status) == SIGKILL,
           "the helper was killed");
    run_result_free(&r);
    spec_free(&b);
    wait_workspace_unlocked();
    struct stat st;
    EXPECT(lstat(envrc, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
               lstat(vscode, &st) == 0 && S_ISDIR(st.st_mode),
           "the killed monitor's placeholders are left behind");
    EXPECT(host_marked(envrc) == xattrs && host_marked(vscode) == xattrs,
           "left behind marked (%d)", xattrs);
    EXPECT(!host_marked(existing), "the user's file is not marked");
    write_file(inside, "{}", 0644); /* .vscode no longer empty: the user's now */

    /* Allowed: the adopted placeholder still protects; then it goes, the rest stays. */
    protect_case("create", ".envrc", NULL, "errno=30\n");
    EXPECT(host_missing(envrc) == xattrs, "the stale empty placeholder removed (%d)", xattrs);
    EXPECT(lstat(inside, &st) == 0 && st.st_size == 2, "the non-empty one kept, untouched");
    EXPECT(lstat(existing, &st) == 0 && S_ISREG(st.st_mode), "the unmarked empty file kept");

    /* A placeholder replaced by another inode during the run is not removed. */
    unlink(envrc);
    sh_spec(&b, "echo ready; read x; true");
    add_protected_workspace(&b);
    struct run_options swap = {.wait_for_stdout = "ready\n", .hold_stdin = true,
                               .on_ready = swap_envrc};
    run(&b, &swap, &r);
    expect_exit(&r, 0);
    run_result_free(&r);
    spec_free(&b);
    EXPECT(lstat(envrc, &st) == 0 && S_ISREG(st.st_mode), "the swapped-in file kept");
    remove_tree(ws);
}

/* The host moves .git/config away while the warm sandbox waits: its mount goes along. */
static void move_config_away(void *ctx)
{
    (void)ctx;
    char config[4200], moved[4200];
    snprintf(config, sizeof config, "%s/.git/config", ws);
    snprintf(moved, sizeof moved, "%s/.git/config.moved", ws);
    EXPECT(rename(config, moved) == 0, "rename .git/config away: %s", strerror(errno));
}

/* The same file put back under a new name (ln; rm; mv): the path shows the same inode, but
 * the unlink detached the waiting sandbox's mount. */
static void relink_config(void *ctx)
{
    (void)ctx;
    char config[4200], keep[4200];
    snprintf(config, sizeof config, "%s/.git/config", ws);
    snprintf(keep, sizeof keep, "%s/.git/keep", ws);
    EXPECT(link(config, keep) == 0 && unlink(config) == 0 && rename(keep, config) == 0,
           "relink .git/config: %s", strerror(errno));
}

/* A warm sandbox of the protected workspace running `write .git/config evil`, with change
 * (NULL: none) made on the host once it is READY. */
static void run_warm_protected(void (*change)(void *), struct run_result *r)
{
    char config[4200];
    snprintf(config, sizeof config, "%s/.git/config", ws);
    struct spec_buf b, c;
    spec_init(&b);
    spec_bytes_field(&b, STK_F_WARM, NULL, 0);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(&b);
    add_protected_workspace(&b);
    spec_init_command(&c);
    spec_args(&c, (const char *const[]){probe, "write", config, "evil", NULL});
    spec_string(&c, STK_F_ENV, "PATH=/usr/bin:/bin");
    struct run_options o = {.warm = true, .on_warm_ready = change};
    o.command = spec_finish(&c, &o.command_len);
    run(&b, &o, r);
    spec_free(&c);
    spec_free(&b);
}

/* READY, then the one ERROR: protect/ESTALE, the helper exiting with the set-up code. */
static void expect_warm_stale(const struct run_result *r)
{
    int before = stk_test_failures;
    EXPECT(r->ready && r->error && !r->started && !r->exited && r->events == 2,
           "READY and one ERROR, never STARTED");
    EXPECT(strcmp(r->step, "protect") == 0 && r->err_errno == STK_WARM_STALE_ERRNO &&
               r->err_exit_code == 125,
           "protect/ESTALE, 125");
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 125,
           "helper exits 125");
    if (stk_test_failures != before) {
        stk_describe_run(r);
    }
}

/* stk_protect_verify: before a warm sandbox's command, pid 1 checks each PROTECT is still the
 * mount at its path. Untouched, the command runs and finds .git/config read-only; moved away
 * or relinked on the host while it waited, the start is ERROR protect/ESTALE and the command
 * never ran (the file keeps its content). */
static void test_protect_warm_stale(void)
{
    char config[4200], moved[4200];
    struct run_result r;
    make_protected_workspace();
    snprintf(config, sizeof config, "%s/.git/config", ws);
    snprintf(moved, sizeof moved, "%s/.git/config.moved", ws);
    run_warm_protected(NULL, &r);
    EXPECT(r.ready && r.started && r.exited && strcmp(r.out, "errno=30\n") == 0,
           "untouched: runs, EROFS [%s]", r.out);
    run_result_free(&r);

    run_warm_protected(move_config_away, &r);
    expect_warm_stale(&r);
    EXPECT(host_missing(config), "nothing made at the moved path");
    const char *content = read_file(moved);
    EXPECT(content != NULL && strcmp(content, "cfg") == 0, "the moved file unchanged");
    run_result_free(&r);
    EXPECT(rename(moved, config) == 0, "move it back");

    run_warm_protected(relink_config, &r);
    expect_warm_stale(&r);
    content = read_file(config);
    EXPECT(content != NULL && strcmp(content, "cfg") == 0, "the relinked file unchanged");
    run_result_free(&r);
    remove_tree(ws);
}

static const struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};

/* Missing protected paths of a TRANSACTIONAL overlay: made and covered inside by pid 1 (in the
 * upper layer), never on the host, which the step sees through a read-only bind of it: while
 * it runs the host directory holds only sub/. The step writes a file of its own, then cannot
 * create or replace any placeholder (EROFS, EBUSY); the upper layer passed with EXITED holds
 * its file and none of the placeholders (the monitor removed them). */
static void test_protect_transactional(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    char path[4200], script[32768];
    snprintf(path, sizeof path, "%s/sub", host_dir);
    mkdir(path, 0755);
    give_to_sandbox(path, ROOT_CALLER_HOST_ID);
    give_to_sandbox(host_dir, ROOT_CALLER_HOST_ID);
    snprintf(script, sizeof script,
             "p=%s; w=%s; $p write $w/ok x; $p write $w/.envrc evil; $p write $w/sub/.envrc evil; "
             "$p mkdir $w/.vscode/x; $p rename $w/ok $w/.envrc; $p stat $w/.envrc; "
             "ls -A /stk-host; ls -A /stk-host/sub",
             probe, host_dir);
    struct spec_buf b;
    sh_spec(&b, script);
    spec_mount(&b, STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, host_dir, host_dir);
    spec_bind(&b, host_dir, "/stk-host", true);
    static const struct {
        const char *rel;
        uint32_t flags;
    } protect[] = {
        {"sub", 0},
        {".envrc", STK_MOUNT_READONLY | STK_MOUNT_CREATE},
        {".vscode", STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY},
        {"sub/.envrc", STK_MOUNT_READONLY | STK_MOUNT_CREATE},
    };
    for (size_t i = 0; i < sizeof protect / sizeof protect[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", host_dir, protect[i].rel);
        spec_mount(&b, STK_MOUNT_PROTECT, protect[i].flags, 0, path, path);
    }
    char expected[256];
    snprintf(expected, sizeof expected,
             "ok\nerrno=30\nerrno=30\nerrno=30\nerrno=16\ntype=f mode=644 uid=%u gid=%u size=0\n"
             "sub\n",
             sandbox_uid(), sandbox_gid());
    struct run_result r;
    run(&b, NULL, &r);
    if (expect_exit(&r, 0)) {
        expect_output(&r, expected);
        char text[16];
        struct stat st;
        EXPECT(r.passed_fd >= 0 && read_beneath(r.passed_fd, "ok", text, sizeof text) &&
                   strcmp(text, "x") == 0,
               "the step's file is in the upper layer");
        static const char *const gone[] = {".envrc", ".vscode", "sub/.envrc"};
        for (size_t i = 0; r.passed_fd >= 0 && i < sizeof gone / sizeof gone[0]; i++) {
            EXPECT(fstatat(r.passed_fd, gone[i], &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
                   "no placeholder %s left in the upper layer", gone[i]);
        }
    }
    run_result_free(&r);
    spec_free(&b);
    snprintf(path, sizeof path, "%s/.envrc", host_dir);
    EXPECT(host_missing(path), "no .envrc on the host");
    snprintf(path, sizeof path, "%s/.vscode", host_dir);
    EXPECT(host_missing(path), "no .vscode on the host");
    snprintf(path, sizeof path, "%s/sub/.envrc", host_dir);
    EXPECT(host_missing(path), "no sub/.envrc on the host");
    remove_tree(host_dir);
}

/* A root caller's writable bind of a root-owned 0700 directory: written by the command (host
 * uid 65534), stored as root's. */
static void test_idmap_owner(void)
{
    make_host_dir(host_dir, sizeof host_dir);
    char file[4200], expected[128];
    snprintf(file, sizeof file, "%s/made-inside", host_dir);
    struct spec_buf b;
    if (!is_root()) {
        probe_spec(&b, (const char *const[]){"write", file, "x", NULL});
        spec_guard_bpf(&b, allow_all, 1);
        spec_bind_flags(&b, host_dir, host_dir, STK_MOUNT_IDMAP_OWNER);
        run_expect_error(&b, "spec", EPERM, "only a root caller");
        remove_tree(host_dir);
        return;
    }
    /* Without the guard the spec is refused. */
    probe_spec(&b, (const char *const[]){"write", file, "x", NULL});
    spec_bind_flags(&b, host_dir, host_dir, STK_MOUNT_IDMAP_OWNER);
    run_expect_error(&b, "spec", EINVAL, "IDMAP_OWNER needs GUARD_BPF");
    probe_spec(&b, (const char *const[]){"write", file, "from the sandbox", NULL});
    spec_guard_bpf(&b, allow_all, 1);
    spec_bind_flags(&b, host_dir, host_dir, STK_MOUNT_IDMAP_OWNER);
    run_expect(&b, "ok\n");
    struct stat st;
    EXPECT(stat(file, &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
           "stored as the source's owner, root (uid %u gid %u)", (unsigned)st.st_uid,
           (unsigned)st.st_gid);
    const char *content = read_file(file);
    EXPECT(content != NULL && strcmp(content, "from the sandbox") == 0, "written");
    /* Inside, the owner is the sandbox user. */
    snprintf(expected, sizeof expected, "type=f mode=644 uid=%u gid=%u size=16\n",
             STK_NOBODY_ID, STK_NOBODY_ID);
    probe_spec(&b, (const char *const[]){"stat", file, NULL});
    spec_guard_bpf(&b, allow_all, 1);
    spec_bind_flags(&b, host_dir, host_dir, STK_MOUNT_IDMAP_OWNER);
    run_expect(&b, expected);
    /* A PROTECT clones a path of the idmapped bind and keeps its idmapping: the pinned .git is
     * still written as root's, its protected config is read-only. */
    char git[4200], config[4200], made[4200];
    snprintf(git, sizeof git, "%s/.git", host_dir);
    snprintf(config, sizeof config, "%s/.git/config", host_dir);
    snprintf(made, sizeof made, "%s/.git/made", host_dir);
    mkdir(git, 0755);
    write_file(config, "cfg", 0644);
    static const char *const outcome[] = {"ok\n", "errno=30\n"};
    for (size_t i = 0; i < 2; i++) {
        probe_spec(&b, (const char *const[]){"write", i == 0 ? made : config, "x", NULL});
        spec_guard_bpf(&b, allow_all, 1);
        spec_bind_flags(&b, host_dir, host_dir, STK_MOUNT_IDMAP_OWNER);
        spec_mount(&b, STK_MOUNT_PROTECT, 0, 0, git, git);
        spec_mount(&b, STK_MOUNT_PROTECT, STK_MOUNT_READONLY, 0, config, config);
        run_expect(&b, outcome[i]);
    }
    EXPECT(stat(made, &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
           "written through the pin as root's (uid %u)", (unsigned)st.st_uid);
    content = read_file(config);
    EXPECT(content != NULL && strcmp(content, "cfg") == 0, "the protected file is unchanged");
    remove_tree(host_dir);
}

static void test_private_tmpfs(void)
{
    struct spec_buf b;
    char expected[128];
    snprintf(expected, sizeof expected, "type=d mode=700 uid=%u gid=%u size=40\n",
             sandbox_uid(), sandbox_gid());
    probe_spec(&b, (const char *const[]){"stat", "/home/stk", NULL});
    spec_mount(&b, STK_MOUNT_TMPFS, STK_MOUNT_PRIVATE, 1u << 20, "", "/home/stk");
    run_expect(&b, expected);
    probe_spec(&b, (const char *const[]){"create", "/home/stk/f", NULL});
    spec_mount(&b, STK_MOUNT_TMPFS, STK_MOUNT_PRIVATE, 1u << 20, "", "/home/stk");
    run_expect(&b, "ok\n");
    snprintf(expected, sizeof expected, "type=d mode=1777 uid=%u gid=%u size=40\n",
             sandbox_uid(), sandbox_gid());
    probe_spec(&b, (const char *const[]){"stat", "/home/stk", NULL});
    spec_tmpfs(&b, "/home/stk", 1u << 20);
    run_expect(&b, expected);
}

/* The whole default view as the Java side sends it (SandboxPolicy's defaults, SpecResolver's
 * home and identity files, a workspace with its protected paths), run by a real shell: the
 * root lists only what was mounted, the synthesized identity is the one NSS finds, the home,
 * /tmp and the workspace are writable, and the workspace's files are the caller's on the
 * host. */
static void test_default_view(void)
{
    make_host_dir(ws, sizeof ws);
    char passwd[256], group[256], script[16384], expected[16384], git[4200], hooks[4200];
    snprintf(passwd, sizeof passwd, "sandbox:x:%u:%u:sandbox:/home/sandbox:/bin/sh\n",
             sandbox_uid(), sandbox_gid());
    snprintf(group, sizeof group, "sandbox:x:%u:\n", sandbox_gid());
    snprintf(git, sizeof git, "%s/.git", ws);
    snprintf(hooks, sizeof hooks, "%s/.git/hooks", ws);
    mkdir(git, 0755);
    snprintf(script, sizeof script,
             "cd %s && ls / | tr '\\n' ' ' && echo && id -un && cat /etc/passwd && "
             "echo h > $HOME/h && echo t > /tmp/t && echo w > ws-file && echo writable && "
             "(mkdir .git/hooks/x 2>/dev/null || echo hooks-read-only)",
             ws);
    struct spec_buf b;
    sh_spec(&b, script);
    spec_string(&b, STK_F_ENV, "HOME=/home/sandbox");
    spec_tmpfs(&b, "/tmp", 1u << 20);
    spec_tmpfs(&b, "/run", 1u << 20);
    spec_tmpfs(&b, "/var/tmp", 1u << 20);
    spec_mount(&b, STK_MOUNT_TMPFS, STK_MOUNT_PRIVATE, 1u << 20, "", "/home/sandbox");
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, passwd, "/etc/passwd");
    spec_mount(&b, STK_MOUNT_FILE, 0, 0644, group, "/etc/group");
    struct stat st;
    if (stat("/etc/shadow", &st) == 0) {
        spec_mount(&b, STK_MOUNT_FILE, 0, 0, "", "/etc/shadow");
    }
    if (is_root()) {
        spec_guard_bpf(&b, allow_all, 1);
    }
    spec_bind_flags(&b, ws, ws, is_root() ? STK_MOUNT_IDMAP_OWNER : 0);
    spec_mount(&b, STK_MOUNT_PROTECT, 0, 0, git, git);
    spec_mount(&b, STK_MOUNT_PROTECT,
               STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY, 0, hooks, hooks);
    /* ls / lists, sorted, what the view holds: the host's system paths that exist, the
     * helper's /dev and /proc, the TMPFS mounts' /tmp and /run, /var (for /var/tmp), /home. */
    static const char *const names[] = {"bin", "dev", "etc", "home", "lib", "lib32", "lib64",
                                        "libx32", "opt", "proc", "run", "sbin", "tmp", "usr",
                                        "var", NULL};
    size_t len = 0;
    for (size_t i = 0; names[i] != NULL; i++) {
        char host[64];
        snprintf(host, sizeof host, "/%s", names[i]);
        bool helper_made = strcmp(names[i], "dev") == 0 || strcmp(names[i], "proc") == 0 ||
                           strcmp(names[i], "home") == 0 || strcmp(names[i], "run") == 0 ||
                           strcmp(names[i], "tmp") == 0 || strcmp(names[i], "var") == 0;
        if (helper_made || lstat(host, &st) == 0) {
            len += (size_t)snprintf(expected + len, sizeof expected - len, "%s ", names[i]);
        }
    }
    snprintf(expected + len, sizeof expected - len, "\nsandbox\n%swritable\nhooks-read-only\n",
             passwd);
    run_expect(&b, expected);
    char file[4200];
    snprintf(file, sizeof file, "%s/ws-file", ws);
    EXPECT(stat(file, &st) == 0 && st.st_uid == getuid() && st.st_gid == getgid(),
           "the workspace's new file is the caller's on the host (uid %u)", (unsigned)st.st_uid);
    EXPECT(host_missing(hooks), "the hooks placeholder is gone");
    remove_tree(ws);
}

static const struct stk_test tests[] = {
    {"exit_codes", test_exit_codes},
    {"signals", test_signals},
    {"stdio", test_stdio},
    {"output_bound", test_output_bound},
    {"identity", test_identity},
    {"identity_without_userns", test_identity_without_userns},
    {"pid1", test_pid1},
    {"capabilities", test_capabilities},
    {"readonly_root", test_readonly_root},
    {"bind", test_bind},
    {"bind_below_tmpfs", test_bind_below_tmpfs},
    {"bind_errors", test_bind_errors},
    {"tmpfs", test_tmpfs},
    {"hostname", test_hostname},
    {"network", test_network},
    {"network_namespace_refused", test_network_namespace_refused},
    {"timeout", test_timeout},
    {"daemon_gone", test_daemon_gone},
    {"kill_frame", test_kill_frame},
    {"control_eof", test_control_eof},
    {"signal_forwarding", test_signal_forwarding},
    {"malformed_specs", test_malformed_specs},
    {"exec_errors", test_exec_errors},
    {"cwd_env", test_cwd_env},
    {"rlimits", test_rlimits},
    {"fds", test_fds},
    {"dev", test_dev},
    {"seccomp", test_seccomp},
    {"without_pid_namespace", test_without_pid_namespace},
    {"mounts_stay_inside", test_mounts_stay_inside},
    {"root_view", test_root_view},
    {"symlink_mount", test_symlink_mount},
    {"destination_symlink", test_destination_symlink},
    {"mountpoint_creation", test_mountpoint_creation},
    {"file_mount", test_file_mount},
    {"overlay_mount", test_overlay_mount},
    {"transactional", test_transactional},
    {"protect", test_protect},
    {"protect_shared", test_protect_shared},
    {"protect_stale", test_protect_stale},
    {"protect_warm_stale", test_protect_warm_stale},
    {"protect_transactional", test_protect_transactional},
    {"idmap_owner", test_idmap_owner},
    {"private_tmpfs", test_private_tmpfs},
    {"default_view", test_default_view},
    {"probe_mode", test_probe_mode},
    {"cgroup", test_cgroup},
    {"terminal", test_terminal},
};

int main(int argc, char **argv)
{
    static const struct stk_test_driver driver = {
        .name = "helper_test",
        .tool_name = "stk_probe",
        .tests = tests,
        .count = sizeof tests / sizeof tests[0],
        .helper = &helper,
        .tool = &probe,
        .tool_dir = probe_dir,
        .tool_dir_size = sizeof probe_dir,
    };
    return stk_test_main(&driver, argc, argv);
}
