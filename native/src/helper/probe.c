#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "netns.h"
#include "spec.h"
#include "sys.h"
#include "userns.h"

/* Cgroup paths longer than this are not worth probing: they do not fit PATH_MAX anyway. */
#define CG_PATH 4096

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Values are single tokens: spaces and backslashes are written as \040 and \134 (the
 * /proc/self/mountinfo convention), so only reason= may contain spaces. */
static void put_value(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == ' ') {
            fputs("\\040", stdout);
        } else if (*s == '\\') {
            fputs("\\134", stdout);
        } else if (*s == '\n') {
            fputs("\\012", stdout);
        } else {
            putchar(*s);
        }
    }
}

static void line_yes(const char *name, const char *extra)
{
    printf("%s=yes%s%s\n", name, extra[0] != '\0' ? " " : "", extra);
}

static void line_no(const char *name, int err, const char *reason)
{
    printf("%s=no errno=%d reason=%s: %s\n", name, err, reason, strerror(err));
}

/* Runs fn in a forked child; its result (0 or an errno) comes back as the exit code. */
static int in_child(int (*fn)(void))
{
    pid_t pid = stk_clone(SIGCHLD);
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        _exit(fn());
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

/* A child cloned into the namespaces that exits at once; the namespaces existed. */
static int try_clone(unsigned long flags)
{
    pid_t pid = stk_clone(flags | SIGCHLD);
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return 0;
}

/* What a sandbox with every namespace does (netns.h): a child cloned with every flag but
 * CLONE_NEWNET, a maker that makes the network namespace in that child's user namespace, and
 * the child joining it. 0 or the errno of the step that failed. */
static int try_all_namespaces(void)
{
    int channel[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) < 0) {
        return errno;
    }
    pid_t pid1 = stk_clone((STK_ALLOWED_NAMESPACES & ~(unsigned long)CLONE_NEWNET) | SIGCHLD);
    if (pid1 == 0) {
        close(channel[0]);
        struct stk_error e;
        _exit(stk_netns_join_in_pid1(&channel[1], &e) < 0 ? (e.err != 0 ? e.err : EPROTO) : 0);
    }
    int err = pid1 < 0 ? errno : 0;
    close(channel[1]);
    int pidfd = pid1 < 0 ? -1 : pidfd_open(pid1, 0);
    if (pid1 > 0 && pidfd < 0) {
        err = errno;
        kill(pid1, SIGKILL);
    }
    pid_t maker = pidfd < 0 ? 0 : stk_netns_make_in_monitor(pidfd, true, channel[0]);
    close(channel[0]); /* the maker's alone now: the child reads EOF if it dies silently */
    if (pid1 > 0) {
        int status;
        while (waitpid(pid1, &status, 0) < 0 && errno == EINTR) {
        }
        if (err == 0) {
            err = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
        }
    }
    stk_netns_reap_in_monitor(&maker, true);
    if (pidfd >= 0) {
        close(pidfd);
    }
    return err;
}

static void probe_namespaces(void)
{
    static const struct {
        const char *name;
        unsigned long flag;
        const char *call;
    } namespaces[] = {
        {"user_namespace", CLONE_NEWUSER, "clone(CLONE_NEWUSER)"},
        {"pid_namespace", CLONE_NEWPID, "clone(CLONE_NEWPID)"},
        {"mount_namespace", CLONE_NEWNS, "clone(CLONE_NEWNS)"},
        {"network_namespace", CLONE_NEWNET, "clone(CLONE_NEWNET)"},
        {"ipc_namespace", CLONE_NEWIPC, "clone(CLONE_NEWIPC)"},
        {"uts_namespace", CLONE_NEWUTS, "clone(CLONE_NEWUTS)"},
        {"cgroup_namespace", CLONE_NEWCGROUP, "clone(CLONE_NEWCGROUP)"},
    };
    /* An unprivileged caller gets the other namespaces only inside a new user namespace,
     * which is also how the helper creates them. */
    unsigned long user = getuid() == 0 ? 0 : CLONE_NEWUSER;
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
        int err = try_clone(namespaces[i].flag | user);
        if (err == 0) {
            line_yes(namespaces[i].name, "");
        } else {
            char reason[96];
            snprintf(reason, sizeof reason, "%s%s", namespaces[i].call,
                     user != 0 && namespaces[i].flag != CLONE_NEWUSER ? " with CLONE_NEWUSER"
                                                                       : "");
            line_no(namespaces[i].name, err, reason);
        }
    }
    int err = try_all_namespaces();
    if (err == 0) {
        line_yes("all_namespaces", "");
    } else {
        line_no("all_namespaces", err,
                "clone with the six other CLONE_NEW* flags, then the network namespace made in"
                " its user namespace and joined");
    }
}

