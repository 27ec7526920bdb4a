/*
 * Tests of a warm sandbox (STK_F_WARM) end to end, with real processes and the real kernel:
 *
 *     warm_test --list
 *     warm_test <stockade-helper> <stk_probe> <test-name>     (or "all")
 *
 * The helper starts with /dev/null on fds 0-2 and a spec with WARM; the harness
 * (spec_writer.c) waits for READY, then sends the COMMAND frame with three pipes as the
 * command's stdin, stdout and stderr, as the Java side does. Every test passes as root and as
 * an unprivileged user. The egress forwarder's and REPORT's warm cases live with their own
 * servers and filters in egress_test.c and seccomp_test.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec_writer.h"
#include "stockade.h"

#define RUN_TIMEOUT_S 60

static const char *helper;
static const char *probe;
static char probe_dir[4096];

/* A warm spec: every namespace in `namespaces`, the host's system directories and the
 * probe's directory read-only; no ARG, ENV or CWD. */
static void warm_spec(struct spec_buf *b, uint32_t namespaces)
{
    spec_init(b);
    spec_bytes_field(b, STK_F_WARM, NULL, 0);
    spec_u32(b, STK_F_NAMESPACES, namespaces);
    spec_host_view(b);
    spec_bind(b, probe_dir, probe_dir, true);
}

/* A COMMAND running `stk_probe args...` with a PATH. */
static void probe_command(struct spec_buf *c, const char *const *args)
{
    spec_init_command(c);
    spec_string(c, STK_F_ARG, probe);
    for (size_t i = 0; args[i] != NULL; i++) {
        spec_string(c, STK_F_ARG, args[i]);
    }
    spec_string(c, STK_F_ENV, "PATH=/usr/bin:/bin");
}

/* Runs spec b warm with command c (NULL: o says what happens instead). */
static void run_warm(struct spec_buf *b, struct spec_buf *c, struct run_options *o,
                     struct run_result *r)
{
    struct run_options none = {0};
    if (o == NULL) {
        o = &none;
    }
    o->warm = true;
    if (c != NULL) {
        o->command = spec_finish(c, &o->command_len);
    }
    size_t len;
    const uint8_t *frame = spec_finish(b, &len);
    if (run_helper(helper, frame, len, o, r, RUN_TIMEOUT_S) < 0) {
        fprintf(stderr, "harness failure\n");
        stk_test_failures++;
    }
    EXPECT(!r->bad_frame, "every event frame well-formed");
}

/* READY, STARTED, EXITED with exit code `code` and stdout `out`, in that order. */
static bool expect_warm_exit(const struct run_result *r, int code, const char *out)
{
    int before = stk_test_failures;
    EXPECT(r->ready && r->ready_index == 0, "READY first");
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED, no ERROR");
    EXPECT(r->events == 3 && r->exited_index == 2, "READY, STARTED, EXITED only");
    EXPECT(WIFEXITED(r->wait_status) && WEXITSTATUS(r->wait_status) == code,
           "command exit code %d", code);
    EXPECT(r->flags == 0, "no flags");
    if (out != NULL) {
        EXPECT(strcmp(r->out, out) == 0, "stdout [%s], got [%s]", out, r->out);
    }
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 0, "helper exits 0");
    if (stk_test_failures != before) {
        stk_describe_run(r);
        return false;
    }
    return true;
}

/* The run's one ERROR, last, with step, errno and exit code; nothing EXITED. */
static void expect_warm_error(const struct run_result *r, const char *step, uint32_t err,
                              uint32_t exit_code, const char *what)
{
    int before = stk_test_failures;
    EXPECT(r->error && !r->exited, "an ERROR and no EXITED");
    EXPECT(strcmp(r->step, step) == 0, "step \"%s\"", step);
    EXPECT(r->err_errno == err, "errno %u", err);
    EXPECT(r->err_exit_code == exit_code, "exit code %u", exit_code);
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == (int)exit_code,
           "helper exits %u", exit_code);
    if (stk_test_failures != before) {
        fprintf(stderr, "    (case: %s)\n", what);
        stk_describe_run(r);
    }
}

