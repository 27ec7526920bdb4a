#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "init.h"
#include "mounts.h"
#include "plan.h"
#include "pty.h"
#include "signals.h"
#include "status.h"
#include "stockade.h"
#include "sys.h"
#include "userns.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2) /* Linux 6.9, uapi/linux/pidfd.h */
#endif

struct monitor {
    const struct stk_plan *plan;
    pid_t pid1;
    int pidfd;
    int status_fd;  /* pid 1's records (SOCK_SEQPACKET); -1 after EOF */
    int command_pidfd; /* without NEWPID only: the command, passed by pid 1; else -1 */
    int control_fd; /* -1 once closed by the peer or broken */
    int signal_fd;
    struct stk_control_reader control;
    struct stk_pty *pty; /* the relay when the caller's stdio is a terminal (pty.h) */

    bool started;       /* STARTED sent */
    bool exited;        /* pid 1 reported the command's exit */
    bool failed;        /* pid 1 reported a set-up error */
    bool killed_by_us;  /* SIGKILL sent to pid 1 */
    int32_t command_pid;
    uint32_t flags; /* STK_EXIT_* */
    uint64_t start_ns;
    uint64_t timeout_at; /* 0 = none */
    uint64_t kill_at;    /* 0 = none */
    struct stk_record exit_record;
    struct stk_error error;
};

static int send_error(const struct stk_error *e)
{
    stk_send_error(STK_CONTROL_FD, e);
    return e->exit_code;
}

/* Without a pid namespace nothing holds the sandbox together: the command's process group
 * is killed through its pidfd (never by pid number: pid 1 may have reaped it, and the number
 * may belong to someone else by now). Kernels before 6.9 lack PIDFD_SIGNAL_PROCESS_GROUP: the
 * command alone is killed there. */
static void kill_command_group(const struct monitor *m)
{
    if (m->command_pidfd < 0) {
        return;
    }
    if (pidfd_send_signal(m->command_pidfd, SIGKILL, NULL, PIDFD_SIGNAL_PROCESS_GROUP) < 0 &&
        errno == EINVAL) {
        pidfd_send_signal(m->command_pidfd, SIGKILL, NULL, 0);
    }
}

static void kill_now(struct monitor *m)
{
    kill_command_group(m);
    pidfd_send_signal(m->pidfd, SIGKILL, NULL, 0);
    m->killed_by_us = true;
    m->kill_at = 0;
}

/* SIGTERM to every process in the sandbox (pid 1 does it from inside), SIGKILL after the
 * grace. Before the command runs there is nothing to be graceful with. */
static void terminate(struct monitor *m)
{
    uint64_t grace_ns = m->plan->spec->kill_grace_ms * 1000000ull;
    if (!m->started || grace_ns == 0) {
        kill_now(m);
        return;
    }
    pidfd_send_signal(m->pidfd, STK_SIG_TERMINATE, NULL, 0);
    if (m->kill_at == 0) {
        m->kill_at = stk_now_ns() + grace_ns;
    }
}

static void on_record(struct monitor *m, const struct stk_record *r, int passed_fd)
{
    switch (r->kind) {
    case STK_REC_STARTED:
        if (m->started || m->failed) {
            break;
        }
        if (!m->plan->new_pid) {
            m->command_pidfd = passed_fd;
            passed_fd = -1;
        }
        m->command_pid = r->command_pid;
        m->start_ns = stk_now_ns();
        if (m->plan->spec->timeout_ms != 0) {
            m->timeout_at = m->start_ns + m->plan->spec->timeout_ms * 1000000ull;
        }
        if (stk_send_started(STK_CONTROL_FD, (int32_t)m->pid1, r->command_pid) < 0) {
            /* Nobody to report to: the sandbox must not outlive its owner. */
            m->control_fd = -1;
            m->flags |= STK_EXIT_KILLED;
            kill_now(m);
        }
        m->started = true;
        break;
    case STK_REC_ERROR:
        if (!m->started && !m->failed) {
            m->failed = true;
            m->error = r->error;
        }
        break;
    case STK_REC_VIOLATION:
        /* pid 1 sends these only after STARTED and before EXITED, at most two per syscall. */
        if (m->started && !m->exited && m->control_fd >= 0) {
            struct stk_violation_report v = {
                .nr = r->violation.nr,
                .err = r->violation.err,
                .count = r->violation.count,
                .pid = r->violation.pid,
            };
            memcpy(v.args, r->violation.args, sizeof v.args);
            if (stk_send_violation(STK_CONTROL_FD, &v) < 0) {
                /* Nobody to report to: the sandbox must not outlive its owner. */
                m->control_fd = -1;
                m->flags |= STK_EXIT_KILLED;
                kill_now(m);
            }
        }
        break;
    case STK_REC_EXITED:
        if (m->started && !m->exited) {
            m->exited = true;
            m->exit_record = *r;
        }
        break;
    default:
        break;
    }
    if (passed_fd >= 0) {
        close(passed_fd);
    }
}

