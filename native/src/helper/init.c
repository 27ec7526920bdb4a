#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "command.h"
#include "creds.h"
#include "hostname.h"
#include "mounts.h"
#include "network.h"
#include "signals.h"
#include "status.h"
#include "sys.h"

/* Everything here runs in a process cloned from the monitor without exec: async-signal-safe
 * calls only, no allocation. */

static _Noreturn void report_error(int status_fd, const struct stk_error *e)
{
    struct stk_record r = {.kind = STK_REC_ERROR, .error = *e};
    stk_record_send(status_fd, &r, -1);
    _exit(e->exit_code);
}

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

static int setup(struct stk_plan *p, int sync_fd, struct stk_error *err)
{
    if (p->new_user && stk_creds_set_fs_ids(p->inside_uid, p->inside_gid, err) < 0) {
        return -1;
    }
    if (p->new_mount && stk_mounts_setup(p, err) < 0) {
        return -1;
    }
    if (p->new_uts && stk_hostname_set(p->hostname, p->hostname_len, err) < 0) {
        return -1;
    }
    if (p->new_net && stk_loopback_up(err) < 0) {
        return -1;
    }
    if (p->clear_groups && stk_creds_clear_groups(err) < 0) {
        return -1;
    }
    if (stk_creds_switch(p->inside_uid, p->inside_gid, err) < 0) {
        return -1;
    }
    if (stk_caps_drop_all(p->cap_last_cap, err) < 0) {
        return -1;
    }
    rearm_parent_death(sync_fd);
    /* Nobody in the sandbox may ptrace pid 1 or read its memory. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        return stk_fail(err, "dumpable", errno, "PR_SET_DUMPABLE 0");
    }
    /* Without a pid namespace, orphans of the command would go to the host's init; as a
     * subreaper pid 1 still reaps them. */
    if (!p->new_pid && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        return stk_fail(err, "init", errno, "PR_SET_CHILD_SUBREAPER");
    }
    return 0;
}

/* Forks the command and waits for its exec status. Returns its pid; reports and exits when a
 * step before execve failed. */
static pid_t start_command(const struct stk_plan *p, int status_fd, uint64_t *start_ns)
{
    struct stk_error err;
    int exec_status[2];
    if (pipe2(exec_status, O_CLOEXEC) < 0) {
        stk_fail(&err, "init", errno, "pipe2 for the exec status");
        report_error(status_fd, &err);
    }
    *start_ns = stk_now_ns();
    pid_t pid = stk_clone(SIGCHLD);
    if (pid < 0) {
        stk_fail(&err, "init", errno, "fork of the command");
        report_error(status_fd, &err);
    }
    if (pid == 0) {
        close(exec_status[0]);
        stk_command_run(p, exec_status[1]);
    }
    close(exec_status[1]);
    struct stk_record r;
    int n = stk_record_read(exec_status[0], &r);
    int saved = errno;
    close(exec_status[0]);
    if (n == 0) {
        return pid; /* EOF: the close-on-exec pipe vanished in a successful execve */
    }
    /* The command's process already exits after a failed step; reap it so no zombie is
     * left, then pass its record on. */
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n < 0 || r.kind != STK_REC_ERROR) {
        stk_fail(&err, "init", n < 0 ? saved : EPROTO, "reading the command's exec status");
        report_error(status_fd, &err);
    }
    report_error(status_fd, &r.error);
}

/* Only the monitor's signals are acted on: from outside a new pid namespace the sender's pid
 * reads as 0; without one it is the monitor's pid. */
static bool from_monitor(const siginfo_t *info, bool new_pid, pid_t monitor)
{
    if (info->si_code != SI_USER && info->si_code != SI_QUEUE) {
        return false;
    }
    return new_pid ? info->si_pid == 0 : info->si_pid == monitor;
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

static _Noreturn void report_exit(int status_fd, int status, const struct rusage *ru,
                                  uint64_t wall_ns)
{
    struct stk_record r = {
        .kind = STK_REC_EXITED,
        .wait_status = status,
        .wall_time_ns = wall_ns,
        .user_cpu_us = (uint64_t)ru->ru_utime.tv_sec * 1000000u + (uint64_t)ru->ru_utime.tv_usec,
        .sys_cpu_us = (uint64_t)ru->ru_stime.tv_sec * 1000000u + (uint64_t)ru->ru_stime.tv_usec,
        .max_rss_kb = (uint64_t)ru->ru_maxrss,
    };
    stk_record_send(status_fd, &r, -1);
    /* With a pid namespace, pid 1's exit makes the kernel kill every process left in it. */
    _exit(0);
}

/* Reaps every exited child; returns when none is left to reap. Each exit is looked at with
 * WNOWAIT first: while the command is an unreaped zombie its process group id cannot be
 * reused, so that is the moment to kill what is left of its group (without a pid namespace
 * nothing else would). */
static void reap(const struct stk_plan *p, int status_fd, pid_t command, uint64_t start_ns)
{
    for (;;) {
        siginfo_t si;
        si.si_pid = 0;
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0) {
            return;
        }
        int status;
        struct rusage ru;
        if (si.si_pid == command) {
            uint64_t wall_ns = stk_now_ns() - start_ns;
            if (!p->new_pid) {
                kill(-command, SIGKILL);
            }
            while (wait4(command, &status, 0, &ru) < 0 && errno == EINTR) {
            }
            report_exit(status_fd, status, &ru, wall_ns);
        }
        while (wait4(si.si_pid, &status, 0, &ru) < 0 && errno == EINTR) {
        }
    }
}

static _Noreturn void supervise(const struct stk_plan *p, int status_fd, pid_t command,
                                uint64_t start_ns, pid_t monitor)
{
    sigset_t set;
    stk_signals_sandbox(&set);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) {
            continue; /* EINTR only: the set is valid */
        }
        if (sig == SIGCHLD) {
            reap(p, status_fd, command, start_ns);
        } else if (from_monitor(&info, p->new_pid, monitor)) {
            if (sig == STK_SIG_TERMINATE) {
                terminate_all(p->new_pid, command);
            } else {
                kill(command, sig);
            }
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
    if (setup(p, sync_fd, &err) < 0) {
        report_error(status_fd, &err);
    }
    uint64_t start_ns;
    pid_t command = start_command(p, status_fd, &start_ns);
    /* Without a pid namespace the monitor may have to kill the command itself (pid 1 can be
     * gone by then): it gets a pidfd, opened while the command is certainly unreaped, so a
     * reused pid number can never be hit. */
    int command_pidfd = -1;
    if (!p->new_pid) {
        command_pidfd = pidfd_open(command, 0);
        if (command_pidfd < 0) {
            struct stk_error e;
            stk_fail(&e, "init", errno, "pidfd_open of the command");
            kill(command, SIGKILL);
            report_error(status_fd, &e);
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
    /* pid 1 has no use for the command's stdio; holding it would keep a reader of the
     * command's stdin alive after the command exits. */
    close(STDIN_FILENO);
    close(STDOUT_FILENO);
    close(STDERR_FILENO);
    supervise(p, status_fd, command, start_ns, monitor);
}
