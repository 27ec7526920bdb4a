#include "monitor_loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "frame.h"
#include "netns.h"
#include "plan.h"
#include "pty.h"
#include "signals.h"
#include "stockade.h"
#include "sys.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2) /* Linux 6.9, uapi/linux/pidfd.h */
#endif

/* Without a pid namespace nothing holds the sandbox together: the command's process group
 * is killed through its pidfd (never by pid number: pid 1 may have reaped it, and the number
 * may belong to someone else by now). Kernels before 6.9 lack PIDFD_SIGNAL_PROCESS_GROUP: the
 * command alone is killed there. */
static void kill_command_group(const struct stk_monitor *m)
{
    if (m->command_pidfd < 0) {
        return;
    }
    if (pidfd_send_signal(m->command_pidfd, SIGKILL, NULL, PIDFD_SIGNAL_PROCESS_GROUP) < 0 &&
        errno == EINVAL) {
        pidfd_send_signal(m->command_pidfd, SIGKILL, NULL, 0);
    }
}

static void kill_now(struct stk_monitor *m)
{
    kill_command_group(m);
    pidfd_send_signal(m->pidfd, SIGKILL, NULL, 0);
    m->killed_by_us = true;
    m->kill_at = 0;
}

/* SIGTERM to every process in the sandbox (pid 1 does it from inside), SIGKILL after the
 * grace. Before the command runs there is nothing to be graceful with. */
static void terminate(struct stk_monitor *m)
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

