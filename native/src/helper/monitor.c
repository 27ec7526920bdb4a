#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "binds.h"
#include "cgroup.h"
#include "fd.h"
#include "init.h"
#include "monitor_loop.h"
#include "netns.h"
#include "output.h"
#include "plan.h"
#include "progress.h"
#include "protect.h"
#include "pty.h"
#include "signals.h"
#include "stockade.h"
#include "sys.h"
#include "userns.h"
#include "warm.h"

/* The monitor's side of pid 1's set-up: what run() opens on its way to the release, all
 * closed on its one way out. */
struct launch {
    int sync_pipe[2];      /* the release: pid 1 reads one byte once its maps are written */
    int status_channel[2]; /* pid 1's records; [0] becomes the monitor's status_fd */
    int netns_channel[2];  /* with CLONE_NEWNET: [1] is pid 1's, [0] the maker's (netns.h) */
    sigset_t forwarded;    /* what the monitor's signalfd reads */
    bool pid1_reaped;      /* finish() waited for it; otherwise cleanup kills it */
};

static int open_channels(struct stk_plan *plan, struct launch *l, struct stk_error *err)
{
    if (pipe2(l->sync_pipe, O_CLOEXEC) < 0) {
        return stk_fail(err, STK_STEP_CLONE, errno, "pipe2");
    }
    /* SEQPACKET: one message per record, and STARTED can carry the command's pidfd. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l->status_channel) < 0) {
        return stk_fail(err, STK_STEP_CLONE, errno, "socketpair(SOCK_SEQPACKET)");
    }
    if (plan->new_net) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l->netns_channel) < 0) {
            return stk_fail(err, STK_STEP_NETWORK_NAMESPACE, errno, "socketpair(SOCK_SEQPACKET)");
        }
        plan->netns_channel = l->netns_channel[1];
    }
    return 0;
}

/* The sandbox's signals, plus SIGWINCH with a pty (the monitor resizes it). With an output
 * relay SIGPIPE is blocked too (splice into a pipe the caller closed raises it; EPIPE tells the
 * relay all it needs): blocked, not ignored, so the command, which clears its mask before
 * execve, still gets it by default. */
static void block_signals(struct launch *l, const struct stk_pty *pty, bool relay)
{
    sigset_t sandbox_signals;
    stk_signals_sandbox(&sandbox_signals);
    stk_signals_forwarded(&l->forwarded);
    if (pty->tty_fds != 0) {
        sigaddset(&sandbox_signals, SIGWINCH);
        sigaddset(&l->forwarded, SIGWINCH);
    }
    if (relay) {
        sigaddset(&sandbox_signals, SIGPIPE);
    }
    sigprocmask(SIG_BLOCK, &sandbox_signals, NULL);
}

/* The child keeps only its own ends and becomes pid 1 (init.c): async-signal-safe calls only
 * from here to its exec. The parent drops what is now pid 1's alone. */
static int clone_pid1(struct stk_plan *plan, struct stk_pty *pty, struct launch *l,
                      struct stk_monitor *m, struct stk_error *err)
{
    stk_progress_step(STK_STEP_CLONE);
    pid_t pid1 = stk_clone(plan->clone_flags | SIGCHLD);
    if (pid1 == 0) {
        close(STK_CONTROL_FD);
        close(l->sync_pipe[1]);
        close(l->status_channel[0]);
        stk_close_fd(&l->netns_channel[0]);
        if (plan->upper_fd >= 0) {
            close(plan->upper_fd); /* a root caller's upper: the monitor's alone */
            plan->upper_fd = -1;
        }
        stk_output_pid1_close(m->output);
        if (plan->warm != NULL) {
            stk_warm_pid1_close(plan->warm);
        }
        stk_init_run(plan, l->sync_pipe[0], l->status_channel[1]);
    }
    int clone_errno = errno;
    stk_output_monitor_restore(m->output); /* the relay pipes' write ends are pid 1's alone */
    stk_close_fd(&l->sync_pipe[0]);
    stk_close_fd(&l->status_channel[1]);
    stk_close_fd(&l->netns_channel[1]); /* pid 1's alone */
    plan->netns_channel = -1;
    for (size_t i = 0; i < plan->spec->mount_count; i++) {
        stk_close_fd(&plan->mount_fds[i]); /* pid 1 has its own copies */
    }
    stk_pty_monitor_close_slave(pty);
    if (plan->warm != NULL) {
        stk_warm_close_sandbox_end(plan->warm);
    }
    if (pid1 < 0) {
        return stk_fail(err, STK_STEP_CLONE, clone_errno, "clone(namespaces)");
    }
    m->pid1 = pid1;
    m->upper_fd = plan->upper_fd; /* a root caller's, built above; pid 1 sends the others */
    plan->upper_fd = -1;
    m->status_fd = l->status_channel[0];
    l->status_channel[0] = -1;
    return 0;
}

static int open_pidfd(struct stk_monitor *m, struct stk_error *err)
{
    m->pidfd = pidfd_open(m->pid1, 0);
    return m->pidfd < 0 ? stk_fail(err, STK_STEP_CLONE, errno, "pidfd_open") : 0;
}

/* Best effort: without it (no /proc here) the namespace is freed inside pid 1's exit, as it
 * would be anyway. Opened while pid 1 is our unreaped child, before it is released: its number
 * is its own and it is still dumpable. Nothing of the sandbox can reach the monitor's fds. */
static void hold_mount_namespace(struct stk_monitor *m)
{
    if (!m->plan->new_mount) {
        return;
    }
    char path[64];
    int n = snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)m->pid1);
    if (n > 0 && (size_t)n < sizeof path) {
        m->mount_ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
}

