/*
 * Seccomp in the sandbox, with real processes and the real kernel:
 *
 *     seccomp_test --list     (the test names, one a line)
 *     seccomp_test <stockade-helper> <try-syscall> <test-name>     (or "all")
 *
 * - REPORT rules: the command installs its filter with a listener, pid 1 answers each
 *   notification with the rule's errno (or lets the call run) and the helper sends VIOLATION
 *   events, at most two per syscall, all between STARTED and EXITED.
 * - try-syscall's bypass modes (int $0x80, x32, clone3 with CLONE_NEWUSER, TIOCSTI with high
 *   bits) against hand-written filters like the ones the JNI library compiles.
 *
 * try-syscall runs only inside the sandbox. Every denial test first shows the call works
 * without the filter. The filters are written by hand here, so these tests do not depend on
 * the Java side's compiler.
 *
 * To add a test: write `static void test_x(void)` and add it to `tests[]` at the end; ctest
 * makes an entry for every name `seccomp_test --list` prints (CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec_writer.h"
#include "stockade.h"

#if !defined(__x86_64__)
#error "seccomp_test covers x86_64 (int $0x80, x32); add the other architecture's cases"
#endif

#define RUN_TIMEOUT_S 100
#define X32_SYSCALL_BIT 0x40000000u

static const char *helper;
static const char *try_syscall;

/* ---- filters ---- */

struct rule {
    uint32_t nr;
    uint32_t action; /* SECCOMP_RET_* */
};

struct filter {
    struct sock_filter insns[64];
    size_t count;
};

static void emit(struct filter *f, struct sock_filter insn)
{
    if (f->count == sizeof f->insns / sizeof f->insns[0]) {
        fprintf(stderr, "seccomp_test: filter too long\n");
        exit(2);
    }
    f->insns[f->count++] = insn;
}

/* Like the JNI library's filters: kill a foreign architecture and the x32 range first, then
 * one action per listed syscall, TIOCSTI denied on the low 32 bits of the request when asked,
 * everything else fallback. */
static void build_filter_or(struct filter *f, const struct rule *rules, size_t n, bool tiocsti,
                            uint32_t fallback)
{
    f->count = 0;
    emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                         offsetof(struct seccomp_data, arch)));
    emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                         offsetof(struct seccomp_data, nr)));
    emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
    emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    for (size_t i = 0; i < n; i++) {
        emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, rules[i].nr, 0, 1));
        emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, rules[i].action));
    }
    if (tiocsti) {
        /* the low word of args[1] (little-endian) */
        emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 3));
        emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, args[1])));
        emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 0, 1));
        emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    }
    emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, fallback));
}

static void build_filter(struct filter *f, const struct rule *rules, size_t n, bool tiocsti)
{
    build_filter_or(f, rules, n, tiocsti, SECCOMP_RET_ALLOW);
}

/* A REPORT field's content. */
struct report_field {
    uint32_t nr, err;
};

/* ---- running try-syscall ---- */

static char try_syscall_dir[4096];

/* The sandbox's root is an empty tmpfs: the host's system directories and try-syscall's
 * directory, read-only. */
static void add_view(struct spec_buf *b)
{
    spec_host_view(b);
    spec_bind(b, try_syscall_dir, try_syscall_dir, true);
}