/* Nothing of the sandbox is left once the helper is reaped: the pid 1 it had at READY is
 * gone (the helper reaps it before it exits), and so is the command's process pid 1 had forked
 * by then (with NEWPID: pid 1's end kills it, and pid 1's exit waits for it). */
static void expect_nothing_left(const struct run_result *r)
{
    EXPECT(r->ready_child_count == 1, "one child (pid 1) at READY, got %zu",
           r->ready_child_count);
    for (size_t i = 0; i < r->ready_child_count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d", (int)r->ready_children[i]);
        EXPECT(access(path, F_OK) != 0, "pid 1 (%d) gone", (int)r->ready_children[i]);
    }
    for (size_t i = 0; i < r->ready_grandchild_count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d", (int)r->ready_grandchildren[i]);
        EXPECT(access(path, F_OK) != 0, "pid 1's child at READY (%d) gone",
               (int)r->ready_grandchildren[i]);
    }
}

/* ---- the tests ---- */

/* The whole exchange: READY before any command exists, then the command's stdout and stderr
 * on the pipes COMMAND passed, its exit status in EXITED. */
static void test_command(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    probe_command(&c, (const char *const[]){"stdio", "to stdout", "to stderr", NULL});
    run_warm(&b, &c, NULL, &r);
    if (expect_warm_exit(&r, 0, "to stdout")) {
        EXPECT(strcmp(r.err_out, "to stderr") == 0, "stderr [to stderr], got [%s]", r.err_out);
        EXPECT(r.ready_child_count == 1 && r.sandbox_pid == r.ready_children[0],
               "STARTED names the pid 1 that was waiting (%d)", r.sandbox_pid);
        EXPECT(r.command_pid == 2, "the command is pid 2 inside, got %d", r.command_pid);
        /* With NEWPID the command's process exists before its command does (warm.h): a start
         * then forks nothing. */
        EXPECT(r.ready_grandchild_count == 1 && r.ready_grandchild_inner_pid == r.command_pid,
               "at READY pid 1 has one child, the command's process (%zu children, the first "
               "pid %d inside)",
               r.ready_grandchild_count, (int)r.ready_grandchild_inner_pid);
    }
    expect_nothing_left(&r);
    run_result_free(&r);
    spec_free(&c);

    /* Exit status and stdin: the command reads the stdin pipe to its EOF. */
    static const char input[] = "line one\nline two\n";
    struct run_options o = {.stdin_data = input, .stdin_len = sizeof input - 1};
    probe_command(&c, (const char *const[]){"cat", NULL});
    run_warm(&b, &c, &o, &r);
    expect_warm_exit(&r, 0, input);
    run_result_free(&r);
    spec_free(&c);
    probe_command(&c, (const char *const[]){"exit", "7", NULL});
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 7, "");
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* The command's environment is exactly COMMAND's ENV, its working directory COMMAND's CWD
 * ("/" without one), and it holds no descriptor but 0-2. */