static int open_signalfd(struct stk_monitor *m, const struct launch *l, struct stk_error *err)
{
    m->signal_fd = signalfd(-1, &l->forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
    return m->signal_fd < 0 ? stk_fail(err, STK_STEP_CLONE, errno, "signalfd") : 0;
}

/* If pid 1 already died the loop sees it through the pidfd. */
static void release_pid1(const struct launch *l)
{
    ssize_t w;
    do {
        w = write(l->sync_pipe[1], "1", 1);
    } while (w < 0 && errno == EINTR);
}

/* The one way out of run(). A pid 1 that was cloned but never reaped (a set-up step failed
 * after the clone) is killed and reaped first; by pid number, which is safe while it is our
 * unreaped child. */
static void cleanup(struct stk_monitor *m, struct launch *l)
{
    if (m->pid1 > 0 && !l->pid1_reaped) {
        kill(m->pid1, SIGKILL);
        while (waitpid(m->pid1, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    /* After pid 1 is gone, on every way out (stk_monitor_finish did it already after a
     * normal end; again is a no-op). */
    stk_placeholders_remove(m->placeholders);
    stk_cgroup_remove_in_monitor(m->cgroup);
    /* Kept open until now: pid 1 sees the monitor die through this pipe's hang-up. */
    stk_close_fd(&l->sync_pipe[1]);
    stk_close_fd(&l->sync_pipe[0]);
    stk_close_fd(&l->status_channel[0]);
    stk_close_fd(&l->status_channel[1]);
    stk_close_fd(&l->netns_channel[0]);
    stk_close_fd(&l->netns_channel[1]);
    stk_netns_reap_in_monitor(&m->netns_maker, true);
    stk_close_fd(&m->status_fd);
    stk_close_fd(&m->command_pidfd);
    stk_close_fd(&m->upper_fd);
    stk_close_fd(&m->signal_fd);
    stk_close_fd(&m->pidfd);
    stk_close_fd(&m->mount_ns_fd);
    stk_output_monitor_close(m->output);
    stk_control_reader_close(&m->control);
    if (m->warm != NULL) {
        stk_warm_release(m->warm);
    }
}

/* The host's /sys is bound at /sys (SandboxPolicy.sys): its cgroup mounts are then the host's,
 * and pid 1 puts the sandbox's own in their place. */
static bool sys_in_view(const struct stk_spec *spec)
{
    for (size_t i = 0; i < spec->mount_count; i++) {
        if (spec->mounts[i].type == STK_MOUNT_BIND && strcmp(spec->mounts[i].dst, "/sys") == 0) {
            return true;
        }
    }
    return false;
}

/* The monitor's steps, in order; each line says why it stands where it does. Returns 0 after
 * EXITED was sent, or -1 with the error to report. */
static int run(struct stk_plan *plan, struct stk_pty *pty, bool *own_crash,
               struct stk_error *err)
{
    struct launch l = {
        .sync_pipe = {-1, -1}, .status_channel = {-1, -1}, .netns_channel = {-1, -1}};
    struct stk_monitor m;
    memset(&m, 0, sizeof m);
    m.plan = plan;
    m.pty = pty;
    m.control_fd = STK_CONTROL_FD;
    m.pidfd = m.status_fd = m.command_pidfd = m.signal_fd = m.upper_fd = m.mount_ns_fd = -1;
    struct stk_placeholders placeholders = {NULL, 0};
    m.placeholders = &placeholders;
    struct stk_cgroup cgroup;
    stk_cgroup_init(&cgroup);
    m.cgroup = &cgroup;
    struct stk_output output = {.count = 0};
    m.output = &output;
    stk_control_reader_init(&m.control);
    struct stk_warm warm;
    int rc = -1;

    /* Before the binds are opened and pid 1 exists: a PROTECT's missing path is made on the
     * host as the caller (host root for a root caller), so that the sandbox finds it in place
     * and covered, and can never create it. */
    if (plan->new_mount && stk_placeholders_create(plan->spec, &placeholders, err) < 0) {
        goto out;
    }
    /* Before the clone, as host root: pid 1 could not even open a root-owned 0700 source from
     * its user namespace (an unprivileged caller's binds are opened in pid 1, mounts.c). */
    if (plan->caller_root && plan->new_mount && stk_binds_open_in_monitor(plan, err) < 0) {
        goto out;
    }
    /* Before the clone, so that pid 1 can be moved in before its release; the limits are in
     * place before anything of the sandbox runs. */
    if (stk_cgroup_wanted(plan->spec)) {
        stk_progress_step(STK_STEP_CGROUP);
        if (stk_cgroup_create_in_monitor(plan->spec, &cgroup, err) < 0) {
            goto out;
        }
        plan->cgroup = &cgroup;
        plan->own_cgroup_namespace = (plan->clone_flags & CLONE_NEWCGROUP) != 0;
        plan->cgroup_view =
            plan->own_cgroup_namespace && plan->new_mount && sys_in_view(plan->spec);
    }
    /* Before the clone: pid 1 inherits its ends of both. */
    if (open_channels(plan, &l, err) < 0) {
        goto out;
    }
    /* Before the clone: what the monitor writes into the region later is in pid 1's memory
     * too, at the same address, and pid 1 holds its end of the hand-over. */
    if (plan->spec->warm) {
        m.warm = &warm;
        if (stk_warm_prepare(&warm, err) < 0) {
            goto out;
        }
        plan->warm = &warm;
    }
    /* Before the clone, after the binds (set-up that fails makes no pipes): pid 1 and the
     * command inherit the relay's write ends on fds 1 and 2; the pty relay counts against the
     * same budget. */
    if (stk_output_monitor_prepare(&output, plan->spec, pty->tty_fds, err) < 0) {
        goto out;
    }
    if (output.budget.active && pty->tty_fds != 0) {
        pty->budget = &output.budget;
    }
    /* Before the clone: pid 1 inherits the mask, so no sandbox signal reaches it before its
     * own signalfd; the monitor's own wait, queued, for its signalfd below. */
    block_signals(&l, pty, output.count != 0);
    /* Once binds, channels and mask are in place: pid 1 starts with all of them and waits on
     * the sync pipe until it is released. */
    if (clone_pid1(plan, pty, &l, &m, err) < 0) {
        goto out;
    }
    /* At once, while pid 1 is our unreaped child: its number cannot belong to anyone else. */
    if (open_pidfd(&m, err) < 0) {
        goto out;
    }
    hold_mount_namespace(&m);
    /* Before the release, while pid 1 only waits: every process of the sandbox descends from
     * it inside the groups, a fork bomb included. (clone3's CLONE_INTO_CGROUP would place it
     * there at birth; stk_clone is the plain clone every path shares, and a pid 1 that has not
     * been released has run nothing yet, so the effect is the same.) */
    stk_progress_step(STK_STEP_CGROUP_ATTACH);
    if (cgroup.version != 0 && stk_cgroup_attach_in_monitor(&cgroup, m.pid1, err) < 0) {
        goto out;
    }
    /* Before the release: pid 1 waits for its maps, and only its parent's namespace can write
     * them. */
    stk_progress_step(STK_STEP_UID_MAP);
    if (plan->new_user && stk_userns_write_maps(m.pid1, plan, err) < 0) {
        goto out;
    }
    /* Before the release: every signal to forward from now on is read, none is lost. */
    if (open_signalfd(&m, &l, err) < 0) {
        goto out;
    }
    /* Last: pid 1 sets the sandbox up and runs the command. */
    release_pid1(&l);
    /* Just after the release, off pid 1's path: the namespace is made while pid 1 builds the
     * view, and joined after it. After the maps: the maker enters pid 1's user namespace, whose
     * ids must be final. The maker holds the only copy of its end from now on, so pid 1 reads
     * EOF if it dies without a word. */
    if (plan->new_net) {
        m.netns_maker = stk_netns_make_in_monitor(m.pidfd, plan->new_user, l.netns_channel[0]);
        stk_close_fd(&l.netns_channel[0]);
    }
    stk_monitor_loop(&m);
    rc = stk_monitor_finish(&m, err);
    l.pid1_reaped = true;
    *own_crash = m.own_crash;
out:
    cleanup(&m, &l);
    return rc;
}

int stk_monitor_run(const struct stk_spec *spec, bool *own_crash, struct stk_error *err)
{
    *own_crash = false;
    struct stk_plan plan;
    if (stk_plan_build(spec, &plan, err) < 0) {
        return -1;
    }
    /* Decided before the clone, in place before the command execs: the command never holds
     * the caller's terminal. */
    struct stk_pty pty;
    stk_pty_monitor_detect(&pty);
    plan.tty_fds = pty.tty_fds;
    plan.pty_slave = -1;
    if (spec->warm && pty.tty_fds != 0) {
        /* A warm command's stdio comes with COMMAND; a terminal here would be relayed to
         * nobody. */
        stk_plan_free(&plan);
        return stk_fail(err, STK_STEP_SPEC, EINVAL,
                        "WARM: the helper's fds 0-2 must not be terminals (a warm sandbox has"
                        " no pty)");
    }
    int rc = -1;
    if (pty.tty_fds == 0 || stk_pty_monitor_open(&pty, err) == 0) {
        plan.pty_slave = pty.slave;
        rc = run(&plan, &pty, own_crash, err);
    }
    /* Every path out, set-up errors included (after a normal end stk_monitor_finish() did it
     * already): the caller's terminal is back in its own mode before the caller hears of it. */
    stk_pty_monitor_restore(&pty);
    stk_plan_free(&plan);
    return rc;
}