static int install_allow_all(unsigned int flags)
{
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = 1, .filter = &allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return errno;
    }
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    return rc < 0 ? errno : 0;
}

static int seccomp_filter_child(void)
{
    return install_allow_all(0);
}

static int seccomp_notif_child(void)
{
    return install_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

static void probe_seccomp(void)
{
    int err = in_child(seccomp_filter_child);
    if (err == 0) {
        line_yes("seccomp_filter", "");
    } else {
        line_no("seccomp_filter", err, "seccomp(SECCOMP_SET_MODE_FILTER)");
    }
    err = in_child(seccomp_notif_child);
    if (err == 0) {
        line_yes("seccomp_user_notif", "");
    } else {
        line_no("seccomp_user_notif", err, "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)");
    }
}

static void probe_landlock(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        line_no("landlock", errno, "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)");
        return;
    }
    printf("landlock=yes abi=%ld\n", abi);
}

/* What the helper does for a root caller's binds (binds.c), on the working directory. */
static void probe_idmapped_mounts(void)
{
    if (getuid() != 0) {
        printf("idmapped_mounts=no errno=%d reason=only used for a root caller (needs "
               "CAP_SYS_ADMIN in the initial user namespace)\n",
               EPERM);
        return;
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        line_no("idmapped_mounts", errno, "getcwd");
        return;
    }
    struct stk_error err;
    int userns = -1;
    const struct stk_idmap nobody = {0, 0, STK_NOBODY_ID, STK_NOBODY_ID};
    if (stk_userns_idmap(&nobody, &userns, &err) < 0) {
        line_no("idmapped_mounts", err.err, "creating the idmap user namespace");
        return;
    }
    int tree = open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    int e = 0;
    if (tree < 0) {
        e = errno;
    } else {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
            e = errno;
        }
        close(tree); /* a detached tree disappears with its last fd */
    }
    close(userns);
    if (e == 0) {
        fputs("idmapped_mounts=yes path=", stdout);
        put_value(cwd);
        putchar('\n');
    } else {
        printf("idmapped_mounts=no errno=%d path=", e);
        put_value(cwd);
        printf(" reason=idmapping a bind of the working directory: %s\n", strerror(e));
    }
}

static bool is_fs(const char *path, long magic)
{
    struct statfs st;
    return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

/* What a sandbox with memory, pids and cpu limits would do (cgroup.c): find the parents, make
 * a box and its leaf, remove them again. */
static void probe_cgroup_delegation(void)
{
    int version = 0;
    char where[CG_PATH] = "", why[512] = "";
    int err = stk_cgroup_probe(&version, where, sizeof where, why, sizeof why);
    if (err == 0) {
        printf("cgroup_delegation=yes version=v%d path=", version);
        put_value(where);
        printf(" reason=%s\n", why);
    } else {
        printf("cgroup_delegation=no errno=%d reason=%s\n", err, why);
    }
}

static void probe_cgroup(void)
{
    if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
        puts("cgroup=v2");
    } else if (is_fs("/sys/fs/cgroup", TMPFS_MAGIC)) {
        bool hybrid = is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC);
        puts(hybrid ? "cgroup=hybrid" : "cgroup=v1");
    } else {
        puts("cgroup=none");
    }
    probe_cgroup_delegation();
}

int stk_probe_run(enum stk_probe_part part)
{
    switch (part) {
    case STK_PROBE_CGROUP:
        probe_cgroup();
        break;
    case STK_PROBE_SECCOMP:
        probe_seccomp();
        break;
    case STK_PROBE_ALL:
        probe_namespaces();
        probe_seccomp();
        probe_landlock();
        probe_idmapped_mounts();
        probe_cgroup();
        break;
    }
    return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}
