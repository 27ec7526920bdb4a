#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "binds.h"
#include "dev.h"
#include "fd.h"
#include "mount_api.h"
#include "stockade.h"

/*
 * Only the new mount API is used (open_tree, mount_setattr, fsopen/fsmount, move_mount):
 * mounts copied from the host into a namespace owned by a new user namespace have locked
 * flags, and mount(MS_REMOUNT|MS_BIND) has to restate all of them while mount_setattr only
 * adds what it is given. Paths inside the new root are opened with RESOLVE_IN_ROOT, so a
 * symlink in the host tree (/lib -> usr/lib, or an absolute one) resolves inside the new root
 * and never escapes to the staging view. The steps themselves are in mount_api.c, the bind
 * sources in binds.c, /dev in dev.c.
 */

/* Where the root clone is attached until pivot_root. Any existing directory works: the mount
 * namespace is private by then (nothing propagates to the host), and pivot_root(".", ".")
 * needs no put_old directory inside the read-only clone. */
#define STAGING "/tmp"

/* The host's mount tree, recursively, read-only, nosuid, nodev, attached at STAGING. */
static int clone_root(struct stk_error *err)
{
    int root = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
    if (root < 0) {
        return stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "open_tree /");
    }
    if (stk_mount_set_attrs(root, AT_RECURSIVE,
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, -1) < 0) {
        stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "mount_setattr / read-only,nosuid,nodev");
        stk_close_fd(&root);
    } else if (move_mount(root, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "move_mount to " STAGING);
        stk_close_fd(&root);
    }
    return root;
}