/* A spec running `try-syscall args...` with every namespace. */
static void try_spec(struct spec_buf *b, const char *const *args)
{
    spec_init(b);
    spec_string(b, STK_F_ARG, try_syscall);
    for (size_t i = 0; args[i] != NULL; i++) {
        spec_string(b, STK_F_ARG, args[i]);
    }
    spec_string(b, STK_F_ENV, "PATH=/usr/bin:/bin");
    spec_u32(b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(b);
}

static void add_filter(struct spec_buf *b, const struct rule *rules, size_t n, bool tiocsti)
{
    struct filter f;
    build_filter(&f, rules, n, tiocsti);
    spec_bpf(b, f.insns, f.count);
}

static void run(struct spec_buf *b, struct run_result *r)
{
    size_t len;
    const uint8_t *frame = spec_finish(b, &len);
    if (run_helper(helper, frame, len, NULL, r, RUN_TIMEOUT_S) < 0) {
        fprintf(stderr, "harness failure\n");
        stk_test_failures++;
    }
    EXPECT(!r->bad_frame, "every event frame well-formed");
}

/* STARTED, the given number of VIOLATIONs, EXITED with code 0 and stdout `expected`. */
static bool expect_output(const struct run_result *r, size_t violations, const char *expected)
{
    int before = stk_test_failures;
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED, no ERROR");
    EXPECT(WIFEXITED(r->wait_status) && WEXITSTATUS(r->wait_status) == 0, "command exit 0");
    EXPECT(r->flags == 0, "no flags");
    EXPECT(r->violation_count == violations, "%zu VIOLATION events", violations);
    EXPECT(r->events == 2 + (int)r->violation_count, "STARTED, VIOLATIONs, EXITED only");
    EXPECT(r->exited_index == r->events - 1, "EXITED last");
    for (size_t i = 0; i < r->violation_count; i++) {
        EXPECT(r->violations[i].index >= 1, "VIOLATION after STARTED");
        EXPECT(r->violations[i].reserved == 0, "reserved word 0");
    }
    EXPECT(strcmp(r->out, expected) == 0, "stdout [%s]", expected);
    EXPECT(WIFEXITED(r->helper_status) && WEXITSTATUS(r->helper_status) == 0, "helper exits 0");
    if (stk_test_failures != before) {
        stk_describe_run(r);
        return false;
    }
    return true;
}

static void expect_killed(const struct run_result *r, int sig)
{
    int before = stk_test_failures;
    EXPECT(r->started && !r->error && r->exited, "STARTED and EXITED");
    EXPECT(WIFSIGNALED(r->wait_status) && WTERMSIG(r->wait_status) == sig,
           "killed by signal %d", sig);
    EXPECT(r->out[0] == '\0', "no output line");
    EXPECT(r->events == 2, "no other events");
    if (stk_test_failures != before) {
        stk_describe_run(r);
    }
}

static void expect_spec_error(struct spec_buf *b, const char *what)
{
    struct run_result r;
    run(b, &r);
    int before = stk_test_failures;
    EXPECT(r.error && !r.started && !r.exited && r.events == 1, "exactly one ERROR event");
    EXPECT(strcmp(r.step, "spec") == 0 && r.err_errno == EINVAL && r.err_exit_code == 125,
           "spec / EINVAL / 125");
    EXPECT(strstr(r.detail, "REPORT") != NULL, "the detail names REPORT");
    EXPECT(WIFEXITED(r.helper_status) && WEXITSTATUS(r.helper_status) == 125, "helper exits 125");
    if (stk_test_failures != before) {
        fprintf(stderr, "    (case: %s)\n", what);
        stk_describe_run(&r);
    }
    run_result_free(&r);
    spec_free(b);
}

/* Runs try-syscall with args, optionally under rules (plus REPORT fields), and checks the
 * line and the VIOLATION count; r is left for more checks (free it). */
static bool try_run(const char *const *args, const struct rule *rules, size_t nrules,
                    const struct report_field *reports, size_t nreports, size_t violations,
                    const char *expected, struct run_result *r)
{
    struct spec_buf b;
    try_spec(&b, args);
    if (rules != NULL) {
        add_filter(&b, rules, nrules, false);
    }
    for (size_t i = 0; i < nreports; i++) {
        spec_report(&b, reports[i].nr, reports[i].err);
    }
    run(&b, r);
    spec_free(&b);
    return expect_output(r, violations, expected);
}

/* ---- REPORT ---- */

static const char *const getpriority_args[] = {"getpriority", "0",    "0",    "0x33",
                                               "0x44",        "0x55", "0x66", NULL};

static void test_report_errno(void)
{
    struct run_result r;
    /* Allowed first: which=PRIO_PROCESS, who=self gives 20 - nice. */
    try_run(getpriority_args, NULL, 0, NULL, 0, 0, "getpriority ret=20 errno=0 (OK)\n", &r);
    run_result_free(&r);

    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    struct report_field reports[] = {{SYS_getpriority, EACCES}};
    if (try_run(getpriority_args, rules, 1, reports, 1, 1,
                "getpriority ret=-1 errno=13 (EACCES)\n", &r)) {
        const struct violation_event *v = &r.violations[0];
        EXPECT(v->nr == SYS_getpriority && v->err == EACCES && v->count == 1,
               "getpriority, EACCES, once (nr %u errno %u count %llu)", v->nr, v->err,
               (unsigned long long)v->count);
        EXPECT(v->pid == 2, "the command (pid 2 inside) called it, got %d", v->pid);
        static const uint64_t args[6] = {0, 0, 0x33, 0x44, 0x55, 0x66};
        EXPECT(memcmp(v->args, args, sizeof args) == 0, "the call's six arguments");
        EXPECT(v->index == 1, "right after STARTED");
    }
    run_result_free(&r);
}

/* A warm sandbox (STK_F_WARM): the filter and its listener belong to the command COMMAND
 * brought; its violations arrive after STARTED as in a cold spawn. */
static void test_report_warm(void)
{
    struct spec_buf b, c;
    spec_init(&b);
    spec_bytes_field(&b, STK_F_WARM, NULL, 0);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(&b);
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_getpriority, EACCES);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, try_syscall);
    for (size_t i = 0; getpriority_args[i] != NULL; i++) {
        spec_string(&c, STK_F_ARG, getpriority_args[i]);
    }
    struct run_options o = {.warm = true};
    o.command = spec_finish(&c, &o.command_len);
    size_t len;
    const uint8_t *frame = spec_finish(&b, &len);
    struct run_result r;
    if (run_helper(helper, frame, len, &o, &r, RUN_TIMEOUT_S) < 0) {
        stk_test_failures++;
    }
    int before = stk_test_failures;
    EXPECT(!r.bad_frame, "every event frame well-formed");
    EXPECT(r.ready && r.ready_index == 0, "READY first");
    EXPECT(r.started && r.exited && !r.error, "STARTED and EXITED");
    EXPECT(r.events == 4 && r.exited_index == 3, "READY, STARTED, VIOLATION, EXITED");
    EXPECT(strcmp(r.out, "getpriority ret=-1 errno=13 (EACCES)\n") == 0, "stdout [%s]", r.out);
    EXPECT(r.violation_count == 1 && r.violations[0].nr == SYS_getpriority &&
               r.violations[0].err == EACCES && r.violations[0].count == 1 &&
               r.violations[0].pid == 2 && r.violations[0].index == 2,
           "one violation: getpriority, EACCES, once, by pid 2, after STARTED");
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
    spec_free(&c);
    spec_free(&b);
}