static void test_env_cwd_fds(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, probe);
    spec_string(&c, STK_F_ARG, "env");
    spec_string(&c, STK_F_ENV, "A=1");
    spec_string(&c, STK_F_ENV, "B=two words");
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, "A=1\nB=two words\n");
    run_result_free(&r);
    spec_free(&c);

    probe_command(&c, (const char *const[]){"cwd", NULL});
    spec_string(&c, STK_F_CWD, probe_dir);
    char expected[4200];
    snprintf(expected, sizeof expected, "%s\n", probe_dir);
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, expected);
    run_result_free(&r);
    spec_free(&c);

    probe_command(&c, (const char *const[]){"cwd", NULL});
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, "/\n");
    run_result_free(&r);
    spec_free(&c);

    probe_command(&c, (const char *const[]){"fds", NULL});
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, "0 1 2\n");
    run_result_free(&r);
    spec_free(&c);

    /* A COMMAND far larger than the socket's buffer (1.2 MB of environment) arrives whole. */
    enum { VARS = 300, VALUE = 4000 };
    size_t total = 0;
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, probe);
    spec_string(&c, STK_F_ARG, "env");
    char *var = malloc(VALUE + 16);
    char *expected_env = malloc((size_t)VARS * (VALUE + 16) + 1);
    if (var == NULL || expected_env == NULL) {
        abort();
    }
    expected_env[0] = '\0';
    for (int i = 0; i < VARS; i++) {
        int n = snprintf(var, 16, "V%d=", i);
        memset(var + n, 'a' + i % 26, VALUE);
        var[n + VALUE] = '\0';
        spec_string(&c, STK_F_ENV, var);
        memcpy(expected_env + total, var, (size_t)n + VALUE);
        total += (size_t)n + VALUE;
        expected_env[total++] = '\n';
        expected_env[total] = '\0';
    }
    run_warm(&b, &c, NULL, &r);
    if (expect_warm_exit(&r, 0, NULL)) {
        EXPECT(r.out_len == total && strcmp(r.out, expected_env) == 0,
               "the whole environment back (%zu of %zu bytes)", r.out_len, total);
    }
    run_result_free(&r);
    free(var);
    free(expected_env);
    spec_free(&c);
    spec_free(&b);
}

/* The timeout runs from COMMAND: a sandbox left idle three times its timeout still runs its
 * command to the end; a command that outlasts it is timed out. So does the command's wall
 * time, although its process was forked before the idle wait. */
static void test_timeout_from_command(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    spec_u64(&b, STK_F_TIMEOUT_MS, 300);
    struct run_options o = {.warm_idle_ms = 900};
    probe_command(&c, (const char *const[]){"exit", "0", NULL});
    run_warm(&b, &c, &o, &r);
    if (expect_warm_exit(&r, 0, "")) {
        EXPECT(r.wall_ns > 0 && r.wall_ns < 300u * 1000000u,
               "wall time from COMMAND, not from the fork before the 900 ms idle: %llu ns",
               (unsigned long long)r.wall_ns);
    }
    run_result_free(&r);
    spec_free(&c);

    probe_command(&c, (const char *const[]){"sleep", "30", NULL});
    run_warm(&b, &c, NULL, &r);
    EXPECT(r.ready && r.started && r.exited && !r.error, "READY, STARTED, EXITED");
    EXPECT((r.flags & STK_EXIT_TIMED_OUT) != 0, "TIMED_OUT (flags %u)", r.flags);
    EXPECT(WIFSIGNALED(r.wait_status), "the command was killed");
    run_result_free(&r);
    spec_free(&b);

    /* 1 ms, over before the command can have started: still the command's timeout (EXITED,
     * TIMED_OUT), never a set-up failure. */
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    spec_u64(&b, STK_F_TIMEOUT_MS, 1);
    spec_u64(&b, STK_F_KILL_GRACE_MS, 0);
    run_warm(&b, &c, NULL, &r);
    int before = stk_test_failures;
    EXPECT(r.ready && r.started && r.exited && !r.error, "READY, STARTED, EXITED");
    EXPECT(r.flags == STK_EXIT_TIMED_OUT, "TIMED_OUT only (flags %u)", r.flags);
    EXPECT(WIFSIGNALED(r.wait_status) && WTERMSIG(r.wait_status) == SIGKILL,
           "killed at once (grace 0)");
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* on_warm_ready: SIGKILL to the command's process pid 1 forked before READY (ctx: the run's
 * result, whose READY children the harness has just read), as the host may send it. */
static void kill_waiting_command(void *ctx)
{
    const struct run_result *r = ctx;
    if (r->ready_grandchild_count == 1) {
        kill(r->ready_grandchildren[0], SIGKILL);
    }
}

/* EOF or KILL while idle ends the sandbox as during a cold set-up: nothing of it is left.
 * KILL is answered with the set-up's ERROR (init, ECANCELED); after EOF nobody listens. The
 * waiting command's process killed from the host ends it too, never reading as a start. */
