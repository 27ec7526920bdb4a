#include "command.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <linux/audit.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf_check.h"
#include "caps.h"
#include "pty.h"
#include "progress.h"
#include "seccomp.h"
#include "status.h"

/* With REPORT fields the filter gets a listener, and pid 1 must hold it before anything runs
 * under the filter that could be notified: it is passed at once (spec.c refuses a REPORT for
 * sendmsg, the one call that must get through unanswered), then dropped here, so only pid 1
 * can answer. From here on pid 1 answers while it waits for the exec status. */
static int install_filter(const struct stk_plan *p, int status_fd, struct stk_error *err)
{
    const struct stk_spec *spec = p->spec;
    if (!p->report) {
        return stk_seccomp_install(spec->bpf, spec->bpf_len, NULL, err);
    }
    int listener = -1;
    if (stk_seccomp_install(spec->bpf, spec->bpf_len, &listener, err) < 0) {
        return -1;
    }
    struct stk_record r = {.kind = STK_REC_LISTENER};
    int rc = 0;
    if (stk_record_send(status_fd, &r, listener) < 0) {
        rc = stk_fail(err, STK_STEP_SECCOMP, errno, "passing the listener to pid 1");
    }
    close(listener);
    return rc;
}

static const char *resource_name(uint32_t resource)
{
    switch (resource) {
    case RLIMIT_CPU: return "RLIMIT_CPU";
    case RLIMIT_FSIZE: return "RLIMIT_FSIZE";
    case RLIMIT_DATA: return "RLIMIT_DATA";
    case RLIMIT_STACK: return "RLIMIT_STACK";
    case RLIMIT_CORE: return "RLIMIT_CORE";
    case RLIMIT_RSS: return "RLIMIT_RSS";
    case RLIMIT_NPROC: return "RLIMIT_NPROC";
    case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
    case RLIMIT_MEMLOCK: return "RLIMIT_MEMLOCK";
    case RLIMIT_AS: return "RLIMIT_AS";
    case RLIMIT_LOCKS: return "RLIMIT_LOCKS";
    case RLIMIT_SIGPENDING: return "RLIMIT_SIGPENDING";
    case RLIMIT_MSGQUEUE: return "RLIMIT_MSGQUEUE";
    case RLIMIT_NICE: return "RLIMIT_NICE";
    case RLIMIT_RTPRIO: return "RLIMIT_RTPRIO";
    case RLIMIT_RTTIME: return "RLIMIT_RTTIME";
    default: return "RLIMIT_?";
    }
}

static int set_limits(const struct stk_spec *spec, struct stk_error *err)
{
    /* No core dumps unless the spec asks: a dump of a build step can hold its secrets. */
    bool core_given = false;
    for (size_t i = 0; i < spec->rlimit_count; i++) {
        core_given = core_given || spec->rlimits[i].resource == RLIMIT_CORE;
    }
    if (!core_given) {
        struct rlimit zero = {0, 0};
        if (setrlimit(RLIMIT_CORE, &zero) < 0) {
            return stk_fail(err, STK_STEP_RLIMIT, errno, "RLIMIT_CORE 0");
        }
    }
    for (size_t i = 0; i < spec->rlimit_count; i++) {
        const struct stk_rlimit *l = &spec->rlimits[i];
        struct rlimit value = {(rlim_t)l->soft, (rlim_t)l->hard};
        if (setrlimit((__rlimit_resource_t)l->resource, &value) < 0) {
            return stk_fail(err, STK_STEP_RLIMIT, errno, resource_name(l->resource));
        }
    }
    return 0;
}

/* Everything above 2 except status_fd, which is close-on-exec and vanishes with execve. */
static int close_fds(int status_fd, struct stk_error *err)
{
    if (status_fd > 3 && close_range(3, (unsigned int)status_fd - 1, 0) < 0) {
        return stk_fail(err, STK_STEP_CLOSE_FDS, errno, "close_range");
    }
    if (close_range((unsigned int)status_fd + 1, ~0U, 0) < 0) {
        return stk_fail(err, STK_STEP_CLOSE_FDS, errno, "close_range");
    }
    return 0;
}

static int is_not_found(int e)
{
    return e == ENOENT || e == ENOTDIR;
}

/* execvp's search without its /bin/sh fallback for ENOEXEC: a file the kernel cannot run is
 * reported (126), never handed to a shell. */
static void exec_program(const struct stk_plan *p, struct stk_error *err)
{
    bool denied = false;
    int last = ENOENT;
    for (size_t i = 0; i < p->exec_path_count; i++) {
        execve(p->exec_paths[i], p->spec->argv, p->spec->envp);
        last = errno;
        if (last == EACCES) {
            denied = true;
            continue;
        }
        if (is_not_found(last)) {
            continue;
        }
        break; /* ENOEXEC, E2BIG, ENOMEM, ...: execvp stops here too */
    }
    if (!is_not_found(last) && last != EACCES) {
        stk_fail(err, STK_STEP_EXECVE, last, p->spec->argv[0]);
        err->exit_code = STK_EXIT_NOT_EXECUTABLE;
    } else if (denied) {
        stk_fail(err, STK_STEP_EXECVE, EACCES, p->spec->argv[0]);
        err->exit_code = STK_EXIT_NOT_EXECUTABLE;
    } else {
        stk_fail(err, STK_STEP_EXECVE, ENOENT, p->spec->argv[0]);
        err->exit_code = STK_EXIT_NOT_FOUND;
    }
}