/* A warm spec with the filter (rules, then fallback) and `try-syscall args...` as its command;
 * the result in *r. */
static void run_warm_filtered(const struct rule *rules, size_t n, uint32_t fallback,
                              const char *const *args, struct run_result *r)
{
    struct spec_buf b, c;
    spec_init(&b);
    spec_bytes_field(&b, STK_F_WARM, NULL, 0);
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(&b);
    struct filter f;
    build_filter_or(&f, rules, n, false, fallback);
    spec_bpf(&b, f.insns, f.count);
    spec_init_command(&c);
    spec_string(&c, STK_F_ARG, args[0] != NULL && args[0][0] == '/' ? args[0] : try_syscall);
    for (size_t i = args[0] != NULL && args[0][0] == '/' ? 1 : 0; args[i] != NULL; i++) {
        spec_string(&c, STK_F_ARG, args[i]);
    }
    struct run_options o = {.warm = true};
    o.command = spec_finish(&c, &o.command_len);
    size_t len;
    const uint8_t *frame = spec_finish(&b, &len);
    if (run_helper(helper, frame, len, &o, r, RUN_TIMEOUT_S) < 0) {
        stk_test_failures++;
    }
    EXPECT(!r->bad_frame, "every event frame well-formed");
    EXPECT(r->ready && r->ready_grandchild_count == 1, "READY, pid 1 with the command's process");
    spec_free(&c);
    spec_free(&b);
}

/* A warm command's process has its filters before READY when they allow every call it makes
 * after them whatever the arguments (command.h), and the command runs under them. A filter
 * that refuses any one of those calls goes on after the hand-over instead, as in a cold spawn:
 * the calls before it succeed, and it still applies to the command. */
