#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "command.h"
#include "creds.h"
#include "egress.h"
#include "hostname.h"
#include "mounts.h"
#include "netns.h"
#include "notify.h"
#include "progress.h"
#include "signals.h"
#include "status.h"
#include "user_limits.h"
#include "warm.h"
#include "sys.h"

/* Everything here runs in a process cloned from the monitor without exec: async-signal-safe
 * calls only, no allocation. */

/* Blocks until the monitor wrote the maps. EOF means the monitor died or gave up (it then
 * reports the error itself): leave without a word. */
static void wait_for_release(int sync_fd)
{
    char byte;
    ssize_t n;
    do {
        n = read(sync_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        _exit(STK_EXIT_SETUP);
    }
}

/* Changing the ids cleared the parent-death signal (the kernel does that on every credential
 * change); set it again, then make sure the monitor did not die in between: its end of the
 * sync pipe is then closed. */
static void rearm_parent_death(int sync_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct pollfd pfd = {.fd = sync_fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) != 0) {
        _exit(STK_EXIT_SETUP); /* POLLHUP: the monitor is gone */
    }
}

/* An unprivileged caller's transactional upper layer was made here, in pid 1's namespaces,
 * which die with the sandbox: the monitor keeps it from now on (and passes it on with EXITED).
 * Before the command exists, so nothing inside ever holds it. */
static int hand_upper_to_monitor(struct stk_plan *p, int status_fd, struct stk_error *err)
{
    struct stk_record r = {.kind = STK_REC_UPPER};
    int rc = stk_record_send(status_fd, &r, p->upper_fd);
    int saved = errno;
    close(p->upper_fd);
    p->upper_fd = -1;
    return rc < 0 ? stk_fail(err, STK_STEP_TRANSACTIONAL, saved,
                             "passing the upper layer to the monitor")
                  : 0;
}

/* *forwarder: the egress forwarder's pid, 0 when there is none. */
static int setup(struct stk_plan *p, int sync_fd, int status_fd, pid_t *forwarder,
                 struct stk_error *err)
{
    /* First: the monitor moved pid 1 into its leaf before the release, and the namespace
     * pid 1 was cloned with is rooted at the caller's cgroup. Rooted at the leaf, the sandbox
     * can name no cgroup but its own (a cgroup2 mount inside shows only the leaf, and no
     * process can be moved out of it), and /proc/self/cgroup reads "/". */
    stk_progress_step(STK_STEP_CGROUP_NAMESPACE);
    if (p->own_cgroup_namespace && stk_cgroup_enter_namespace_in_pid1(err) < 0) {
        return -1;
    }
    stk_progress_step(STK_STEP_SETFSUID);
    if (p->new_user && stk_creds_set_fs_ids(p->inside_uid, p->inside_gid, err) < 0) {
        return -1;
    }
    /* The user namespace's own counts: opened before the mounts (without a pid namespace the
     * view's /proc is read-only; the files are per user namespace, so any proc mount shows
     * this namespace's own), written after them (building the view clones mount trees, which
     * the namespace bound counts) and before the id change, which clears CAP_SYS_RESOURCE:
     * nobody inside can raise them again. */
    struct stk_user_limit_files limits = {.count = 0};
    if (p->new_user) {
        stk_progress_step(STK_STEP_USER_LIMITS);
        if (stk_user_limits_open(p->spec, &limits, err) < 0) {
            return -1;
        }
    }
    if (p->new_mount && stk_mounts_setup(p, err) < 0) {
        stk_user_limits_close(&limits);
        return -1;
    }
    /* After the view, which took the maker's time (netns.h); before the limits are written,
     * so that a bound on network namespaces cannot refuse the sandbox's own. */
    if (p->new_net) {
        stk_progress_step(STK_STEP_NETWORK_NAMESPACE);
        if (stk_netns_join_in_pid1(&p->netns_channel, err) < 0) {
            stk_user_limits_close(&limits);
            return -1;
        }
    }
    if (p->upper_fd >= 0 && hand_upper_to_monitor(p, status_fd, err) < 0) {
        stk_user_limits_close(&limits);
        return -1;
    }
    /* After the view, which binds from the leaves' paths, not these fds. */
    if (p->cgroup != NULL) {
        stk_cgroup_close_in_pid1(p->cgroup);
    }
    if (p->new_user) {
        /* Re-entered: the writes count with the opens, not with the view's last step. */
        stk_progress_step(STK_STEP_USER_LIMITS);
    }
    if (stk_user_limits_write(&limits, err) < 0) {
        return -1;
    }
    /* Stamped only when done: the timings list what set-up did, nothing it skipped. */
    if (p->new_uts) {
        stk_progress_step(STK_STEP_HOSTNAME);
        if (stk_hostname_set(p->hostname, p->hostname_len, err) < 0) {
            return -1;
        }
    }
    if (p->clear_groups) {
        stk_progress_step(STK_STEP_SETGROUPS);
        if (stk_creds_clear_groups(err) < 0) {
            return -1;
        }
    }
    stk_progress_step(STK_STEP_SETRESUID);
    if (stk_creds_switch(p->inside_uid, p->inside_gid, err) < 0) {
        return -1;
    }
    stk_progress_step(STK_STEP_CAPABILITIES);
    if (stk_caps_drop_all(p->cap_last_cap, err) < 0) {
        return -1;
    }
    stk_progress_step(STK_STEP_INIT);
    rearm_parent_death(sync_fd);
    /* Nobody in the sandbox may ptrace pid 1 or read its memory. */
    stk_progress_step(STK_STEP_DUMPABLE);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_DUMPABLE, errno, "PR_SET_DUMPABLE 0");
    }
    /* Without a pid namespace, orphans of the command would go to the host's init; as a
     * subreaper pid 1 still reaps them. */
    if (!p->new_pid && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_INIT, errno, "PR_SET_CHILD_SUBREAPER");
    }
    /* The forwarder is forked now that pid 1 holds no capability and is non-dumpable, which
     * it inherits: nothing inside may trace it, and it can do no more than the command could.
     * Before the command, so its port is bound before anything inside could take it. */
    if (p->spec->egress_socket != NULL) {
        stk_progress_step(STK_STEP_EGRESS);
        *forwarder = stk_egress_start(p->spec, err);
        if (*forwarder < 0) {
            return -1;
        }
    }
    return 0;
}