static void read_records(struct monitor *m)
{
    while (m->status_fd >= 0) {
        struct stk_record r;
        int passed_fd;
        int n = stk_record_receive(m->status_fd, &r, &passed_fd, false);
        if (n == 1) {
            on_record(m, &r, passed_fd);
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        close(m->status_fd); /* EOF, or a broken channel: pid 1 is gone either way */
        m->status_fd = -1;
    }
}

static void on_control(struct monitor *m)
{
    uint32_t mode = 0;
    enum stk_control_result r;
    while ((r = stk_control_read(m->control_fd, &m->control, &mode)) == STK_CONTROL_KILL) {
        if (!m->exited) {
            m->flags |= STK_EXIT_KILLED;
        }
        if (mode == STK_KILL_NOW) {
            kill_now(m);
        } else {
            terminate(m);
        }
    }
    if (r == STK_CONTROL_EOF || r == STK_CONTROL_BAD) {
        /* The JVM died or closed the socket (DESIGN rule 6), or sent garbage: kill at once. */
        m->control_fd = -1;
        if (!m->exited) {
            m->flags |= STK_EXIT_KILLED;
        }
        kill_now(m);
    }
}

static void on_signal(struct monitor *m)
{
    struct signalfd_siginfo si;
    while (read(m->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
            /* The kernel signals the pty's foreground process group itself. */
            stk_pty_monitor_resize(m->pty);
        } else if (!m->started) {
            kill_now(m);
        } else if (!m->exited) {
            pidfd_send_signal(m->pidfd, (int)si.ssi_signo, NULL, 0);
        }
    }
}

static void on_deadlines(struct monitor *m)
{
    uint64_t now = stk_now_ns();
    if (m->timeout_at != 0 && now >= m->timeout_at) {
        m->timeout_at = 0;
        if (!m->exited) {
            m->flags |= STK_EXIT_TIMED_OUT;
            terminate(m);
        }
    }
    if (m->kill_at != 0 && now >= m->kill_at) {
        kill_now(m);
    }
}

static int poll_timeout_ms(const struct monitor *m)
{
    uint64_t next = 0;
    if (m->timeout_at != 0) {
        next = m->timeout_at;
    }
    if (m->kill_at != 0 && (next == 0 || m->kill_at < next)) {
        next = m->kill_at;
    }
    if (next == 0) {
        return -1;
    }
    uint64_t now = stk_now_ns();
    if (next <= now) {
        return 0;
    }
    uint64_t ms = (next - now + 999999u) / 1000000u;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Runs until pid 1 has exited. */
static void loop(struct monitor *m)
{
    for (;;) {
        struct pollfd fds[7] = {
            {.fd = m->pidfd, .events = POLLIN},
            {.fd = m->status_fd, .events = POLLIN},
            {.fd = m->control_fd, .events = POLLIN},
            {.fd = m->signal_fd, .events = POLLIN},
        };
        nfds_t count = 4;
        if (m->pty->tty_fds != 0) {
            stk_pty_monitor_poll_fds(m->pty, &fds[4]);
            count = 7;
        }
        int n = poll(fds, count, poll_timeout_ms(m));
        if (n < 0 && errno != EINTR) {
            /* Cannot watch the sandbox any more: it must not run unwatched. finish() then
             * waits for pid 1 to die. */
            kill_now(m);
            return;
        }
        if (n > 0) {
            if (fds[1].revents != 0) {
                read_records(m);
            }
            if (fds[2].revents != 0 && m->control_fd >= 0) {
                on_control(m);
            }
            if (fds[3].revents != 0) {
                on_signal(m);
            }
            if (count == 7) {
                stk_pty_monitor_relay(m->pty, &fds[4]);
            }
        }
        on_deadlines(m);
        if (fds[0].revents != 0) {
            return;
        }
    }
}

static int finish(struct monitor *m)
{
    read_records(m); /* what pid 1 wrote before it exited */
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(m->pid1, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    /* Without a pid namespace the command outlives a killed pid 1; it must not outlive the
     * sandbox. (After a normal exit it is reaped already: ESRCH.) */
    kill_command_group(m);
    /* Everything the command wrote reaches the caller before EXITED, and the caller's terminal
     * is back in its own mode before the caller hears the sandbox ended. */
    stk_pty_monitor_drain(m->pty);
    stk_pty_monitor_restore(m->pty);
    if (m->failed) {
        return send_error(&m->error);
    }
    if (!m->started) {
        struct stk_error e;
        stk_fail(&e, STK_STEP_INIT, m->killed_by_us ? ECANCELED : ECHILD,
                 "pid 1 ended during set-up without a report: ");
        if (WIFSIGNALED(status)) {
            stk_error_append(&e, "signal ");
            stk_error_append_u64(&e, (uint64_t)WTERMSIG(status));
        } else {
            stk_error_append(&e, "exit status ");
            stk_error_append_u64(&e, (uint64_t)WEXITSTATUS(status));
        }
        return send_error(&e);
    }
    struct stk_exit_report x = {.flags = m->flags};
    if (m->exited) {
        x.wait_status = m->exit_record.wait_status;
        x.wall_time_ns = m->exit_record.wall_time_ns;
        x.user_cpu_us = m->exit_record.user_cpu_us;
        x.sys_cpu_us = m->exit_record.sys_cpu_us;
        x.max_rss_kb = m->exit_record.max_rss_kb;
    } else {
        /* pid 1 was killed (by us, or by its parent-death signal) before it could report:
         * the command died with it, by SIGKILL. */
        x.wait_status = WIFSIGNALED(status) ? (status & 0x7f) : SIGKILL;
        x.wall_time_ns = stk_now_ns() - m->start_ns;
        x.user_cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec;
        x.sys_cpu_us = (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
        x.max_rss_kb = (uint64_t)ru.ru_maxrss;
    }
    stk_send_exited(STK_CONTROL_FD, &x);
    return 0;
}

/* Root caller with binds: the detached trees (those asking for it idmapped) are made here, as
 * host root, before the clone (pid 1 could not even open a root-owned 0700 source from its user
 * namespace). */
static int prepare_binds(struct stk_plan *plan, struct stk_error *err)
{
    if (!plan->caller_root || !plan->new_mount) {
        return 0;
    }
    bool any = false;
    bool idmap = false;
    for (size_t i = 0; i < plan->spec->mount_count; i++) {
        any = any || plan->spec->mounts[i].type == STK_MOUNT_BIND;
        idmap = idmap || (plan->spec->mounts[i].flags & STK_MOUNT_IDMAP) != 0;
    }
    if (!any) {
        return 0;
    }
    int userns = -1;
    if (idmap && stk_userns_idmap(plan->host_uid, plan->host_gid, &userns, err) < 0) {
        return -1;
    }
    int rc = stk_mounts_open_binds(plan, userns, err);
    if (userns >= 0) {
        close(userns);
    }
    return rc;
}

static void close_mount_fds(struct stk_plan *plan)
{
    for (size_t i = 0; i < plan->spec->mount_count; i++) {
        if (plan->mount_fds[i] >= 0) {
            close(plan->mount_fds[i]);
            plan->mount_fds[i] = -1;
        }
    }
}

static int run(struct stk_plan *plan, struct stk_pty *pty)
{
    struct stk_error err;
    if (prepare_binds(plan, &err) < 0) {
        return send_error(&err);
    }
    int sync_pipe[2], status_channel[2];
    if (pipe2(sync_pipe, O_CLOEXEC) < 0) {
        stk_fail(&err, STK_STEP_CLONE, errno, "pipe2");
        return send_error(&err);
    }
    /* SEQPACKET: one message per record, and STARTED can carry the command's pidfd. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, status_channel) < 0) {
        stk_fail(&err, STK_STEP_CLONE, errno, "socketpair(SOCK_SEQPACKET)");
        close(sync_pipe[0]);
        close(sync_pipe[1]);
        return send_error(&err);
    }
    sigset_t sandbox_signals, forwarded;
    stk_signals_sandbox(&sandbox_signals);
    stk_signals_forwarded(&forwarded);
    if (pty->tty_fds != 0) {
        sigaddset(&sandbox_signals, SIGWINCH);
        sigaddset(&forwarded, SIGWINCH);
    }
    sigprocmask(SIG_BLOCK, &sandbox_signals, NULL);

    pid_t pid1 = stk_clone(plan->clone_flags | SIGCHLD);
    if (pid1 == 0) {
        close(STK_CONTROL_FD);
        close(sync_pipe[1]);
        close(status_channel[0]);
        stk_init_run(plan, sync_pipe[0], status_channel[1]);
    }
    int clone_errno = errno;
    close(sync_pipe[0]);
    close(status_channel[1]);
    close_mount_fds(plan); /* pid 1 has its own copies */
    stk_pty_monitor_close_slave(pty);
    if (pid1 < 0) {
        close(sync_pipe[1]);
        close(status_channel[0]);
        stk_fail(&err, STK_STEP_CLONE, clone_errno, "clone(namespaces)");
        return send_error(&err);
    }

    struct monitor m;
    memset(&m, 0, sizeof m);
    m.plan = plan;
    m.pid1 = pid1;
    m.status_fd = status_channel[0];
    m.command_pidfd = -1;
    m.control_fd = STK_CONTROL_FD;
    m.pty = pty;
    m.pidfd = pidfd_open(pid1, 0);
    int rc = m.pidfd < 0 ? stk_fail(&err, STK_STEP_CLONE, errno, "pidfd_open") : 0;
    if (rc == 0 && plan->new_user) {
        rc = stk_userns_write_maps(pid1, plan, &err);
    }
    if (rc == 0) {
        m.signal_fd = signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m.signal_fd < 0) {
            rc = stk_fail(&err, STK_STEP_CLONE, errno, "signalfd");
        }
    }
    if (rc < 0) {
        kill(pid1, SIGKILL);
        while (waitpid(pid1, NULL, 0) < 0 && errno == EINTR) {
        }
        if (m.pidfd >= 0) {
            close(m.pidfd);
        }
        close(sync_pipe[1]);
        close(status_channel[0]);
        return send_error(&err);
    }
    /* Release pid 1. If it already died the loop sees it through the pidfd. */
    ssize_t w;
    do {
        w = write(sync_pipe[1], "1", 1);
    } while (w < 0 && errno == EINTR);

    loop(&m);
    rc = finish(&m);
    /* Kept open until now: pid 1 sees the monitor die through this pipe's hang-up. */
    close(sync_pipe[1]);
    if (m.status_fd >= 0) {
        close(m.status_fd);
    }
    if (m.command_pidfd >= 0) {
        close(m.command_pidfd);
    }
    close(m.signal_fd);
    close(m.pidfd);
    return rc;
}

int stk_monitor_run(const struct stk_spec *spec)
{
    struct stk_error err;
    struct stk_plan plan;
    if (stk_plan_build(spec, &plan, &err) < 0) {
        return send_error(&err);
    }
    /* Decided before the clone, in place before the command execs: the command never holds
     * the caller's terminal. */
    struct stk_pty pty;
    stk_pty_monitor_detect(&pty);
    plan.tty_fds = pty.tty_fds;
    plan.pty_slave = -1;
    int rc;
    if (pty.tty_fds != 0 && stk_pty_monitor_open(&pty, &err) < 0) {
        stk_pty_monitor_restore(&pty);
        rc = send_error(&err);
    } else {
        plan.pty_slave = pty.slave;
        rc = run(&plan, &pty);
        /* Every path out of run(), set-up errors included; finish() did it already. */
        stk_pty_monitor_restore(&pty);
    }
    stk_plan_free(&plan);
    return rc;
}