static void test_idle_end(void)
{
    struct spec_buf b;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    struct run_options eof = {.warm_idle_action = 2};
    run_warm(&b, NULL, &eof, &r);
    EXPECT(r.ready && !r.started && !r.exited, "READY only");
    expect_nothing_left(&r);
    run_result_free(&r);

    struct run_options kill_now = {.warm_idle_action = 1, .kill_mode = STK_KILL_NOW};
    run_warm(&b, NULL, &kill_now, &r);
    EXPECT(r.ready && r.ready_index == 0 && r.events == 2, "READY, then one more event");
    expect_warm_error(&r, "init", ECANCELED, 125, "KILL while idle");
    expect_nothing_left(&r);
    run_result_free(&r);

    struct run_options kill_graceful = {.warm_idle_action = 1, .kill_mode = STK_KILL_GRACEFUL};
    run_warm(&b, NULL, &kill_graceful, &r);
    expect_warm_error(&r, "init", ECANCELED, 125, "graceful KILL while idle");
    expect_nothing_left(&r);
    run_result_free(&r);

    struct spec_buf c;
    probe_command(&c, (const char *const[]){"exit", "0", NULL});
    struct run_options killed = {.on_warm_ready = kill_waiting_command, .ctx = &r,
                                 .warm_idle_ms = 100};
    run_warm(&b, &c, &killed, &r);
    EXPECT(r.ready_grandchild_count == 1, "pid 1 had its command's process at READY");
    EXPECT(!r.started, "no STARTED for a command that never came to run");
    expect_warm_error(&r, "command", ECHILD, 125, "the waiting command's process killed");
    expect_nothing_left(&r);
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* may_print: what the command may have printed before the refusal (NULL: nothing). */
static void refused_may_print(struct spec_buf *c, struct run_options *o, const char *step,
                          uint32_t err, const char *detail, const char *may_print,
                          const char *what)
{
    struct spec_buf b;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    run_warm(&b, c, o, &r);
    expect_warm_error(&r, step, err, 125, what);
    EXPECT(strstr(r.detail, detail) != NULL, "detail has [%s], got [%s] (%s)", detail,
           r.detail, what);
    EXPECT(r.events == 1 + r.ready + r.started, "one ERROR besides READY/STARTED (%s)", what);
    if (may_print == NULL) {
        EXPECT(r.out[0] == '\0', "the command printed nothing (%s)", what);
    } else {
        EXPECT(r.out[0] == '\0' || strcmp(r.out, may_print) == 0,
               "the command printed nothing or [%s] once, got [%s] (%s)", may_print, r.out,
               what);
    }
    if (r.ready) {
        expect_nothing_left(&r);
    }
    run_result_free(&r);
    spec_free(&b);
}

static void refused(struct spec_buf *c, struct run_options *o, const char *step, uint32_t err,
                    const char *detail, const char *what)
{
    refused_may_print(c, o, step, err, detail, NULL, what);
}

/* Every protocol error is one ERROR naming its step and errno, and the sandbox dies. Allowed
 * first: the same command, well-formed, runs. */
static void test_protocol_errors(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    probe_command(&c, (const char *const[]){"stdio", "ran", "", NULL});
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, "ran");
    run_result_free(&r);
    spec_free(&b);

    struct run_options early = {.command_early = true};
    refused(&c, &early, "protocol", EPROTO, "COMMAND before READY", "before READY");
    /* The first COMMAND is handed over as it is read, the second refused when it is: the
     * first command may have run (and printed) by then, on a loaded machine; the second never
     * runs. */
    struct run_options twice = {.command_twice = true};
    refused_may_print(&c, &twice, "protocol", EPROTO, "a second COMMAND", "ran", "twice");
    struct run_options two_fds = {.command_fd_count = 2};
    refused(&c, &two_fds, "command", EPROTO, "carries 2 descriptors", "2 fds");
    struct run_options four_fds = {.command_fd_count = 4};
    refused(&c, &four_fds, "command", EPROTO, "carries 4 descriptors", "4 fds");
    struct run_options tty = {.command_stdin_path = "/dev/ptmx",
                              .command_stdin_flags = O_RDWR | O_NOCTTY};
    refused(&c, &tty, "command", EINVAL, "stdin is a terminal", "a terminal");
    spec_free(&c);

    /* Fields a COMMAND may not carry, and one without ARG. */
    probe_command(&c, (const char *const[]){"exit", "0", NULL});
    spec_u32(&c, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    refused(&c, NULL, "spec", EINVAL, "NAMESPACES: not allowed in COMMAND", "NAMESPACES");
    spec_free(&c);
    probe_command(&c, (const char *const[]){"exit", "0", NULL});
    spec_bytes_field(&c, STK_F_WARM, NULL, 0);
    refused(&c, NULL, "spec", EINVAL, "WARM: not allowed in COMMAND", "WARM");
    spec_free(&c);
    spec_init_command(&c);
    spec_string(&c, STK_F_ENV, "A=1");
    refused(&c, NULL, "spec", EINVAL, "ARG: at least one", "no ARG");
    spec_free(&c);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, probe);
    spec_string(&c, STK_F_ENV, "no-equals-sign");
    refused(&c, NULL, "spec", EINVAL, "ENV", "ENV not NAME=VALUE");
    spec_free(&c);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, probe);
    spec_string(&c, STK_F_CWD, "relative");
    refused(&c, NULL, "spec", EINVAL, "CWD: not an absolute path", "relative CWD");
    spec_free(&c);
}