/* A new session has no controlling terminal, so TIOCSTI cannot push input into the caller's
 * terminal. */
static void new_session(const struct stk_plan *p, int status_fd)
{
    struct stk_error err;
    stk_progress_step(STK_STEP_SETSID);
    if (setsid() < 0) {
        stk_fail(&err, STK_STEP_SETSID, errno, "setsid");
        stk_record_error_exit(status_fd, &err);
    }
    if (p->tty_fds != 0 && stk_pty_command_attach(p->tty_fds, p->pty_slave, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
}

/* Working directory, rlimits, and every fd above 2 but the exec status closed. */
static void enter_and_close(const struct stk_plan *p, int status_fd)
{
    struct stk_error err;
    stk_progress_step(STK_STEP_CHDIR);
    if (chdir(p->spec->cwd) < 0) {
        stk_fail(&err, STK_STEP_CHDIR, errno, p->spec->cwd);
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_RLIMIT);
    if (set_limits(p->spec, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_CLOSE_FDS);
    if (close_fds(status_fd, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
}

/* pid 1 keeps its signals blocked to read them from a signalfd; the command starts with none
 * blocked (dispositions are already default: nothing in the helper installs one). Then
 * no_new_privs and the filters. The guard goes first: it never notifies, and the profile's
 * filter, with its listener, must be the last filter before the listener is handed over. */
static void unblock_and_filter(const struct stk_plan *p, int status_fd)
{
    struct stk_error err;
    const struct stk_spec *spec = p->spec;
    sigset_t none;
    sigemptyset(&none);
    stk_progress_step(STK_STEP_SIGPROCMASK);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
        stk_fail(&err, STK_STEP_SIGPROCMASK, errno, "sigprocmask");
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_NO_NEW_PRIVS);
    if (stk_no_new_privs(&err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    if (spec->guard_bpf != NULL || spec->bpf != NULL) {
        stk_progress_step(STK_STEP_SECCOMP);
    }
    if (spec->guard_bpf != NULL &&
        (stk_seccomp_install(spec->guard_bpf, spec->guard_bpf_len, NULL, &err) < 0 ||
         stk_seccomp_verify(&err) < 0)) {
        stk_record_error_exit(status_fd, &err);
    }
    if (spec->bpf != NULL &&
        (install_filter(p, status_fd, &err) < 0 || stk_seccomp_verify(&err) < 0)) {
        stk_record_error_exit(status_fd, &err);
    }
}

static _Noreturn void exec_command(const struct stk_plan *p, int status_fd)
{
    struct stk_error err;
    stk_progress_step(STK_STEP_EXECVE);
    exec_program(p, &err);
    stk_record_error_exit(status_fd, &err);
}

_Noreturn void stk_command_run(const struct stk_plan *p, int status_fd)
{
    /* The filters last before execve: every earlier step would otherwise run under them. */
    new_session(p, status_fd);
    enter_and_close(p, status_fd);
    unblock_and_filter(p, status_fd);
    exec_command(p, status_fd);
}

/* What the command's process calls after its early filters until its execve: the hand-over
 * (warm.c: recvmsg, the protect check's statx, dup2, close), enter_and_close (chdir,
 * setrlimit/prlimit64, close_range), execve, and on a failed step its ERROR (sendmsg) and
 * exit_group; clock_gettime is the progress page's clock, should the vDSO be missing. */
static const int32_t calls_after_early_filters[] = {
    SYS_recvmsg,     SYS_statx,   SYS_dup2,       SYS_close,      SYS_chdir,
    SYS_setrlimit,   SYS_prlimit64, SYS_close_range, SYS_execve,  SYS_sendmsg,
    SYS_exit_group,  SYS_clock_gettime,
};

static bool allows_all(const struct sock_filter *program, size_t count)
{
    if (program == NULL) {
        return true;
    }
    size_t calls = sizeof calls_after_early_filters / sizeof calls_after_early_filters[0];
    for (size_t i = 0; i < calls; i++) {
        uint32_t action;
        if (stk_bpf_run_syscall(program, count, AUDIT_ARCH_X86_64, calls_after_early_filters[i],
                                &action) != 1 ||
            action != SECCOMP_RET_ALLOW) {
            return false;
        }
    }
    return true;
}

bool stk_command_can_filter_early(const struct stk_spec *spec)
{
    return allows_all(spec->guard_bpf, spec->guard_bpf_len) && allows_all(spec->bpf, spec->bpf_len);
}

void stk_command_filter_early(const struct stk_plan *p, int status_fd)
{
    new_session(p, status_fd);
    unblock_and_filter(p, status_fd);
    struct stk_record filtered = {.kind = STK_REC_FILTERED};
    if (stk_record_send(status_fd, &filtered, -1) < 0) {
        _exit(STK_EXIT_SETUP); /* pid 1 is gone */
    }
}

_Noreturn void stk_command_run_filtered(const struct stk_plan *p, int status_fd)
{
    enter_and_close(p, status_fd);
    exec_command(p, status_fd);
}