static int mount_proc(int root, struct stk_error *err)
{
    static const struct stk_new_fs proc = {
        "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
    int target = stk_mount_open_in_root(root, "/proc", O_DIRECTORY);
    if (target < 0) {
        return stk_fail(err, STK_STEP_PROC, errno, "/proc in the new root");
    }
    int rc = stk_mount_new_fs_at(target, &proc, STK_STEP_PROC, "move_mount", "/proc", err);
    stk_close_fd(&target);
    return rc;
}

/* path equals base or lies below it (both canonical, see spec.c). */
static bool is_under(const char *path, const char *base)
{
    size_t n = stk_strlen(base);
    return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * A missing mount point may be created only inside a tmpfs this spec mounted: that
 * filesystem is the sandbox's own and holds nothing but what pid 1 put there. Everything else
 * is the host's (read-only clone or a bind) and is never changed. The filesystem a path lies
 * on is the deepest mount applied so far that contains it (a later one on the same path wins,
 * it is on top).
 */
static bool may_create(const struct stk_plan *p, size_t index, const char *dst)
{
    const struct stk_mount *deepest = NULL;
    size_t deepest_len = 0;
    for (size_t j = 0; j < index; j++) {
        const struct stk_mount *m = &p->spec->mounts[j];
        size_t len = stk_strlen(m->dst);
        if (is_under(dst, m->dst) && len >= deepest_len) {
            deepest = m;
            deepest_len = len;
        }
    }
    return deepest != NULL && deepest->type == STK_MOUNT_TMPFS;
}

static int check_kind(int fd, bool want_dir, enum stk_step step, const char *dst,
                      struct stk_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return stk_fail_on(err, step, errno, "stat", dst);
    }
    if (S_ISDIR(st.st_mode) != want_dir) {
        return stk_fail_on(err, step, want_dir ? ENOTDIR : EISDIR,
                           want_dir ? "source is a directory, target is not:"
                                    : "source is not a directory, target is:",
                           dst);
    }
    return 0;
}

static int create_mountpoint(int root, const char *dst, bool want_dir, enum stk_step step,
                             struct stk_error *err)
{
    char path[STK_MAX_MOUNT_PATH + 1];
    size_t len = stk_strlen(dst);
    memcpy(path, dst, len + 1);
    int parent = root;
    size_t start = 1;
    for (;;) {
        size_t end = start;
        while (path[end] != '\0' && path[end] != '/') {
            end++;
        }
        bool last = path[end] == '\0';
        char saved_char = path[end];
        path[end] = '\0';
        int fd = stk_mount_open_in_root(root, path, last ? 0 : O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            const char *name = path + start;
            int rc;
            if (!last || want_dir) {
                rc = mkdirat(parent, name, 0755);
            } else {
                int file = openat(parent, name,
                                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                rc = file < 0 ? -1 : 0;
                stk_close_fd(&file);
            }
            fd = rc < 0 ? -1 : stk_mount_open_in_root(root, path, last ? 0 : O_DIRECTORY);
        }
        if (parent != root) {
            stk_close_fd(&parent);
        }
        if (fd < 0) {
            return stk_fail_on(err, step, errno, "creating the mount point", path);
        }
        if (last) {
            return fd;
        }
        path[end] = saved_char;
        parent = fd;
        start = end + 1;
    }
}

static int open_mountpoint(int root, const struct stk_plan *p, size_t index, bool want_dir,
                           enum stk_step step, struct stk_error *err)
{
    const char *dst = p->spec->mounts[index].dst;
    int fd = stk_mount_open_in_root(root, dst, 0);
    if (fd < 0) {
        if (errno != ENOENT) {
            return stk_fail_on(err, step, errno, "target", dst);
        }
        if (!may_create(p, index, dst)) {
            return stk_fail_on(err, step, ENOENT, "target does not exist in the sandbox:", dst);
        }
        fd = create_mountpoint(root, dst, want_dir, step, err);
        if (fd < 0) {
            return -1;
        }
    }
    if (check_kind(fd, want_dir, step, dst, err) < 0) {
        stk_close_fd(&fd);
    }
    return fd;
}

static int apply_bind(int root, struct stk_plan *p, size_t i, struct stk_error *err)
{
    const struct stk_mount *m = &p->spec->mounts[i];
    struct stat st;
    if (fstat(p->mount_fds[i], &st) < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno, "stat source", m->src);
    }
    int target = open_mountpoint(root, p, i, S_ISDIR(st.st_mode), STK_STEP_BIND, err);
    if (target < 0) {
        return -1;
    }
    int rc = 0;
    if (stk_mount_attach(p->mount_fds[i], target) < 0) {
        rc = stk_fail_on(err, STK_STEP_BIND, errno, "move_mount to", m->dst);
    }
    stk_close_fd(&target);
    if (rc == 0) {
        stk_close_fd(&p->mount_fds[i]);
    }
    return rc;
}

static int apply_tmpfs(int root, const struct stk_plan *p, size_t i, struct stk_error *err)
{
    const struct stk_mount *m = &p->spec->mounts[i];
    int target = open_mountpoint(root, p, i, true, STK_STEP_TMPFS, err);
    if (target < 0) {
        return -1;
    }
    struct stk_tmpfs_bounds bounds;
    stk_mount_tmpfs_bounds(m->size, &bounds);
    const char *const options[] = {"mode", "1777", "size", bounds.size,
                                   "nr_inodes", bounds.inodes, NULL};
    const struct stk_new_fs tmpfs = {"tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    int rc = stk_mount_new_fs_at(target, &tmpfs, STK_STEP_TMPFS, "move_mount to", m->dst, err);
    stk_close_fd(&target);
    return rc;
}

/* pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
 * detaches the old root (resolution of "." moves up the stack of mounts on /). */
static int pivot(int root, struct stk_error *err)
{
    if (fchdir(root) < 0) {
        return stk_fail(err, STK_STEP_PIVOT_ROOT, errno, "fchdir to the new root");
    }
    if (syscall(SYS_pivot_root, ".", ".") < 0) {
        return stk_fail(err, STK_STEP_PIVOT_ROOT, errno, "pivot_root");
    }
    if (umount2(".", MNT_DETACH) < 0) {
        return stk_fail(err, STK_STEP_PIVOT_ROOT, errno, "detaching the old root");
    }
    if (chdir("/") < 0) {
        return stk_fail(err, STK_STEP_PIVOT_ROOT, errno, "chdir /");
    }
    return 0;
}

static int apply_spec_mounts(int root, struct stk_plan *p, struct stk_error *err)
{
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        int rc = p->spec->mounts[i].type == STK_MOUNT_BIND ? apply_bind(root, p, i, err)
                                                           : apply_tmpfs(root, p, i, err);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

int stk_mounts_setup(struct stk_plan *p, struct stk_error *err)
{
    int nodes[STK_DEV_NODE_COUNT];
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        nodes[i] = -1; /* every exit below closes them */
    }
    int root = -1;
    int rc = -1;
    /* Nothing done from here on may propagate back to the host's mounts. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        stk_fail(err, STK_STEP_MOUNT_PRIVATE, errno, "mount / MS_REC|MS_PRIVATE");
        goto out;
    }
    /* Every host path is resolved before STAGING covers anything: a bind source under /tmp
     * must be the host's, not the staging view's. A root caller's binds are open already
     * (the monitor opened them, binds.h); an unprivileged caller's are opened here. */
    if (!p->caller_root && stk_binds_open_in_pid1(p, err) < 0) {
        goto out;
    }
    /* The host's device nodes, while /dev is still the host's. */
    if (stk_dev_clone_nodes(nodes, err) < 0) {
        goto out;
    }
    /* The new root: everything below is attached inside it. */
    root = clone_root(err);
    if (root < 0) {
        goto out;
    }
    /* A fresh /proc shows the sandbox's pids only with its own pid namespace; without one the
     * clone's (read-only) /proc stays. */
    if (p->new_pid && mount_proc(root, err) < 0) {
        goto out;
    }
    if (stk_dev_mount(root, nodes, p->spec, err) < 0) {
        goto out;
    }
    /* The spec's mounts after /proc and /dev, in the spec's order: a later one may lie below
     * an earlier one (a bind below a tmpfs). */
    if (apply_spec_mounts(root, p, err) < 0) {
        goto out;
    }
    /* Last: pivoting leaves the host's paths behind. */
    rc = pivot(root, err);
out:
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        stk_close_fd(&nodes[i]);
    }
    stk_close_fd(&root);
    return rc;
}
