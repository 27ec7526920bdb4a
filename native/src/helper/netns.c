#include "netns.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "network.h"
#include "status.h"
#include "sys.h"

/* The namespace's fd, from a socket made in it: SIOCGSKNS needs no /proc. */
static int open_own_netns(struct stk_error *err)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return stk_fail(err, STK_STEP_NETWORK_NAMESPACE, errno, "socket(AF_INET)");
    }
    int ns = ioctl(sock, SIOCGSKNS);
    int saved = errno;
    close(sock);
    return ns < 0 ? stk_fail(err, STK_STEP_NETWORK_NAMESPACE, saved, "SIOCGSKNS") : ns;
}

/* Every fd but the two the maker uses: it holds none of the monitor's (the control socket,
 * the relay's pipes) in case anything could reach it. close_range is a plain system call. */
static void close_all_but(int a, int b)
{
    int low = a < b ? a : b;
    int high = a < b ? b : a;
    if (low > 0) {
        close_range(0, (unsigned int)low - 1, 0);
    }
    if (high > low + 1) {
        close_range((unsigned int)low + 1, (unsigned int)high - 1, 0);
    }
    close_range((unsigned int)high + 1, ~0u, 0);
}

/* The maker's steps, in order. It runs the helper's code only, in the host's pid and mount
 * namespaces, and never writes the progress page (pid 1 does, concurrently). It keeps no fd of
 * the monitor's but its channel and pid 1's pidfd, and exits as soon as it has sent: the fd in
 * flight keeps the namespace alive. */
static _Noreturn void make_in_maker(pid_t monitor, int pid1_pidfd, bool join_user, int channel)
{
    struct stk_error err;
    /* First: without a pid namespace a process of the caller's uid could otherwise read its
     * memory (it holds every capability in the sandbox's user namespace). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* A maker outliving a dead monitor would only make a namespace nobody joins. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != monitor) {
        _exit(STK_EXIT_SETUP);
    }
    close_all_but(pid1_pidfd, channel);
    /* Before the namespace is made: it must belong to the sandbox's user namespace, as with
     * clone(CLONE_NEWNET) from pid 1 (the monitor, its creator, holds every capability in
     * it). */
    if (join_user && setns(pid1_pidfd, CLONE_NEWUSER) < 0) {
        stk_fail(&err, STK_STEP_NETWORK_NAMESPACE, errno, "setns(CLONE_NEWUSER) into pid 1's");
        stk_record_error_exit(channel, &err);
    }
    if (unshare(CLONE_NEWNET) < 0) {
        stk_fail(&err, STK_STEP_NETWORK_NAMESPACE, errno, "unshare(CLONE_NEWNET)");
        stk_record_error_exit(channel, &err);
    }
    if (stk_loopback_up(&err) < 0) {
        stk_record_error_exit(channel, &err);
    }
    int ns = open_own_netns(&err);
    if (ns < 0) {
        stk_record_error_exit(channel, &err);
    }
    struct stk_record r;
    memset(&r, 0, sizeof r);
    r.kind = STK_REC_NETNS;
    /* Unanswered send (pid 1 gone): nothing to tell anyone. */
    (void)stk_record_send(channel, &r, ns);
    _exit(0);
}

pid_t stk_netns_make_in_monitor(int pid1_pidfd, bool join_user, int channel)
{
    pid_t monitor = getpid();
    pid_t maker = stk_clone(SIGCHLD);
    if (maker == 0) {
        make_in_maker(monitor, pid1_pidfd, join_user, channel);
    }
    if (maker < 0) {
        struct stk_error err;
        stk_fail(&err, STK_STEP_NETWORK_NAMESPACE, errno, "fork of the maker");
        (void)stk_record_send_error(channel, &err);
        return 0;
    }
    return maker;
}

int stk_netns_join_in_pid1(int *channel, struct stk_error *err)
{
    struct stk_record r;
    int ns = -1;
    int n = stk_record_receive(*channel, &r, &ns, true);
    int saved = errno;
    stk_close_fd(channel);
    int rc = 0;
    if (n == 1 && r.kind == STK_REC_ERROR) {
        *err = r.error;
        rc = -1;
    } else if (n != 1 || r.kind != STK_REC_NETNS || ns < 0) {
        /* EOF: the maker died before it sent (the monitor's end is closed). */
        rc = stk_fail(err, STK_STEP_NETWORK_NAMESPACE, n < 0 ? saved : EPROTO,
                      "receiving the network namespace");
    } else if (setns(ns, CLONE_NEWNET) < 0) {
        rc = stk_fail(err, STK_STEP_NETWORK_NAMESPACE, errno, "setns(CLONE_NEWNET)");
    }
    stk_close_fd(&ns);
    return rc;
}

void stk_netns_reap_in_monitor(pid_t *maker, bool block)
{
    if (*maker <= 0) {
        return;
    }
    if (waitpid(*maker, NULL, WNOHANG) != 0) {
        *maker = 0; /* reaped (or, -1, not ours to reap) */
        return;
    }
    kill(*maker, SIGKILL);
    if (!block) {
        return;
    }
    while (waitpid(*maker, NULL, 0) < 0 && errno == EINTR) {
    }
    *maker = 0;
}