static void test_filter_early_warm(void)
{
    struct run_result r;
    struct rule denied = {SYS_getpriority, SECCOMP_RET_ERRNO | EACCES};
    run_warm_filtered(&denied, 1, SECCOMP_RET_ALLOW, getpriority_args, &r);
    int before = stk_test_failures;
    EXPECT(r.ready_grandchild_seccomp == 2, "filters before READY (Seccomp: %d)",
           r.ready_grandchild_seccomp);
    EXPECT(r.started && r.exited && !r.error, "STARTED and EXITED");
    EXPECT(strcmp(r.out, "getpriority ret=-1 errno=13 (EACCES)\n") == 0, "stdout [%s]", r.out);
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);

    static const uint32_t made_after[] = {SYS_recvmsg, SYS_statx, SYS_dup2, SYS_chdir,
                                          SYS_prlimit64, SYS_close_range};
    for (size_t i = 0; i < sizeof made_after / sizeof made_after[0]; i++) {
        struct rule refused[] = {{made_after[i], SECCOMP_RET_ERRNO | EPERM},
                                 {SYS_getpriority, SECCOMP_RET_ERRNO | EACCES}};
        run_warm_filtered(refused, 2, SECCOMP_RET_ALLOW, getpriority_args, &r);
        before = stk_test_failures;
        EXPECT(r.ready_grandchild_seccomp == 0, "syscall %u refused: no filter at READY (%d)",
               made_after[i], r.ready_grandchild_seccomp);
        EXPECT(r.started && r.exited && !r.error && WIFEXITED(r.wait_status) &&
                   WEXITSTATUS(r.wait_status) == 0,
               "syscall %u refused: the command ran", made_after[i]);
        EXPECT(strcmp(r.out, "getpriority ret=-1 errno=13 (EACCES)\n") == 0,
               "syscall %u refused: the filter applies, stdout [%s]", made_after[i], r.out);
        if (stk_test_failures != before) {
            stk_describe_run(&r);
        }
        run_result_free(&r);
    }
}

/* Everything the command's process calls between its early filters and a failing execve is
 * among command.c's calls: under a filter that kills every other call it still reports the
 * missing program (an unlisted call would kill it: SIGSYS, read as a started command). prctl
 * is the filters' own check, made right after each install in a cold spawn as well. In a
 * sanitized build ASan's runtime asks for the alternate signal stack before each call that
 * does not return, in either order. */
static void test_filter_early_calls(void)
{
    static const uint32_t listed[] = {
        SYS_recvmsg,     SYS_statx,  SYS_dup2,    SYS_close,      SYS_chdir,
        SYS_setrlimit,   SYS_prlimit64, SYS_close_range, SYS_execve, SYS_sendmsg,
        SYS_exit_group,  SYS_clock_gettime, SYS_prctl,
#ifdef __SANITIZE_ADDRESS__
        SYS_sigaltstack,
#endif
    };
    struct rule allowed[sizeof listed / sizeof listed[0]];
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++) {
        allowed[i] = (struct rule){listed[i], SECCOMP_RET_ALLOW};
    }
    struct run_result r;
    run_warm_filtered(allowed, sizeof listed / sizeof listed[0], SECCOMP_RET_KILL_PROCESS,
                      (const char *const[]){"/no/such/program", NULL}, &r);
    int before = stk_test_failures;
    EXPECT(r.ready_grandchild_seccomp == 2, "filters before READY (Seccomp: %d)",
           r.ready_grandchild_seccomp);
    EXPECT(r.error && !r.started && strcmp(r.step, "execve") == 0 && r.err_errno == ENOENT &&
               r.err_exit_code == 127,
           "ERROR execve ENOENT 127, never a started command");
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
}