/* A WARM spec carries no command, and a cold sandbox takes no COMMAND. */
static void test_spec_refusals(void)
{
    static const char *const with[] = {"ARG", "ENV", "CWD"};
    for (size_t i = 0; i < 3; i++) {
        struct spec_buf b;
        struct run_result r;
        warm_spec(&b, STK_ALLOWED_NAMESPACES);
        spec_string(&b, i == 0 ? STK_F_ARG : i == 1 ? STK_F_ENV : STK_F_CWD,
                    i == 1 ? "A=1" : "/bin/true");
        run_warm(&b, NULL, NULL, &r);
        expect_warm_error(&r, "spec", EINVAL, 125, with[i]);
        EXPECT(!r.ready && r.events == 1, "only the ERROR (%s)", with[i]);
        EXPECT(strstr(r.detail, "WARM") != NULL, "the detail names WARM: [%s]", r.detail);
        run_result_free(&r);
        spec_free(&b);
    }
    struct spec_buf b;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    spec_bytes_field(&b, STK_F_WARM, "x", 1);
    struct run_result r;
    run_warm(&b, NULL, NULL, &r);
    expect_warm_error(&r, "spec", EINVAL, 125, "WARM with a value");
    run_result_free(&r);
    spec_free(&b);

    /* A cold sandbox: the COMMAND right behind its spec is refused, the command never runs. */
    struct spec_buf cold, c;
    spec_init(&cold);
    spec_args(&cold, (const char *const[]){probe, "sleep", "30", NULL});
    spec_u32(&cold, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    spec_host_view(&cold);
    spec_bind(&cold, probe_dir, probe_dir, true);
    probe_command(&c, (const char *const[]){"exit", "0", NULL});
    struct run_options o = {0};
    o.extra = spec_finish(&c, &o.extra_len);
    size_t len;
    const uint8_t *frame = spec_finish(&cold, &len);
    if (run_helper(helper, frame, len, &o, &r, RUN_TIMEOUT_S) < 0) {
        stk_test_failures++;
    }
    expect_warm_error(&r, "protocol", EPROTO, 125, "COMMAND to a cold sandbox");
    EXPECT(strstr(r.detail, "no WARM") != NULL, "detail [%s]", r.detail);
    run_result_free(&r);
    spec_free(&c);
    spec_free(&cold);
}

/* A program that is not found is 127 at execve, one not executable 126, after READY. */
static void test_exec_errors(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, "stk-no-such-command");
    spec_string(&c, STK_F_ENV, "PATH=/nonexistent-stk:/usr/bin:/bin");
    run_warm(&b, &c, NULL, &r);
    EXPECT(r.ready && !r.started && r.events == 2, "READY, then the ERROR");
    expect_warm_error(&r, "execve", ENOENT, 127, "not found in PATH");
    EXPECT(strcmp(r.detail, "stk-no-such-command") == 0, "detail names it: [%s]", r.detail);
    run_result_free(&r);
    spec_free(&c);

    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, "/etc/passwd");
    run_warm(&b, &c, NULL, &r);
    expect_warm_error(&r, "execve", EACCES, 126, "not executable");
    run_result_free(&r);
    spec_free(&c);

    /* The PATH search itself (allowed case): found in the third entry. */
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, "true");
    spec_string(&c, STK_F_ENV, "PATH=/nonexistent-stk::/usr/bin:/bin");
    run_warm(&b, &c, NULL, &r);
    expect_warm_exit(&r, 0, "");
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* MAX_OUTPUT: the relay counts and bounds the warm command's output, written to the pipes
 * COMMAND passed (the helper's own fds 1 and 2 are /dev/null). */
static void test_output_bound(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    uint8_t value[16] = {0};
    uint64_t bytes = 5;
    memcpy(value, &bytes, 8); /* little-endian host */
    value[8] = STK_OUTPUT_DROP;
    spec_bytes_field(&b, STK_F_MAX_OUTPUT, value, sizeof value);
    probe_command(&c, (const char *const[]){"stdio", "hello world", "", NULL});
    run_warm(&b, &c, NULL, &r);
    EXPECT(r.ready && r.exited && !r.error, "READY and EXITED");
    EXPECT(r.output_bytes == 11 && r.output_dropped_bytes == 6,
           "11 bytes written, 6 dropped (got %llu, %llu)", (unsigned long long)r.output_bytes,
           (unsigned long long)r.output_dropped_bytes);
    EXPECT(strcmp(r.out, "hello") == 0 && r.err_out[0] == '\0',
           "the first 5 bytes delivered: [%s] [%s]", r.out, r.err_out);
    run_result_free(&r);
    spec_free(&c);

    /* stk_probe's stderr is unbuffered, its stdout flushed at exit: "!!" comes first, and
     * one pipe keeps that order. */
    probe_command(&c, (const char *const[]){"stdio", "hello world", "!!", NULL});

    /* stdout and stderr the same pipe: one stream, in the order written. */
    struct run_options merged = {.command_merged = true};
    run_warm(&b, &c, &merged, &r);
    EXPECT(r.exited && r.output_bytes == 13, "13 bytes counted (%llu)",
           (unsigned long long)r.output_bytes);
    EXPECT(strcmp(r.out, "!!hel") == 0, "stdout [!!hel], got [%s]", r.out);
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);

    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    bytes = 100;
    memcpy(value, &bytes, 8);
    spec_bytes_field(&b, STK_F_MAX_OUTPUT, value, sizeof value);
    probe_command(&c, (const char *const[]){"stdio", "ab", "cd", NULL});
    run_warm(&b, &c, &merged, &r);
    expect_warm_exit(&r, 0, "cdab");
    EXPECT(r.output_bytes == 4, "4 bytes (%llu)", (unsigned long long)r.output_bytes);
    run_result_free(&r);

    /* KILL: past the bound the sandbox dies, flagged. */
    struct spec_buf k, big;
    warm_spec(&k, STK_ALLOWED_NAMESPACES);
    bytes = 4;
    memcpy(value, &bytes, 8);
    value[8] = STK_OUTPUT_KILL;
    spec_bytes_field(&k, STK_F_MAX_OUTPUT, value, sizeof value);
    probe_command(&big, (const char *const[]){"stdio", "more than four", "", NULL});
    run_warm(&k, &big, NULL, &r);
    EXPECT(r.ready && r.started && r.exited && (r.flags & STK_EXIT_OUTPUT_LIMIT) != 0,
           "OUTPUT_LIMIT (flags %u)", r.flags);
    EXPECT(strlen(r.out) <= 4, "at most 4 bytes delivered: [%s]", r.out);
    run_result_free(&r);
    spec_free(&big);
    spec_free(&k);

    /* A writable stdin would carry output past the bound: refused. */
    struct run_options rw = {.command_stdin_path = "/tmp", .command_stdin_flags = O_RDWR};
    char file[] = "/tmp/stk-warm-stdin-XXXXXX";
    int fd = mkstemp(file);
    if (fd >= 0) {
        close(fd);
        rw.command_stdin_path = file;
        run_warm(&b, &c, &rw, &r);
        expect_warm_error(&r, "output", EINVAL, 125, "writable stdin");
        run_result_free(&r);
        unlink(file);
    }
    spec_free(&c);
    spec_free(&b);
}

