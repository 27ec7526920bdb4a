#include "command.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

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

_Noreturn void stk_command_run(const struct stk_plan *p, int status_fd)
{
    struct stk_error err;
    const struct stk_spec *spec = p->spec;
    /* A new session has no controlling terminal, so TIOCSTI cannot push input into the
     * caller's terminal. */
    stk_progress_step(STK_STEP_SETSID);
    if (setsid() < 0) {
        stk_fail(&err, STK_STEP_SETSID, errno, "setsid");
        stk_record_error_exit(status_fd, &err);
    }
    if (p->tty_fds != 0 && stk_pty_command_attach(p->tty_fds, p->pty_slave, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_CHDIR);
    if (chdir(spec->cwd) < 0) {
        stk_fail(&err, STK_STEP_CHDIR, errno, spec->cwd);
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_RLIMIT);
    if (set_limits(spec, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    stk_progress_step(STK_STEP_CLOSE_FDS);
    if (close_fds(status_fd, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    /* pid 1 keeps its signals blocked to read them with sigwaitinfo; the command starts with
     * none blocked (dispositions are already default: nothing in the helper installs one). */
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
    /* Last before execve: every earlier step would otherwise run under the filters. The
     * guard goes first: it never notifies, and the profile's filter, with its listener, must be
     * the last step before the listener is handed over. */
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
    stk_progress_step(STK_STEP_EXECVE);
    exec_program(p, &err);
    stk_record_error_exit(status_fd, &err);
}