static void test_report_loop(void)
{
    struct run_result r;
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    struct spec_buf b;
    try_spec(&b, (const char *const[]){"--loop", "100000", "getpriority", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_getpriority, EACCES);
    run(&b, &r);
    spec_free(&b);
    /* One frame when first seen, one with the final count: at most two, the last exact. */
    int before = stk_test_failures;
    EXPECT(r.violation_count == 1 || r.violation_count == 2, "one or two VIOLATION events");
    if (stk_test_failures == before &&
        expect_output(&r, r.violation_count, "getpriority ret=-1 errno=13 (EACCES)\n")) {
        const struct violation_event *last = &r.violations[r.violation_count - 1];
        EXPECT(last->count == 100000, "exact final count, got %llu",
               (unsigned long long)last->count);
        for (size_t i = 0; i < r.violation_count; i++) {
            EXPECT(r.violations[i].nr == SYS_getpriority && r.violations[i].err == EACCES &&
                       r.violations[i].pid == 2,
                   "all about the command's getpriority");
        }
        if (r.violation_count == 2) {
            EXPECT(r.violations[0].count < 100000, "the first frame before the final count");
        }
    } else if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
}

static void test_report_continue(void)
{
    struct run_result r;
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    struct report_field reports[] = {{SYS_getpriority, 0}};
    if (try_run(getpriority_args, rules, 1, reports, 1, 1, "getpriority ret=20 errno=0 (OK)\n",
                &r)) {
        const struct violation_event *v = &r.violations[0];
        EXPECT(v->nr == SYS_getpriority && v->err == 0 && v->count == 1,
               "recorded as let through (errno %u count %llu)", v->err,
               (unsigned long long)v->count);
    }
    run_result_free(&r);
}

static void test_report_unlisted(void)
{
    struct run_result r;
    /* The filter notifies getpriority, but only getppid has a REPORT field. */
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF},
                           {SYS_getppid, SECCOMP_RET_USER_NOTIF}};
    struct report_field reports[] = {{SYS_getppid, EACCES}};
    if (try_run(getpriority_args, rules, 2, reports, 1, 1,
                "getpriority ret=-1 errno=1 (EPERM)\n", &r)) {
        const struct violation_event *v = &r.violations[0];
        EXPECT(v->nr == SYS_getpriority && v->err == EPERM && v->count == 1,
               "recorded with EPERM (nr %u errno %u)", v->nr, v->err);
    }
    run_result_free(&r);
}

static void test_report_children(void)
{
    /* The filter is inherited: a shell's children call it, each is answered and counted. */
    char script[8192];
    snprintf(script, sizeof script, "%s getpriority; %s getpriority; echo done", try_syscall,
             try_syscall);
    struct spec_buf b;
    spec_init(&b);
    spec_args(&b, (const char *const[]){"/bin/sh", "-c", script, NULL});
    spec_string(&b, STK_F_ENV, "PATH=/usr/bin:/bin");
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(&b);
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_getpriority, EACCES);
    struct run_result r;
    run(&b, &r);
    spec_free(&b);
    int before = stk_test_failures;
    EXPECT(r.violation_count == 1 || r.violation_count == 2, "one or two VIOLATION events");
    if (stk_test_failures == before && expect_output(&r, r.violation_count,
                                            "getpriority ret=-1 errno=13 (EACCES)\n"
                                            "getpriority ret=-1 errno=13 (EACCES)\n"
                                            "done\n")) {
        const struct violation_event *last = &r.violations[r.violation_count - 1];
        EXPECT(last->count == 2, "two calls, got %llu", (unsigned long long)last->count);
        EXPECT(last->pid > 2, "first called by a child of the shell (pid 2), got %d", last->pid);
    } else if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
}

/* prctl(PR_GET_SECCOMP) runs after the hand-over and before execve: pid 1 answers it while it
 * waits for the exec status (EPERM is proof enough of a filter), and the VIOLATION follows
 * STARTED. */
static void test_report_before_exec(void)
{
    struct run_result r;
    struct rule rules[] = {{SYS_prctl, SECCOMP_RET_USER_NOTIF}};
    struct report_field reports[] = {{SYS_prctl, EPERM}};
    if (try_run((const char *const[]){"getpid", NULL}, rules, 1, reports, 1, 1,
                "getpid ret=2 errno=0 (OK)\n", &r)) {
        const struct violation_event *v = &r.violations[0];
        EXPECT(v->nr == SYS_prctl && v->err == EPERM && v->count == 1 && v->pid == 2 &&
                   v->args[0] == PR_GET_SECCOMP,
               "the helper's PR_GET_SECCOMP (nr %u count %llu arg0 %llu)", v->nr,
               (unsigned long long)v->count, (unsigned long long)v->args[0]);
    }
    run_result_free(&r);

    /* A failed execve after the hand-over: ERROR, no VIOLATION (nothing was started). */
    struct spec_buf b;
    spec_init(&b);
    spec_args(&b, (const char *const[]){"/nonexistent/program", NULL});
    spec_u32(&b, STK_F_NAMESPACES, STK_ALLOWED_NAMESPACES);
    add_view(&b);
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_prctl, EPERM);
    run(&b, &r);
    spec_free(&b);
    int before = stk_test_failures;
    EXPECT(r.error && !r.started && r.events == 1, "only ERROR");
    EXPECT(strcmp(r.step, "execve") == 0 && r.err_errno == ENOENT && r.err_exit_code == 127,
           "execve / ENOENT / 127");
    if (stk_test_failures != before) {
        stk_describe_run(&r);
    }
    run_result_free(&r);
}