/* Where pid 1 stands while it supervises: its channel to the monitor, its signals, the
 * command, and (with REPORT fields) the seccomp listener. */
struct init_state {
    struct stk_plan *plan;
    int status_fd;
    int signal_fd;
    int listener; /* -1 when there is none (any more) */
    bool listener_passed; /* the command handed it over (it may be closed again since) */
    pid_t command;
    pid_t forwarder; /* 0: none */
    pid_t monitor;
    uint64_t start_ns;
};

static void close_listener(struct init_state *s)
{
    if (s->listener >= 0) {
        close(s->listener);
        s->listener = -1;
    }
}

/* The listener is readable: a notification waits. POLLHUP alone: every process under the
 * filter is gone. A listener that fails cannot answer any more; closed, it makes the kernel
 * fail every pending and later notified call with ENOSYS, so nothing runs unanswered. */
static void on_listener(struct init_state *s, short revents)
{
    if ((revents & POLLIN) != 0) {
        if (stk_notify_handle(&s->plan->notify, s->listener, s->status_fd) < 0) {
            close_listener(s);
        }
    } else if (revents != 0) {
        close_listener(s);
    }
}

/* The command's process failed a step: the listener goes first, so a notified call on its
 * way out cannot wait for pid 1, then the process is reaped and its ERROR passed on. */
static _Noreturn void command_failed(struct init_state *s, const struct stk_error *e)
{
    close_listener(s);
    int status;
    while (waitpid(s->command, &status, 0) < 0 && errno == EINTR) {
    }
    stk_record_error_exit(s->status_fd, e);
}

/* The command's process of a warm sandbox forked before READY: its filters first when they
 * can be (command.h), then it takes the hand-over itself and goes on with the command's
 * steps. */
static _Noreturn void await_command_then_run(struct stk_plan *p, int exec_status_fd)
{
    struct stk_spec command; /* lives in this frame, as long as the process before its execve */
    struct stk_error err;
    if (p->filter_early) {
        stk_command_filter_early(p, exec_status_fd);
    }
    if (stk_warm_await_command(p->warm, p, &command, &err) < 0) {
        stk_record_error_exit(exec_status_fd, &err);
    }
    if (p->filter_early) {
        stk_command_run_filtered(p, exec_status_fd);
    }
    stk_command_run(p, exec_status_fd);
}

