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
#include "cgroup.h"
#include "dev.h"
#include "fd.h"
#include "files.h"
#include "mount_api.h"
#include "progress.h"
#include "protect.h"
#include "stockade.h"

/*
 * Only the new mount API is used (open_tree, mount_setattr, fsopen/fsmount, move_mount):
 * mounts copied from the host into a namespace owned by a new user namespace have locked
 * flags, and mount(MS_REMOUNT|MS_BIND) has to restate all of them while mount_setattr only
 * adds what it is given.
 *
 * The sandbox's root is a fresh tmpfs: nothing of the host is in the view unless the spec
 * mounts it. Destinations are resolved inside it without following any symbolic link
 * (stk_mount_open_beneath): the view is built from trees the sandbox may have written before
 * (a workspace bound in an earlier run), and a link planted there must not move a mount to
 * another path. The steps themselves are in mount_api.c, the bind and overlay sources in
 * binds.c and overlay.c, /dev in dev.c, FILE mounts in files.c, PROTECT in protect.c.
 */

/* Where the root tmpfs is attached until pivot_root. Any existing directory works: the mount
 * namespace is private by then (nothing propagates to the host), and pivot_root(".", ".")
 * needs no put_old directory. */
#define STAGING "/tmp"

/* What the steps share: the root tmpfs and the FILE mounts' tmpfs, both closed on the one
 * way out of stk_mounts_setup. */
struct view {
    struct stk_plan *plan;
    int root;
    int files; /* -1 without FILE mounts */
};

static int fail_dst(struct stk_error *err, enum stk_step step, int e, const char *dst)
{
    return stk_fail_on(err, step, e,
                       e == ELOOP ? "destination goes through a symbolic link" : "destination",
                       dst);
}

/* The FILE mounts' tmpfs (files.c), attached at STAGING before the root is: beneath it, so
 * that pivoting leaves it in the old root, whose detach takes it too. Left detached, it would
 * be dissolved by a detach of its own when its fd closes, and every detach of mounts waits for
 * an RCU grace period in the kernel (namespace_unlock: ~70 us here, on pid 1's path). */