static void test_report_malformed(void)
{
    struct rule rules[] = {{SYS_getpriority, SECCOMP_RET_USER_NOTIF}};
    struct spec_buf b;

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_bytes_field(&b, STK_F_REPORT, "\x8c\0\0\0", 4);
    expect_spec_error(&b, "length 4");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, 4096, EPERM);
    expect_spec_error(&b, "syscall number 4096");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, X32_SYSCALL_BIT | SYS_getpriority, EPERM);
    expect_spec_error(&b, "x32 number");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_getpriority, 4096);
    expect_spec_error(&b, "errno 4096");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    spec_report(&b, SYS_getpriority, EPERM);
    expect_spec_error(&b, "REPORT without SECCOMP_BPF");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_getpriority, EPERM);
    spec_report(&b, SYS_getppid, EPERM);
    spec_report(&b, SYS_getpriority, EACCES);
    expect_spec_error(&b, "syscall given twice");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    spec_report(&b, SYS_sendmsg, EPERM);
    expect_spec_error(&b, "sendmsg");

    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    for (uint32_t nr = 0; nr <= STK_MAX_REPORTS; nr++) {
        spec_report(&b, nr == SYS_sendmsg ? 4000 : nr, EPERM);
    }
    expect_spec_error(&b, "more than STK_MAX_REPORTS");

    /* The limits themselves are fine: errno 4095, STK_MAX_REPORTS fields. */
    struct run_result r;
    try_spec(&b, (const char *const[]){"getpid", NULL});
    add_filter(&b, rules, 1, false);
    for (uint32_t nr = 0; nr < STK_MAX_REPORTS; nr++) {
        spec_report(&b, nr == SYS_sendmsg ? 4000 : nr, nr == SYS_getpriority ? 4095 : EPERM);
    }
    run(&b, &r);
    expect_output(&r, 0, "getpid ret=2 errno=0 (OK)\n");
    run_result_free(&r);
    spec_free(&b);
}

/* ---- try-syscall's modes ---- */

static void test_try_syscall_native(void)
{
    struct run_result r;
    struct rule none[] = {{SYS_getpriority, SECCOMP_RET_ERRNO | EPERM}};
    try_run((const char *const[]){"getpid", NULL}, none, 1, NULL, 0, 0,
            "getpid ret=2 errno=0 (OK)\n", &r);
    run_result_free(&r);
    try_run((const char *const[]){"--loop", "3", "getppid", NULL}, none, 1, NULL, 0, 0,
            "getppid ret=1 errno=0 (OK)\n", &r);
    run_result_free(&r);
    try_run((const char *const[]){"getpriority", NULL}, none, 1, NULL, 0, 0,
            "getpriority ret=-1 errno=1 (EPERM)\n", &r);
    run_result_free(&r);
    /* Harmless defaults: ptrace's request is PEEKUSER on pid 0, not TRACEME. */
    try_run((const char *const[]){"ptrace", NULL}, NULL, 0, NULL, 0, 0,
            "ptrace ret=-1 errno=3 (ESRCH)\n", &r);
    run_result_free(&r);
    /* A fork-like call's child exits at once: one line, from the parent. */
    try_run((const char *const[]){"fork", NULL}, NULL, 0, NULL, 0, 0, "fork ret=3 errno=0 (OK)\n",
            &r);
    run_result_free(&r);
}