/* Forks the command's process (which waits for the hand-over itself when awaits_hand_over) and
 * returns pid 1's end of its exec-status socket. */
static int fork_command(struct init_state *s, bool awaits_hand_over)
{
    struct stk_error err;
    int exec_status[2];
    /* SEQPACKET: one message per record, and one of them carries the listener fd. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, exec_status) < 0) {
        stk_fail(&err, STK_STEP_INIT, errno, "socketpair for the exec status");
        stk_record_error_exit(s->status_fd, &err);
    }
    s->start_ns = stk_now_ns();
    pid_t pid = stk_clone(SIGCHLD);
    if (pid < 0) {
        stk_fail(&err, STK_STEP_INIT, errno, "fork of the command");
        stk_record_error_exit(s->status_fd, &err);
    }
    if (pid == 0) {
        close(exec_status[0]);
        if (awaits_hand_over) {
            await_command_then_run(s->plan, exec_status[1]);
        }
        stk_command_run(s->plan, exec_status[1]);
    }
    close(exec_status[1]);
    s->command = pid;
    return exec_status[0];
}

/* Waits for the command's process, answering notifications meanwhile (the listener arrives
 * before the filter can notify anything): until its FILTERED record when until_filtered (its
 * early filters are in place, warm.h), else until its execve succeeded (EOF on the
 * close-on-exec socket, then closed here). Reports and exits when a step failed. */
static void await_command_process(struct init_state *s, int exec_status, bool until_filtered)
{
    struct stk_error err;
    pid_t pid = s->command;
    for (;;) {
        struct pollfd fds[2] = {
            {.fd = exec_status, .events = POLLIN},
            {.fd = s->listener, .events = POLLIN},
        };
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            stk_fail(&err, STK_STEP_INIT, errno, "poll for the exec status");
            kill(pid, SIGKILL);
            command_failed(s, &err);
        }
        on_listener(s, fds[1].revents);
        if (fds[0].revents == 0) {
            continue;
        }
        struct stk_record r;
        int fd = -1;
        int n = stk_record_receive(exec_status, &r, &fd, false);
        if (n < 0 && errno == EAGAIN) {
            continue;
        }
        if (n == 1 && r.kind == STK_REC_LISTENER && fd >= 0 && s->plan->report &&
            !s->listener_passed) {
            s->listener = fd;
            s->listener_passed = true;
            continue;
        }
        if (fd >= 0) {
            close(fd);
        }
        if (n == 1 && r.kind == STK_REC_FILTERED && until_filtered) {
            break;
        }
        if (n == 0 && !until_filtered) {
            /* EOF: the close-on-exec socket vanished in a successful execve. The command's
             * process wrote the page last; now its execve gets its time. */
            stk_progress_finish();
            close(exec_status);
            break;
        }
        /* The command's process exits after a failed step. */
        if (n == 1 && r.kind == STK_REC_ERROR) {
            close(exec_status);
            command_failed(s, &r.error);
        }
        stk_fail(&err, STK_STEP_INIT, n < 0 ? errno : EPROTO, "reading the command's exec status");
        kill(pid, SIGKILL);
        command_failed(s, &err);
    }
    /* (The listener itself may be closed by now: a command that exits at once hangs it up.) */
    if (s->plan->report && !s->listener_passed) {
        /* Cannot happen with this helper's command code; never run a reporting filter that
         * nobody answers. */
        stk_fail(&err, STK_STEP_SECCOMP, EPROTO,
                 until_filtered ? "the command's filters are in place without its listener"
                                : "the command started without passing its listener");
        kill(pid, SIGKILL);
        command_failed(s, &err);
    }
}

/* Only the monitor's signals are acted on: from outside a new pid namespace the sender's pid
 * reads as 0; without one it is the monitor's pid. The monitor signals with
 * pidfd_send_signal(NULL info), which the kernel reports as SI_USER with the true sender; a
 * queued signal (SI_QUEUE) carries a sender pid of the sender's choosing and is ignored. */
static bool from_monitor(const struct signalfd_siginfo *info, bool new_pid, pid_t monitor)
{
    if (info->ssi_code != SI_USER) {
        return false;
    }
    return new_pid ? info->ssi_pid == 0 : info->ssi_pid == (uint32_t)monitor;
}