static void on_record(struct stk_monitor *m, const struct stk_record *r, int passed_fd)
{
    /* pid 1 sends these only once it has joined the network namespace, or failed. */
    if (r->kind == STK_REC_STARTED || r->kind == STK_REC_READY || r->kind == STK_REC_ERROR) {
        stk_netns_reap_in_monitor(&m->netns_maker, r->kind != STK_REC_ERROR);
    }
    switch (r->kind) {
    case STK_REC_STARTED:
        if (m->started || m->failed) {
            break;
        }
        if (m->warm != NULL && !m->warm->commanded) {
            /* A warm sandbox starts nothing before its COMMAND: pid 1 is not what it seems. */
            m->failed = true;
            stk_fail(&m->error, STK_STEP_PROTOCOL, EPROTO,
                     "STARTED from a warm sandbox's pid 1 before its command was handed over");
            kill_now(m);
            break;
        }
        if (!m->plan->new_pid) {
            m->command_pidfd = passed_fd;
            passed_fd = -1;
        }
        m->command_pid = r->command_pid;
        m->start_ns = stk_now_ns();
        /* A warm sandbox's timeout runs since the hand-over already (on_command). */
        if (m->plan->spec->timeout_ms != 0 && m->warm == NULL) {
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
    case STK_REC_UPPER:
        /* Once, before STARTED, from pid 1's set-up of an unprivileged caller's overlay. */
        if (!m->started && m->upper_fd < 0 && passed_fd >= 0) {
            m->upper_fd = passed_fd;
            passed_fd = -1;
        }
        break;
    case STK_REC_READY:
        /* Once, from a warm sandbox's pid 1, set up and waiting for its command. */
        if (m->warm != NULL && !m->warm->ready && !m->started && !m->failed) {
            m->warm->ready = true;
            if (stk_send_ready(STK_CONTROL_FD) < 0) {
                /* Nobody to report to: the sandbox must not outlive its owner. */
                m->control_fd = -1;
                m->flags |= STK_EXIT_KILLED;
                kill_now(m);
            }
        }
        break;
    case STK_REC_CRASHED:
        m->own_crash = true;
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

/* After pid 1 died without EXITED: every count that changed since its last VIOLATION. */
static void send_final_counts(struct stk_monitor *m)
{
    const struct stk_notify *n = &m->plan->notify;
    if (!m->started || m->control_fd < 0 || n->table == NULL) {
        return;
    }
    size_t used = n->table->used < n->capacity ? (size_t)n->table->used : n->capacity;
    for (size_t i = 0; i < used; i++) {
        const struct stk_notify_slot *s = &n->table->slots[i];
        if (s->v.count == 0 || s->v.count == s->sent_count) {
            continue;
        }
        struct stk_violation_report v = {
            .nr = s->v.nr,
            .err = s->v.err,
            .count = s->v.count,
            .pid = s->v.pid,
        };
        memcpy(v.args, s->v.args, sizeof v.args);
        if (stk_send_violation(STK_CONTROL_FD, &v) < 0) {
            return;
        }
    }
}

static void read_records(struct stk_monitor *m)
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

/* A COMMAND frame: handed on to pid 1, or refused (out of order, without WARM, malformed):
 * then the sandbox dies and the refusal is the run's one ERROR. */
static void on_command(struct stk_monitor *m)
{
    struct stk_control_reader *c = &m->control;
    struct stk_error e;
    int rc = stk_warm_take_command(m->warm, m->plan, m->control_fd, c->command_len, c->fds,
                                   c->fd_count, c->fds_truncated, m->output, &e);
    for (size_t i = 0; i < STK_CONTROL_MAX_FDS; i++) {
        c->fds[i] = -1; /* taken over (and closed) by stk_warm_take_command */
    }
    c->fd_count = 0;
    c->fds_truncated = false;
    if (rc < 0) {
        if (!m->failed) {
            m->failed = true;
            m->error = e;
        }
        m->control_fd = -1; /* nothing more is read from a peer that broke the protocol */
        kill_now(m);
        return;
    }
    /* The timeout counts the command's time, never the idle wait before it. */
    if (m->plan->spec->timeout_ms != 0) {
        m->timeout_at = stk_now_ns() + m->plan->spec->timeout_ms * 1000000ull;
    }
}

static void on_control(struct stk_monitor *m)
{
    uint32_t mode = 0;
    enum stk_control_result r;
    for (;;) {
        r = stk_control_read(m->control_fd, &m->control, &mode);
        if (r == STK_CONTROL_COMMAND) {
            on_command(m);
            if (m->control_fd < 0) {
                return;
            }
            continue;
        }
        if (r != STK_CONTROL_KILL) {
            break;
        }
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
        /* The JVM died or closed the socket (design rule 6, docs/design.md), or sent garbage:
         * kill at once. */
        m->control_fd = -1;
        if (!m->exited) {
            m->flags |= STK_EXIT_KILLED;
        }
        kill_now(m);
    }
}

static void on_signal(struct stk_monitor *m)
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

static void on_deadlines(struct stk_monitor *m)
{
    uint64_t now = stk_now_ns();
    /* A warm sandbox's timeout runs from the hand-over; if it expires before STARTED it takes
     * effect at STARTED, so the command is timed out, never reported as a set-up failure. */
    if (m->timeout_at != 0 && m->started && now >= m->timeout_at) {
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

static int poll_timeout_ms(const struct stk_monitor *m)
{
    uint64_t next = 0;
    if (m->timeout_at != 0 && m->started) {
        next = m->timeout_at;
    }
    if (m->kill_at != 0 && (next == 0 || m->kill_at < next)) {
        next = m->kill_at;
    }
    if (next == 0) {
        return -1;
    }
    int ms = stk_ms_until(next, stk_now_ns());
    return ms > 60000 ? 60000 : ms;
}

/* The output bound's kill: once, as soon as anything came past the bound and the command is
 * known to run (its first bytes can come before pid 1's STARTED record; a kill before it
 * would read as a set-up failure). */
static void check_output(struct stk_monitor *m)
{
    const struct stk_output_budget *b = &m->output->budget;
    if (b->active && b->kill && b->exceeded && (m->flags & STK_EXIT_OUTPUT_LIMIT) == 0 &&
        m->started && !m->exited) {
        m->flags |= STK_EXIT_OUTPUT_LIMIT;
        kill_now(m);
    }
}

/* Runs until pid 1 has exited. */
void stk_monitor_loop(struct stk_monitor *m)
{
    for (;;) {
        struct pollfd fds[11] = {
            {.fd = m->pidfd, .events = POLLIN},
            {.fd = m->status_fd, .events = POLLIN},
            {.fd = m->control_fd, .events = POLLIN},
            {.fd = m->signal_fd, .events = POLLIN},
        };
        nfds_t count = 4;
        nfds_t pty_at = 0;
        if (m->pty->tty_fds != 0) {
            pty_at = count;
            stk_pty_monitor_poll_fds(m->pty, &fds[pty_at]);
            count += 3;
        }
        nfds_t output_at = count;
        count += stk_output_poll_fds(m->output, &fds[output_at]);
        int n = poll(fds, count, poll_timeout_ms(m));
        if (n < 0 && errno != EINTR) {
            /* Cannot watch the sandbox any more: it must not run unwatched. stk_monitor_finish()
             * then waits for pid 1 to die. */
            kill_now(m);
            return;
        }
        if (n > 0) {
            /* A COMMAND already waiting when READY comes was sent before READY: read first
             * while the sandbox is not ready, it is refused as such. */
            bool control_first = m->warm != NULL && !m->warm->ready;
            if (control_first && fds[2].revents != 0 && m->control_fd >= 0) {
                on_control(m);
            }
            if (fds[1].revents != 0) {
                read_records(m);
            }
            if (!control_first && fds[2].revents != 0 && m->control_fd >= 0) {
                on_control(m);
            }
            if (fds[3].revents != 0) {
                on_signal(m);
            }
            if (pty_at != 0) {
                stk_pty_monitor_relay(m->pty, &fds[pty_at]);
            }
            stk_output_relay(m->output, &fds[output_at]);
            check_output(m);
        }
        on_deadlines(m);
        if (fds[0].revents != 0) {
            return;
        }
    }
}

/* Full means a write failed there: tmpfs gives ENOSPC only once no page (or no inode) is
 * left. Measured once nothing in the sandbox can write. */
static bool upper_full(int upper_fd)
{
    struct statfs st;
    if (fstatfs(upper_fd, &st) < 0) {
        return false;
    }
    return st.f_bavail == 0 || st.f_ffree == 0;
}

int stk_monitor_finish(struct stk_monitor *m, struct stk_error *err)
{
    read_records(m); /* what pid 1 wrote before it exited */
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(m->pid1, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    /* pid 1 reads the sandbox's signals through its signalfd, and dies only of our SIGKILL.
     * Any other end by a signal is a crash of the helper's code, or one dressed up (without
     * a pid namespace the command can signal pid 1, SIGKILL included): either way, one for
     * the zygote to hear. */
    if (WIFSIGNALED(status) && !(WTERMSIG(status) == SIGKILL && m->killed_by_us)) {
        m->own_crash = true;
    }
    /* Host files the monitor made, and a transactional upper layer that is read and changed
     * below, must not stay mounted in the held namespace: it goes now, as it would have in
     * pid 1's exit. */
    if (m->placeholders->count != 0 || m->upper_fd >= 0) {
        stk_close_fd(&m->mount_ns_fd);
    }
    /* Without a pid namespace the command outlives a killed pid 1; it must not outlive the
     * sandbox. (After a normal exit it is reaped already: ESRCH.) */
    kill_command_group(m);
    /* pid 1 is gone: what its cgroups counted is final. Read before they are removed; then
     * whatever is still inside (without a pid namespace, the command's descendants) is killed
     * with them, before the caller hears the sandbox ended. */
    struct stk_exit_report x = {.flags = m->flags};
    stk_cgroup_read_in_monitor(m->cgroup, &x);
    stk_cgroup_remove_in_monitor(m->cgroup);
    /* Nothing of the sandbox can write any more: what is still the monitor's empty
     * placeholder goes before the caller hears the sandbox ended. */
    stk_placeholders_remove(m->placeholders);
    /* Everything the command wrote reaches the caller before EXITED, and the caller's terminal
     * is back in its own mode before the caller hears the sandbox ended. */
    stk_pty_monitor_drain(m->pty);
    stk_pty_monitor_restore(m->pty);
    stk_output_monitor_drain(m->output, m->control_fd,
                             m->killed_by_us ||
                                 (m->flags & (STK_EXIT_TIMED_OUT | STK_EXIT_KILLED |
                                              STK_EXIT_OUTPUT_LIMIT)) != 0);
    if (m->failed) {
        *err = m->error;
        return -1;
    }
    if (!m->started) {
        stk_fail(err, STK_STEP_INIT, m->killed_by_us ? ECANCELED : ECHILD,
                 "pid 1 ended during set-up without a report: ");
        if (WIFSIGNALED(status)) {
            stk_error_append(err, "signal ");
            stk_error_append_u64(err, (uint64_t)WTERMSIG(status));
        } else {
            stk_error_append(err, "exit status ");
            stk_error_append_u64(err, (uint64_t)WEXITSTATUS(status));
        }
        return -1;
    }
    if (!m->exited && m->plan->report) {
        /* pid 1 was killed before its final counts: they are in the table it shares with us
         * (notify.h), and pid 1 is gone, so nothing changes them any more. */
        send_final_counts(m);
    }
    const struct stk_output_budget *b = &m->output->budget;
    if (b->active && b->kill && b->exceeded) {
        x.flags |= STK_EXIT_OUTPUT_LIMIT; /* also when it came past the bound only at the end */
    }
    x.output_bytes = b->written;
    x.output_dropped_bytes = b->dropped;
    if (m->upper_fd >= 0 && upper_full(m->upper_fd)) {
        x.flags |= STK_EXIT_DISK_LIMIT;
    }
    /* After the measure (what the step saw full stays reported full), before the upper layer
     * is passed on: pid 1's placeholders in it are no change of the step's. */
    stk_placeholders_remove_from_upper(m->plan->spec, m->upper_fd);
    if (m->exited) {
        x.wait_status = m->exit_record.wait_status;
        x.wall_time_ns = m->exit_record.wall_time_ns;
        x.user_cpu_us = m->exit_record.user_cpu_us;
        x.sys_cpu_us = m->exit_record.sys_cpu_us;
        x.max_rss_kb = m->exit_record.max_rss_kb;
    } else {
        /* pid 1 ended (killed by us or by its parent-death signal, or crashed) before it could
         * report: the command died with it, by SIGKILL (its namespace's end, or
         * kill_command_group). */
        x.wait_status = SIGKILL;
        x.wall_time_ns = stk_now_ns() - m->start_ns;
        x.user_cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec;
        x.sys_cpu_us = (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
        x.max_rss_kb = (uint64_t)ru.ru_maxrss;
    }
    if (m->own_crash) {
        x.flags |= STK_EXIT_HELPER_CRASHED;
    }
    stk_send_exited(STK_CONTROL_FD, &x, m->upper_fd);
    /* The caller has its report: freeing the namespace no longer delays it. */
    stk_close_fd(&m->mount_ns_fd);
    return 0;
}