static void test_try_syscall_int80(void)
{
    struct run_result r;
    /* Without a filter the i386 ABI works (getpid is 20 there)... */
    try_run((const char *const[]){"--int80", "getpid", NULL}, NULL, 0, NULL, 0, 0,
            "getpid ret=2 errno=0 (OK)\n", &r);
    run_result_free(&r);
    /* ...and a filter checking the architecture kills it. */
    struct spec_buf b;
    try_spec(&b, (const char *const[]){"--int80", "getpid", NULL});
    add_filter(&b, NULL, 0, false);
    run(&b, &r);
    expect_killed(&r, SIGSYS);
    run_result_free(&r);
    spec_free(&b);
}

static void test_try_syscall_x32(void)
{
    struct run_result r;
    struct spec_buf b;
    /* Without a filter: ENOSYS on kernels built without the x32 ABI, else the call works. */
    try_spec(&b, (const char *const[]){"--x32", "getpid", NULL});
    run(&b, &r);
    EXPECT(strcmp(r.out, "getpid ret=-1 errno=38 (ENOSYS)\n") == 0 ||
               strcmp(r.out, "getpid ret=2 errno=0 (OK)\n") == 0,
           "x32 getpid without a filter, got [%s]", r.out);
    run_result_free(&r);
    spec_free(&b);
    try_spec(&b, (const char *const[]){"--x32", "getpid", NULL});
    add_filter(&b, NULL, 0, false);
    run(&b, &r);
    expect_killed(&r, SIGSYS);
    run_result_free(&r);
    spec_free(&b);
}

static void test_try_syscall_clone3(void)
{
    struct run_result r;
    struct spec_buf b;
    /* Without a filter clone3 runs: a child (pid 3) in a new user namespace, or a refusal by
     * the kernel; never ENOSYS. */
    try_spec(&b, (const char *const[]){"--clone3-newuser", NULL});
    run(&b, &r);
    EXPECT(strncmp(r.out, "clone3-newuser ", 15) == 0 && strstr(r.out, "ENOSYS") == NULL,
           "clone3 reaches the kernel, got [%s]", r.out);
    run_result_free(&r);
    spec_free(&b);
    struct rule rules[] = {{SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS}};
    try_run((const char *const[]){"--clone3-newuser", NULL}, rules, 1, NULL, 0, 0,
            "clone3-newuser ret=-1 errno=38 (ENOSYS)\n", &r);
    run_result_free(&r);
}

static void test_try_syscall_tiocsti(void)
{
    struct run_result r;
    struct spec_buf b;
    /* Without a filter the kernel sees TIOCSTI on /dev/null: not a terminal. */
    try_run((const char *const[]){"--tiocsti-high", NULL}, NULL, 0, NULL, 0, 0,
            "tiocsti-high ret=-1 errno=25 (ENOTTY)\n", &r);
    run_result_free(&r);
    /* A 32-bit compare catches the request despite the high bits. */
    try_spec(&b, (const char *const[]){"--tiocsti-high", NULL});
    add_filter(&b, NULL, 0, true);
    run(&b, &r);
    expect_output(&r, 0, "tiocsti-high ret=-1 errno=1 (EPERM)\n");
    run_result_free(&r);
    spec_free(&b);
}

static const struct stk_test tests[] = {
    {"report_errno", test_report_errno},
    {"report_warm", test_report_warm},
    {"filter_early_warm", test_filter_early_warm},
    {"filter_early_calls", test_filter_early_calls},
    {"report_loop", test_report_loop},
    {"report_continue", test_report_continue},
    {"report_unlisted", test_report_unlisted},
    {"report_children", test_report_children},
    {"report_before_exec", test_report_before_exec},
    {"report_malformed", test_report_malformed},
    {"try_syscall_native", test_try_syscall_native},
    {"try_syscall_int80", test_try_syscall_int80},
    {"try_syscall_x32", test_try_syscall_x32},
    {"try_syscall_clone3", test_try_syscall_clone3},
    {"try_syscall_tiocsti", test_try_syscall_tiocsti},
};

int main(int argc, char **argv)
{
    static const struct stk_test_driver driver = {
        .name = "seccomp_test",
        .tool_name = "try-syscall",
        .tests = tests,
        .count = sizeof tests / sizeof tests[0],
        .helper = &helper,
        .tool = &try_syscall,
        .tool_dir = try_syscall_dir,
        .tool_dir_size = sizeof try_syscall_dir,
    };
    return stk_test_main(&driver, argc, argv);
}