/* Signals by pid number are safe here: pid 1 is the command's parent and has not reaped it,
 * so neither its pid nor its process group id can have been reused. */
static void terminate_all(bool new_pid, pid_t command)
{
    /* kill(-1) from pid 1 reaches every process of its pid namespace except itself. Without a
     * namespace that would be every process of the user on the host: only the command's
     * process group (it is a session leader) is signalled then. */
    if (new_pid) {
        kill(-1, SIGTERM);
    } else {
        kill(-command, SIGTERM);
    }
}

/* The forwarder runs pid 1's code on what the command sends it, and nothing legitimate ends it
 * while pid 1 lives: any end but pid 1's own SIGKILL (killed_here) may be a crash, which the
 * monitor passes on (STK_EXIT_OWN_CRASH). A SIGKILL the command sent may dress one up, so it
 * counts too. Best effort: a monitor that is gone hears nothing anyway. */
static void report_forwarder_end(struct init_state *s, int status, bool killed_here)
{
    s->forwarder = 0;
    if (!(killed_here && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
        struct stk_record r = {.kind = STK_REC_CRASHED, .wait_status = status};
        (void)stk_record_send(s->status_fd, &r, -1);
    }
}

/* Before the command's EXITED: a forwarder still dying of a crash would otherwise be killed,
 * unreported, by pid 1's exit. */
static void end_forwarder(struct init_state *s)
{
    if (s->forwarder == 0) {
        return;
    }
    int status = 0;
    kill(s->forwarder, SIGKILL);
    while (waitpid(s->forwarder, &status, 0) < 0 && errno == EINTR) {
    }
    report_forwarder_end(s, status, true);
}

static _Noreturn void report_exit(struct init_state *s, int status, const struct rusage *ru,
                                  uint64_t wall_ns)
{
    /* The final counts go first: the monitor relays everything before EXITED. */
    if (s->plan->report) {
        stk_notify_flush(&s->plan->notify, s->status_fd);
    }
    end_forwarder(s);
    struct stk_record r = {
        .kind = STK_REC_EXITED,
        .wait_status = status,
        .wall_time_ns = wall_ns,
        .user_cpu_us = (uint64_t)ru->ru_utime.tv_sec * 1000000u + (uint64_t)ru->ru_utime.tv_usec,
        .sys_cpu_us = (uint64_t)ru->ru_stime.tv_sec * 1000000u + (uint64_t)ru->ru_stime.tv_usec,
        .max_rss_kb = (uint64_t)ru->ru_maxrss,
    };
    stk_record_send(s->status_fd, &r, -1);
    /* With a pid namespace, pid 1's exit makes the kernel kill every process left in it (and
     * closes the listener: a call still waiting for an answer gets ENOSYS). */
    _exit(0);
}

/* Reaps every exited child; returns when none is left to reap. Each exit is looked at with
 * WNOWAIT first: while the command is an unreaped zombie its process group id cannot be
 * reused, so that is the moment to kill what is left of its group (without a pid namespace
 * nothing else would). */
static void reap(struct init_state *s)
{
    for (;;) {
        siginfo_t si;
        si.si_pid = 0;
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0) {
            return;
        }
        int status;
        struct rusage ru;
        if (si.si_pid == s->command) {
            uint64_t wall_ns = stk_now_ns() - s->start_ns;
            if (!s->plan->new_pid) {
                kill(-s->command, SIGKILL);
            }
            while (wait4(s->command, &status, 0, &ru) < 0 && errno == EINTR) {
            }
            report_exit(s, status, &ru, wall_ns);
        }
        while (wait4(si.si_pid, &status, 0, &ru) < 0 && errno == EINTR) {
        }
        if (si.si_pid == s->forwarder) {
            report_forwarder_end(s, status, false);
        }
    }
}

static void on_signals(struct init_state *s)
{
    struct signalfd_siginfo info;
    while (read(s->signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
            reap(s);
        } else if (from_monitor(&info, s->plan->new_pid, s->monitor)) {
            if (info.ssi_signo == STK_SIG_TERMINATE) {
                terminate_all(s->plan->new_pid, s->command);
            } else {
                kill(s->command, (int)info.ssi_signo);
            }
        }
    }
}

/* Notifications are answered before signals are read, so every call the command made before
 * it exited is counted. */