static void warm_expect(const char *const *args, const char *expected)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES);
    probe_command(&c, args);
    run_warm(&b, &c, NULL, &r);
    if (!expect_warm_exit(&r, 0, expected)) {
        fprintf(stderr, "    (command: %s)\n", args[0]);
    }
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* What pid 1 set up before READY holds for the command that came later: its own pid
 * namespace (pid 1 and itself only), loopback up, the hostname, no capabilities, no new
 * privileges, and what those would allow fails. */
static void test_isolation(void)
{
    warm_expect((const char *const[]){"pids", NULL}, "1 2\n");
    warm_expect((const char *const[]){"net", NULL}, "lo lo=up\n");
    warm_expect((const char *const[]){"uname", NULL}, "stockade\n");
    warm_expect((const char *const[]){"status", NULL},
                "CapInh:\t0000000000000000\n"
                "CapPrm:\t0000000000000000\n"
                "CapEff:\t0000000000000000\n"
                "CapBnd:\t0000000000000000\n"
                "CapAmb:\t0000000000000000\n"
                "NoNewPrivs:\t1\n"
                "Seccomp:\t0\n");
    warm_expect((const char *const[]){"sethostname", "evil", NULL}, "errno=1\n");
    warm_expect((const char *const[]){"mount-tmpfs", "/tmp", NULL}, "errno=1\n");
}

