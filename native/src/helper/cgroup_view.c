/*
 * What the sandbox sees at /sys/fs/cgroup when the policy shows it the host's /sys (read-only):
 * its own cgroups instead of the host's, read-only. pid 1 builds it (mounts.c, after the spec's
 * mounts), inside its own cgroup namespace (cgroup.h), so that a JVM or any runtime inside
 * finds its limits where it looks for them and nothing of the host's groups.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "stockade.h"

#define VIEW_DIR "/sys/fs/cgroup"

static int fail_view(struct stk_error *err, int e, const char *what, const char *path)
{
    return stk_fail_on(err, STK_STEP_CGROUP_NAMESPACE, e, what, path);
}

/* The host's cgroup mounts (bound with /sys) go where they can: a JVM takes the first cgroup
 * mount of a controller that /proc/self/mountinfo lists, and a covered mount is still listed.
 * An unprivileged caller's bind is cloned from pid 1's copy of the host's mounts, whose
 * submounts the kernel locks (EINVAL): there they stay, covered by the sandbox's own. */
static void detach_host_groups(int target)
{
    char path[40] = "/proc/self/fd/";
    size_t n = stk_strlen(path);
    stk_format_u64(path + n, (uint64_t)target);
    (void)umount2(path, MNT_DETACH);
}

/* v1: one entry (its host path found in pid 1's copy of the host's mounts) bound read-only on
 * its hierarchy's directory of the view. */
static int bind_entry(const struct stk_cgroup_view_entry *e, int root, struct stk_error *err)
{
    int target = stk_mount_open_beneath(root, e->dst, O_DIRECTORY);
    if (target < 0) {
        return fail_view(err, errno, "open in the view", e->dst);
    }
    int tree = open_tree(AT_FDCWD, e->host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    int rc = 0;
    if (tree < 0 ||
        stk_mount_set_attrs(tree, 0,
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                MOUNT_ATTR_NOEXEC,
                            -1) < 0 ||
        stk_mount_attach(tree, target) < 0) {
        rc = fail_view(err, errno, "binding the sandbox's cgroup at", e->dst);
    }
    stk_close_fd(&tree);
    stk_close_fd(&target);
    return rc;
}

/* v1: a small read-only tmpfs with one directory per entry, each then covered by it. */
static int mount_v1_view(const struct stk_cgroup *cg, int root, int target, struct stk_error *err)
{
    static const char *const options[] = {"size", "65536", "nr_inodes", "64", "mode", "0755",
                                          NULL};
    static const struct stk_new_fs tmpfs = {"tmpfs", options, 0};
    int mnt = stk_mount_new_fs(&tmpfs, STK_STEP_CGROUP_NAMESPACE, err);
    if (mnt < 0) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < cg->view_count && rc == 0; i++) {
        const char *name = cg->view[i].dst + sizeof VIEW_DIR; /* after "/sys/fs/cgroup/" */
        if (mkdirat(mnt, name, 0555) < 0) {
            rc = fail_view(err, errno, "mkdir in the view's", VIEW_DIR);
        }
    }
    if (rc == 0 && (stk_mount_set_attrs(mnt, 0,
                                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                            MOUNT_ATTR_NOEXEC,
                                        -1) < 0 ||
                    stk_mount_attach(mnt, target) < 0)) {
        rc = fail_view(err, errno, "mounting the view's", VIEW_DIR);
    }
    stk_close_fd(&mnt);
    for (size_t i = 0; i < cg->view_count && rc == 0; i++) {
        rc = bind_entry(&cg->view[i], root, err);
    }
    return rc;
}

int stk_cgroup_view_in_pid1(const struct stk_cgroup *cg, int root, struct stk_error *err)
{
    int target = stk_mount_open_beneath(root, VIEW_DIR, O_DIRECTORY);
    if (target < 0) {
        return fail_view(err, errno, "open in the view", VIEW_DIR);
    }
    detach_host_groups(target);
    /* Opened again: the fd above may name the detached mount now. */
    stk_close_fd(&target);
    target = stk_mount_open_beneath(root, VIEW_DIR, O_DIRECTORY);
    if (target < 0) {
        return fail_view(err, errno, "open in the view", VIEW_DIR);
    }
    int rc;
    if (cg->version == 2) {
        /* Rooted at the leaf by pid 1's cgroup namespace. */
        static const struct stk_new_fs cgroup2 = {
            "cgroup2", NULL,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
        rc = stk_mount_new_fs_at(target, &cgroup2, STK_STEP_CGROUP_NAMESPACE, "move_mount",
                                 VIEW_DIR, err);
    } else {
        rc = mount_v1_view(cg, root, target, err);
    }
    stk_close_fd(&target);
    return rc;
}