static _Noreturn void supervise(struct init_state *s)
{
    for (;;) {
        struct pollfd fds[2] = {
            {.fd = s->signal_fd, .events = POLLIN},
            {.fd = s->listener, .events = POLLIN},
        };
        if (poll(fds, 2, -1) < 0) {
            continue; /* EINTR, or ENOMEM for the moment: poll again */
        }
        on_listener(s, fds[1].revents);
        if (fds[0].revents != 0) {
            on_signals(s);
        }
    }
}

_Noreturn void stk_init_run(struct stk_plan *p, int sync_fd, int status_fd)
{
    pid_t monitor = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != monitor) {
        _exit(STK_EXIT_SETUP);
    }
    wait_for_release(sync_fd);
    struct stk_error err;
    pid_t forwarder = 0;
    if (setup(p, sync_fd, status_fd, &forwarder, &err) < 0) {
        stk_record_error_exit(status_fd, &err);
    }
    struct init_state s = {.plan = p,
                           .status_fd = status_fd,
                           .listener = -1,
                           .forwarder = forwarder,
                           .monitor = monitor};
    /* A warm sandbox is complete now. With NEWPID the command's process is forked first and
     * waits for its command itself (warm.h); without, pid 1 waits here and forks after. */
    bool forked_early = p->warm != NULL && p->new_pid;
    struct stk_spec warm_spec; /* lives as long as this frame, i.e. as long as pid 1 */
    if (p->warm != NULL && !forked_early) {
        stk_warm_report_ready(status_fd);
        if (stk_warm_await_command(p->warm, p, &warm_spec, &err) < 0) {
            stk_record_error_exit(status_fd, &err);
        }
    }
    /* The sandbox signals are blocked since the clone; read them from an fd so one poll
     * waits for them and for notifications together. */
    stk_progress_step(STK_STEP_INIT);
    sigset_t set;
    stk_signals_sandbox(&set);
    s.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s.signal_fd < 0) {
        stk_fail(&err, STK_STEP_INIT, errno, "signalfd");
        stk_record_error_exit(status_fd, &err);
    }
    int exec_status = fork_command(&s, forked_early);
    if (forked_early) {
        stk_warm_close_sandbox_end(p->warm);
        /* READY once the filters are in place: a start never waits for them, and the
         * command's process writes the progress page only while pid 1 waits here. */
        if (p->filter_early) {
            await_command_process(&s, exec_status, true);
        }
        stk_warm_report_ready(status_fd);
    }
    await_command_process(&s, exec_status, false);
    if (forked_early) {
        /* EOF is execve's success only once the command was handed over: before, it is the
         * idle process's death (a signal from the host), which must not read as a start. */
        s.start_ns = stk_warm_handed_over_ns(p->warm);
        if (s.start_ns == 0) {
            stk_fail(&err, STK_STEP_COMMAND, ECHILD,
                     "the command's process ended before the command came");
            command_failed(&s, &err);
        }
    }
    pid_t command = s.command;
    /* Without a pid namespace the monitor may have to kill the command itself (pid 1 can be
     * gone by then): it gets a pidfd, opened while the command is certainly unreaped, so a
     * reused pid number can never be hit. */
    int command_pidfd = -1;
    if (!p->new_pid) {
        command_pidfd = pidfd_open(command, 0);
        if (command_pidfd < 0) {
            struct stk_error e;
            stk_fail(&e, STK_STEP_INIT, errno, "pidfd_open of the command");
            kill(command, SIGKILL);
            stk_record_error_exit(status_fd, &e);
        }
    }
    struct stk_record started = {.kind = STK_REC_STARTED, .command_pid = command};
    if (stk_record_send(status_fd, &started, command_pidfd) < 0) {
        kill(command, SIGKILL);
        _exit(STK_EXIT_SETUP);
    }
    if (command_pidfd >= 0) {
        close(command_pidfd);
    }
    if (p->report) {
        stk_notify_started(&p->notify, status_fd);
    }
    /* pid 1 has no use for the command's stdio; holding it would keep a reader of the
     * command's stdin alive after the command exits. */
    close(STDIN_FILENO);
    close(STDOUT_FILENO);
    close(STDERR_FILENO);
    /* Nor for the pty's slave: the master reads EIO once the command's copies are gone. */
    if (p->pty_slave >= 0) {
        close(p->pty_slave);
    }
    supervise(&s);
}