/* Without a pid namespace the warm command runs and its process group dies with it. pid 1
 * forks it only once the command came: an idle process forked before would outlive a pid 1
 * killed while idle. */
static void test_without_pid_namespace(void)
{
    struct spec_buf b, c;
    struct run_result r;
    warm_spec(&b, STK_ALLOWED_NAMESPACES & ~(uint32_t)CLONE_NEWPID);
    probe_command(&c, (const char *const[]){"stdio", "no pidns", "", NULL});
    run_warm(&b, &c, NULL, &r);
    if (expect_warm_exit(&r, 0, "no pidns")) {
        EXPECT(r.sandbox_pid > 1 && r.command_pid > 1, "host pids (%d, %d)", r.sandbox_pid,
               r.command_pid);
        EXPECT(r.ready_grandchild_count == 0, "pid 1 has no child at READY, got %zu",
               r.ready_grandchild_count);
    }
    expect_nothing_left(&r);
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

static const struct stk_test tests[] = {
    {"command", test_command},
    {"env_cwd_fds", test_env_cwd_fds},
    {"timeout_from_command", test_timeout_from_command},
    {"idle_end", test_idle_end},
    {"protocol_errors", test_protocol_errors},
    {"spec_refusals", test_spec_refusals},
    {"exec_errors", test_exec_errors},
    {"output_bound", test_output_bound},
    {"isolation", test_isolation},
    {"without_pid_namespace", test_without_pid_namespace},
};

int main(int argc, char **argv)
{
    const struct stk_test_driver d = {
        .name = "warm_test",
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