static int make_files(const struct stk_spec *spec, struct stk_error *err)
{
    int files = stk_files_fs(spec, err);
    if (files >= 0 && move_mount(files, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        stk_fail(err, STK_STEP_FILE, errno, "move_mount to " STAGING);
        stk_close_fd(&files);
    }
    return files;
}

/* A fresh tmpfs (mode 0755, nosuid, nodev), attached at STAGING; its mount fd is the root. */
static int make_root(struct stk_error *err)
{
    struct stk_tmpfs_bounds bounds;
    stk_mount_tmpfs_bounds(STK_ROOT_TMPFS_SIZE, &bounds);
    const char *const options[] = {"mode", "0755", "size", bounds.size,
                                   "nr_inodes", bounds.inodes, NULL};
    const struct stk_new_fs tmpfs = {"tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    int root = stk_mount_new_fs(&tmpfs, STK_STEP_MOUNT_ROOT, err);
    if (root >= 0 && move_mount(root, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "move_mount to " STAGING);
        stk_close_fd(&root);
    }
    return root;
}

/* A fresh /proc shows the sandbox's pids only with its own pid namespace (and only then may
 * it be mounted); without one the host's /proc is bound read-only, as the host shows it. */
static int mount_proc(int root, bool new_pid, struct stk_error *err)
{
    if (mkdirat(root, "proc", 0755) < 0) {
        return stk_fail(err, STK_STEP_PROC, errno, "mkdir /proc in the new root");
    }
    int target = stk_mount_open_beneath(root, "/proc", O_DIRECTORY);
    if (target < 0) {
        return stk_fail(err, STK_STEP_PROC, errno, "/proc in the new root");
    }
    int rc = 0;
    if (new_pid) {
        static const struct stk_new_fs proc = {
            "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
        rc = stk_mount_new_fs_at(target, &proc, STK_STEP_PROC, "move_mount", "/proc", err);
    } else {
        int tree = open_tree(AT_FDCWD, "/proc",
                             OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
        if (tree < 0 ||
            stk_mount_set_attrs(tree, AT_RECURSIVE,
                                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                    MOUNT_ATTR_NOEXEC,
                                -1) < 0 ||
            stk_mount_attach(tree, target) < 0) {
            rc = stk_fail(err, STK_STEP_PROC, errno, "binding the host's /proc read-only");
        }
        stk_close_fd(&tree);
    }
    stk_close_fd(&target);
    return rc;
}

static int mount_dev(int root, const int nodes[STK_DEV_NODE_COUNT], const struct stk_spec *spec,
                     struct stk_error *err)
{
    if (mkdirat(root, "dev", 0755) < 0) {
        return stk_fail(err, STK_STEP_DEV, errno, "mkdir /dev in the new root");
    }
    return stk_dev_mount(root, nodes, spec, err);
}

/*
 * A missing mount point (and its missing parents) may be created only on a filesystem that is
 * the sandbox's own and holds nothing but what pid 1 put there: the root tmpfs, or a TMPFS of
 * the spec. Never on a host bind, an overlay (its upper would hold it, but the lower is the
 * host's tree), /proc or /dev. The filesystem a path lies on is the deepest mount applied so
 * far that contains it (stk_mount_covering).
 */
static bool may_create(const struct stk_spec *spec, size_t index, const char *dst)
{
    const struct stk_mount *m = stk_mount_covering(spec, index, dst);
    if (m == NULL) {
        return !stk_mount_is_under(dst, "/proc") && !stk_mount_is_under(dst, "/dev");
    }
    return m->type == STK_MOUNT_TMPFS;
}

/* Opens (creating what is missing, 0755) every directory on the way to dst's last component
 * and returns the parent's fd; *name points at the last component inside dst. */
static int open_parent(int root, const char *dst, const char **name, enum stk_step step,
                       struct stk_error *err)
{
    char path[STK_MAX_MOUNT_PATH + 1];
    size_t len = stk_strlen(dst);
    memcpy(path, dst, len + 1);
    int parent = stk_mount_open_beneath(root, "/", O_DIRECTORY);
    if (parent < 0) {
        return stk_fail(err, step, errno, "the new root");
    }
    size_t start = 1;
    for (;;) {
        size_t end = start;
        while (path[end] != '\0' && path[end] != '/') {
            end++;
        }
        if (path[end] == '\0') {
            *name = dst + start;
            return parent;
        }
        path[end] = '\0';
        int fd = stk_mount_open_beneath(root, path, O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            fd = mkdirat(parent, path + start, 0755) < 0
                     ? -1
                     : stk_mount_open_beneath(root, path, O_DIRECTORY);
        }
        stk_close_fd(&parent);
        if (fd < 0) {
            return fail_dst(err, step, errno, path);
        }
        path[end] = '/';
        parent = fd;
        start = end + 1;
    }
}

static int create_mountpoint(int root, const char *dst, bool want_dir, enum stk_step step,
                             struct stk_error *err)
{
    const char *name;
    int parent = open_parent(root, dst, &name, step, err);
    if (parent < 0) {
        return -1;
    }
    int rc;
    if (want_dir) {
        rc = mkdirat(parent, name, 0755);
    } else {
        int file = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0644);
        rc = file < 0 ? -1 : 0;
        stk_close_fd(&file);
    }
    stk_close_fd(&parent);
    if (rc < 0) {
        return stk_fail_on(err, step, errno, "creating the mount point", dst);
    }
    int fd = stk_mount_open_beneath(root, dst, 0);
    return fd < 0 ? fail_dst(err, step, errno, dst) : fd;
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

static int open_mountpoint(const struct view *v, size_t index, bool want_dir,
                           enum stk_step step, struct stk_error *err)
{
    const struct stk_spec *spec = v->plan->spec;
    const char *dst = spec->mounts[index].dst;
    int fd = stk_mount_open_beneath(v->root, dst, 0);
    if (fd < 0) {
        if (errno != ENOENT) {
            return fail_dst(err, step, errno, dst);
        }
        if (!may_create(spec, index, dst)) {
            return stk_fail_on(err, step, ENOENT, "target does not exist in the sandbox:", dst);
        }
        fd = create_mountpoint(v->root, dst, want_dir, step, err);
        if (fd < 0) {
            return -1;
        }
    }
    if (check_kind(fd, want_dir, step, dst, err) < 0) {
        stk_close_fd(&fd);
    }
    return fd;
}

/* Attaches the detached tree at spec mount i's destination, and closes the tree. */
static int attach_tree(const struct view *v, size_t i, int *tree, enum stk_step step,
                       struct stk_error *err)
{
    const struct stk_mount *m = &v->plan->spec->mounts[i];
    struct stat st;
    if (fstat(*tree, &st) < 0) {
        return stk_fail_on(err, step, errno, "stat source", m->src);
    }
    int target = open_mountpoint(v, i, S_ISDIR(st.st_mode), step, err);
    if (target < 0) {
        return -1;
    }
    int rc = 0;
    if (stk_mount_attach(*tree, target) < 0) {
        rc = stk_fail_on(err, step, errno, "move_mount to", m->dst);
    }
    stk_close_fd(&target);
    stk_close_fd(tree);
    return rc;
}

static int apply_tmpfs(const struct view *v, size_t i, struct stk_error *err)
{
    const struct stk_mount *m = &v->plan->spec->mounts[i];
    int target = open_mountpoint(v, i, true, STK_STEP_TMPFS, err);
    if (target < 0) {
        return -1;
    }
    struct stk_tmpfs_bounds bounds;
    stk_mount_tmpfs_bounds(m->size, &bounds);
    /* PRIVATE (the home): the sandbox user's alone; its root is owned by pid 1's fs ids. */
    const char *mode = (m->flags & STK_MOUNT_PRIVATE) ? "0700" : "1777";
    const char *const options[] = {"mode", mode, "size", bounds.size,
                                   "nr_inodes", bounds.inodes, NULL};
    const struct stk_new_fs tmpfs = {"tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    int rc = stk_mount_new_fs_at(target, &tmpfs, STK_STEP_TMPFS, "move_mount to", m->dst, err);
    stk_close_fd(&target);
    return rc;
}

/* Only where a mount point could be created: the link is the sandbox's own entry, never one
 * added to a host tree. */
static int apply_symlink(const struct view *v, size_t i, struct stk_error *err)
{
    const struct stk_mount *m = &v->plan->spec->mounts[i];
    if (!may_create(v->plan->spec, i, m->dst)) {
        return stk_fail_on(err, STK_STEP_SYMLINK, EROFS,
                           "a symbolic link is made only in the root tmpfs or a TMPFS:", m->dst);
    }
    const char *name;
    int parent = open_parent(v->root, m->dst, &name, STK_STEP_SYMLINK, err);
    if (parent < 0) {
        return -1;
    }
    int rc = 0;
    if (symlinkat(m->src, parent, name) < 0) {
        rc = stk_fail_on(err, STK_STEP_SYMLINK, errno, "symlink", m->dst);
    }
    stk_close_fd(&parent);
    return rc;
}

static int apply_file(struct view *v, size_t i, struct stk_error *err)
{
    int tree = stk_files_make(v->files, v->plan->spec, i, err);
    if (tree < 0) {
        return -1;
    }
    int rc = attach_tree(v, i, &tree, STK_STEP_FILE, err);
    stk_close_fd(&tree);
    return rc;
}

/* The step each mount type fails with, for the progress page. */
static enum stk_step mount_step(uint32_t type)
{
    switch (type) {
    case STK_MOUNT_BIND: return STK_STEP_BIND;
    case STK_MOUNT_TMPFS: return STK_STEP_TMPFS;
    case STK_MOUNT_SYMLINK: return STK_STEP_SYMLINK;
    case STK_MOUNT_OVERLAY: return STK_STEP_OVERLAY;
    case STK_MOUNT_FILE: return STK_STEP_FILE;
    case STK_MOUNT_PROTECT: return STK_STEP_PROTECT;
    default: return STK_STEP_SPEC;
    }
}

static int apply_mount(struct view *v, size_t i, struct stk_error *err)
{
    struct stk_plan *p = v->plan;
    stk_progress_mount(mount_step(p->spec->mounts[i].type), i);
    switch (p->spec->mounts[i].type) {
    case STK_MOUNT_BIND: return attach_tree(v, i, &p->mount_fds[i], STK_STEP_BIND, err);
    case STK_MOUNT_TMPFS: return apply_tmpfs(v, i, err);
    case STK_MOUNT_SYMLINK: return apply_symlink(v, i, err);
    case STK_MOUNT_OVERLAY: return attach_tree(v, i, &p->mount_fds[i], STK_STEP_OVERLAY, err);
    case STK_MOUNT_FILE: return apply_file(v, i, err);
    case STK_MOUNT_PROTECT: return stk_protect_apply(v->root, p->spec, i, &p->mount_ids[i], err);
    default: return stk_fail(err, STK_STEP_SPEC, EINVAL, "unknown mount type");
    }
}

/* The root mount only: the mounts on it keep their own flags. */
static int root_read_only(int root, struct stk_error *err)
{
    if (stk_mount_set_attrs(root, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                            -1) < 0) {
        return stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "mount_setattr the root read-only");
    }
    return 0;
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

/*
 * The steps, in their fixed order; each says why it stands where it does (docs/protocol.md,
 * "Set-up order"). Every step fails closed with its own step name.
 */
static int build(struct view *v, int nodes[STK_DEV_NODE_COUNT], struct stk_error *err)
{
    struct stk_plan *p = v->plan;
    /* 1. Nothing done from here on may propagate back to the host's mounts. */
    stk_progress_step(STK_STEP_MOUNT_PRIVATE);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        return stk_fail(err, STK_STEP_MOUNT_PRIVATE, errno, "mount / MS_REC|MS_PRIVATE");
    }
    /* 2. Every host path is resolved before STAGING covers anything: a bind or overlay source
     * under /tmp must be the host's. A root caller's are open already (the monitor opened them,
     * binds.h); an unprivileged caller's are opened here, in the now private namespace. */
    if (!p->caller_root && stk_binds_open_in_pid1(p, err) < 0) {
        return -1;
    }
    /* 3. The host's device nodes, while /dev is still the host's. */
    stk_progress_step(STK_STEP_DEV);
    if (stk_dev_clone_nodes(nodes, err) < 0) {
        return -1;
    }
    /* 3a. The FILE mounts' tmpfs, before the root: beneath it at STAGING (make_files). */
    if (stk_files_any(p->spec)) {
        stk_progress_step(STK_STEP_FILE);
        v->files = make_files(p->spec, err);
        if (v->files < 0) {
            return -1;
        }
    }
    /* 4. The new root: everything below is attached inside it. */
    stk_progress_step(STK_STEP_MOUNT_ROOT);
    v->root = make_root(err);
    if (v->root < 0) {
        return -1;
    }
    /* 5, 6. /proc and /dev before the spec's mounts: their mount points are the helper's, and
     * a spec mount below /dev (a TMPFS at /dev/shm) lands on the helper's /dev. */
    stk_progress_step(STK_STEP_PROC);
    if (mount_proc(v->root, p->new_pid, err) < 0) {
        return -1;
    }
    stk_progress_step(STK_STEP_DEV); /* re-entered: the timings sum both parts */
    if (mount_dev(v->root, nodes, p->spec, err) < 0) {
        return -1;
    }
    /* 7. The spec's mounts in its order (shallowest first): a later one may lie below an
     * earlier one (a bind below a tmpfs, a PROTECT inside the workspace bind), and a PROTECT
     * must see the mounts it protects. */
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        if (apply_mount(v, i, err) < 0) {
            return -1;
        }
    }
    /* 7a. Over the host's /sys (bound by 7): the sandbox's own cgroups, read-only, so the step
     * sees its limits and nothing of the host's groups. */
    if (p->cgroup_view) {
        stk_progress_step(STK_STEP_CGROUP_NAMESPACE);
        if (stk_cgroup_view_in_pid1(p->cgroup, v->root, err) < 0) {
            return -1;
        }
    }
    /* 8. Once every mount point is made: the root holds nothing the sandbox may change. */
    stk_progress_step(STK_STEP_MOUNT_ROOT); /* re-entered, as the root's own */
    if (root_read_only(v->root, err) < 0) {
        return -1;
    }
    /* 9. Last: pivoting leaves the host's paths behind. */
    stk_progress_step(STK_STEP_PIVOT_ROOT);
    return pivot(v->root, err);
}

int stk_mounts_setup(struct stk_plan *p, struct stk_error *err)
{
    int nodes[STK_DEV_NODE_COUNT];
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        nodes[i] = -1; /* every exit below closes them */
    }
    struct view v = {.plan = p, .root = -1, .files = -1};
    int rc = build(&v, nodes, err);
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        stk_close_fd(&nodes[i]);
    }
    stk_close_fd(&v.files);
    stk_close_fd(&v.root);
    return rc;
}
