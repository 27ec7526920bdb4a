#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stockade.h"

/*
 * Only the new mount API is used (open_tree, mount_setattr, fsopen/fsmount, move_mount):
 * mounts copied from the host into a namespace owned by a new user namespace have locked
 * flags, and mount(MS_REMOUNT|MS_BIND) has to restate all of them while mount_setattr only
 * adds what it is given. Paths inside the new root are opened with RESOLVE_IN_ROOT, so a
 * symlink in the host tree (/lib -> usr/lib, or an absolute one) resolves inside the new root
 * and never escapes to the staging view.
 */

/* Where the root clone is attached until pivot_root. Any existing directory works: the mount
 * namespace is private by then (nothing propagates to the host), and pivot_root(".", ".")
 * needs no put_old directory inside the read-only clone. */
#define STAGING "/tmp"

/* /dev holds six nodes, two directories and five links: a few inodes are all it needs. */
#define DEV_SIZE "1048576"
#define DEV_INODES "64"

/* size= and nr_inodes= of a tmpfs of size bytes (stockade.h: STK_TMPFS_BYTES_PER_INODE). */
struct tmpfs_bounds {
    char size[21];
    char inodes[21];
};

static void tmpfs_bounds(uint64_t size, struct tmpfs_bounds *b)
{
    uint64_t inodes = size / STK_TMPFS_BYTES_PER_INODE;
    if (inodes < STK_TMPFS_MIN_INODES) {
        inodes = STK_TMPFS_MIN_INODES;
    }
    stk_format_u64(b->size, size);
    stk_format_u64(b->inodes, inodes);
}

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define DEV_NODE_COUNT (sizeof dev_nodes / sizeof dev_nodes[0])

static int open_in_root(int root, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* Every tree is made private as it gets its flags: a clone of a shared host mount would
 * otherwise join the host's peer group, and mounts made below it inside the sandbox would
 * propagate back to the host and outlive the sandbox. */
static int set_attrs(int fd, unsigned int at_flags, uint64_t attrs, int userns_fd)
{
    struct mount_attr a;
    memset(&a, 0, sizeof a);
    a.attr_set = attrs;
    a.propagation = MS_PRIVATE;
    if (userns_fd >= 0) {
        a.attr_set |= MOUNT_ATTR_IDMAP;
        a.userns_fd = (uint64_t)userns_fd;
    }
    return mount_setattr(fd, "", AT_EMPTY_PATH | at_flags, &a, sizeof a);
}

static int attach(int mount_fd, int target_fd)
{
    return move_mount(mount_fd, "", target_fd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* The source is resolved without following any symlink: a link planted by an earlier
 * sandbox in a directory it could write (the workspace) must not redirect a later bind to a
 * host path the caller never named. The Java side rejects such paths up front; this closes the
 * window between that check and the mount. */
static int open_source(const char *src)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS;
    int path_fd = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof how);
    if (path_fd < 0) {
        return -1;
    }
    int fd = open_tree(path_fd, "",
                       AT_EMPTY_PATH | OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
    int saved = errno;
    close(path_fd);
    errno = saved;
    return fd;
}

/* A socket or a FIFO under a read-only bind can still be connected to or written: such a
 * source must be asked for (STK_MOUNT_SPECIAL). Checked on the opened tree, so the file that
 * is bound is the file that was checked. */
static int check_special(int fd, const struct stk_mount *m, struct stk_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno, "stat source", m->src);
    }
    if ((S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)) && (m->flags & STK_MOUNT_SPECIAL) == 0) {
        return stk_fail_on(err, STK_STEP_BIND, EPERM,
                           "source is a socket or FIFO, which the spec did not allow:", m->src);
    }
    return 0;
}

static int open_bind(const struct stk_mount *m, int idmap_userns_fd, struct stk_error *err)
{
    int fd = open_source(m->src);
    if (fd < 0) {
        int saved = errno;
        return stk_fail_on(err, STK_STEP_BIND, saved,
                           saved == ELOOP ? "source goes through a symbolic link" : "source",
                           m->src);
    }
    if (check_special(fd, m, err) < 0) {
        close(fd);
        return -1;
    }
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (m->flags & STK_MOUNT_READONLY) {
        attrs |= MOUNT_ATTR_RDONLY;
    }
    /* Only binds that ask for it are idmapped, and only read-only ones (spec.c). The idmap
     * shows host root's files as the sandbox user's: root-only sockets and FIFOs in the tree
     * would become reachable, so it is never implied. Through a writable idmapped bind the
     * sandbox would create files owned by host root and could chmod them set-user-ID. */
    if (idmap_userns_fd >= 0 && (m->flags & STK_MOUNT_IDMAP)) {
        if (set_attrs(fd, AT_RECURSIVE, attrs, idmap_userns_fd) == 0) {
            return fd;
        }
        /* A filesystem without idmap support says EINVAL (EOPNOTSUPP on some); the plain
         * bind below is then used: files keep their host owners, so the sandbox user can do
         * less with them, never more. Anything else is a real failure. */
        if (errno != EINVAL && errno != EOPNOTSUPP) {
            int saved = errno;
            close(fd);
            return stk_fail_on(err, STK_STEP_IDMAP, saved, "mount_setattr(MOUNT_ATTR_IDMAP)", m->src);
        }
    }
    if (set_attrs(fd, AT_RECURSIVE, attrs, -1) < 0) {
        int saved = errno;
        close(fd);
        return stk_fail_on(err, STK_STEP_BIND, saved, "mount_setattr", m->src);
    }
    return fd;
}

int stk_mounts_open_binds(struct stk_plan *p, int idmap_userns_fd, struct stk_error *err)
{
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        const struct stk_mount *m = &p->spec->mounts[i];
        if (m->type != STK_MOUNT_BIND || p->mount_fds[i] >= 0) {
            continue;
        }
        int fd = open_bind(m, idmap_userns_fd, err);
        if (fd < 0) {
            return -1;
        }
        p->mount_fds[i] = fd;
    }
    return 0;
}

/* A fresh filesystem, detached. options: key/value pairs, NULL value = flag, NULL key ends. */
static int new_fs(const char *type, const char *const *options, unsigned int attrs,
                  enum stk_step step, struct stk_error *err)
{
    int fs = fsopen(type, FSOPEN_CLOEXEC);
    if (fs < 0) {
        return stk_fail_on(err, step, errno, "fsopen", type);
    }
    for (size_t i = 0; options != NULL && options[i] != NULL; i += 2) {
        int rc = options[i + 1] == NULL
                     ? fsconfig(fs, FSCONFIG_SET_FLAG, options[i], NULL, 0)
                     : fsconfig(fs, FSCONFIG_SET_STRING, options[i], options[i + 1], 0);
        if (rc < 0) {
            int saved = errno;
            close(fs);
            stk_fail_on(err, step, saved, "fsconfig", type);
            stk_error_append(err, " ");
            stk_error_append(err, options[i]);
            return -1;
        }
    }
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int saved = errno;
        close(fs);
        return stk_fail_on(err, step, saved, "fsconfig(FSCONFIG_CMD_CREATE)", type);
    }
    int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
    int saved = errno;
    close(fs);
    if (mnt < 0) {
        return stk_fail_on(err, step, saved, "fsmount", type);
    }
    return mnt;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* The host's device nodes, cloned before the root view hides them. Not nodev: these are the
 * only device files the sandbox can open. */
static int clone_dev_nodes(int fds[DEV_NODE_COUNT], struct stk_error *err)
{
    char path[16];
    for (size_t i = 0; i < DEV_NODE_COUNT; i++) {
        memcpy(path, "/dev/", 5);
        memcpy(path + 5, dev_nodes[i], stk_strlen(dev_nodes[i]) + 1);
        fds[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fds[i] < 0 || set_attrs(fds[i], 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, -1) < 0) {
            int saved = errno;
            close_all(fds, i + 1);
            return stk_fail_on(err, STK_STEP_DEV, saved, "clone", path);
        }
    }
    return 0;
}

/* The host's mount tree, recursively, read-only, nosuid, nodev, attached at STAGING. */
static int clone_root(struct stk_error *err)
{
    int root = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
    if (root < 0) {
        return stk_fail(err, STK_STEP_MOUNT_ROOT, errno, "open_tree /");
    }
    if (set_attrs(root, AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                  -1) < 0) {
        int saved = errno;
        close(root);
        return stk_fail(err, STK_STEP_MOUNT_ROOT, saved, "mount_setattr / read-only,nosuid,nodev");
    }
    if (move_mount(root, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        int saved = errno;
        close(root);
        return stk_fail(err, STK_STEP_MOUNT_ROOT, saved, "move_mount to " STAGING);
    }
    return root;
}

static int mount_proc(int root, struct stk_error *err)
{
    int target = open_in_root(root, "/proc", O_DIRECTORY);
    if (target < 0) {
        return stk_fail(err, STK_STEP_PROC, errno, "/proc in the new root");
    }
    int proc = new_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                      STK_STEP_PROC, err);
    int rc = 0;
    if (proc < 0) {
        rc = -1;
    } else if (attach(proc, target) < 0) {
        rc = stk_fail(err, STK_STEP_PROC, errno, "move_mount /proc");
    }
    if (proc >= 0) {
        close(proc);
    }
    close(target);
    return rc;
}

static int dev_fail(struct stk_error *err, const char *what, const char *name)
{
    return stk_fail_on(err, STK_STEP_DEV, errno, what, name);
}

/* /dev's content; dev is the attached tmpfs's mount fd. */
static int populate_dev(int dev, const int nodes[DEV_NODE_COUNT], const struct stk_spec *spec,
                        struct stk_error *err)
{
    for (size_t i = 0; i < DEV_NODE_COUNT; i++) {
        int f = openat(dev, dev_nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0666);
        if (f < 0) {
            return dev_fail(err, "create", dev_nodes[i]);
        }
        close(f);
        int target = openat(dev, dev_nodes[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0) {
            return dev_fail(err, "open", dev_nodes[i]);
        }
        int rc = attach(nodes[i], target);
        int saved = errno;
        close(target);
        if (rc < 0) {
            errno = saved;
            return dev_fail(err, "move_mount", dev_nodes[i]);
        }
    }
    if (mkdirat(dev, "pts", 0755) < 0) {
        return dev_fail(err, "mkdir", "pts");
    }
    /* max= bounds this instance's ptys: without it one sandbox can take the kernel's whole
     * pty budget (kernel.pty.max) and the next one, or the host, gets ENOSPC. */
    char pty_max[21];
    stk_format_u64(pty_max, spec->pty_max);
    const char *const pts_options[] = {"newinstance", NULL, "ptmxmode", "0666", "mode", "0620",
                                       spec->has_pty_max ? "max" : NULL, pty_max, NULL};
    int pts = new_fs("devpts", pts_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, STK_STEP_DEV, err);
    if (pts < 0) {
        return -1;
    }
    int target = openat(dev, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = target < 0 ? -1 : attach(pts, target);
    int saved = errno;
    close(pts);
    if (target >= 0) {
        close(target);
    }
    if (rc < 0) {
        errno = saved;
        return dev_fail(err, "mount devpts at", "pts");
    }
    if (mkdirat(dev, "shm", 0755) < 0) {
        return dev_fail(err, "mkdir", "shm");
    }
    struct tmpfs_bounds shm_bounds;
    tmpfs_bounds(STK_DEV_SHM_SIZE, &shm_bounds);
    const char *const shm_options[] = {"mode", "1777", "size", shm_bounds.size,
                                       "nr_inodes", shm_bounds.inodes, NULL};
    int shm = new_fs("tmpfs", shm_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, STK_STEP_DEV, err);
    if (shm < 0) {
        return -1;
    }
    target = openat(dev, "shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    rc = target < 0 ? -1 : attach(shm, target);
    saved = errno;
    close(shm);
    if (target >= 0) {
        close(target);
    }
    if (rc < 0) {
        errno = saved;
        return dev_fail(err, "mount tmpfs at", "shm");
    }
    static const char *const links[][2] = {
        {"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"}, {"stdin", "fd/0"},
        {"stdout", "fd/1"},   {"stderr", "fd/2"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        if (symlinkat(links[i][1], dev, links[i][0]) < 0) {
            return dev_fail(err, "symlink", links[i][0]);
        }
    }
    return 0;
}

static int mount_dev(int root, const int nodes[DEV_NODE_COUNT], const struct stk_spec *spec,
                     struct stk_error *err)
{
    int target = open_in_root(root, "/dev", O_DIRECTORY);
    if (target < 0) {
        return stk_fail(err, STK_STEP_DEV, errno, "/dev in the new root");
    }
    static const char *const options[] = {"mode", "0755", "size", DEV_SIZE,
                                          "nr_inodes", DEV_INODES, NULL};
    int dev = new_fs("tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, STK_STEP_DEV, err);
    if (dev < 0) {
        close(target);
        return -1;
    }
    int rc = attach(dev, target);
    int saved = errno;
    close(target);
    if (rc < 0) {
        close(dev);
        return stk_fail(err, STK_STEP_DEV, saved, "move_mount /dev");
    }
    rc = populate_dev(dev, nodes, spec, err);
    /* Read-only once populated: only this mount, the binds and pts/shm below keep theirs. */
    if (rc == 0 && set_attrs(dev, 0, MOUNT_ATTR_RDONLY, -1) < 0) {
        rc = stk_fail(err, STK_STEP_DEV, errno, "mount_setattr /dev read-only");
    }
    close(dev);
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
        int fd = open_in_root(root, path, last ? 0 : O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            const char *name = path + start;
            int rc;
            if (!last || want_dir) {
                rc = mkdirat(parent, name, 0755);
            } else {
                rc = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0644);
                if (rc >= 0) {
                    close(rc);
                }
            }
            fd = rc < 0 ? -1 : open_in_root(root, path, last ? 0 : O_DIRECTORY);
        }
        if (fd < 0) {
            int saved = errno;
            if (parent != root) {
                close(parent);
            }
            return stk_fail_on(err, step, saved, "creating the mount point", path);
        }
        if (parent != root) {
            close(parent);
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
    int fd = open_in_root(root, dst, 0);
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
        close(fd);
        return -1;
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
    int rc = attach(p->mount_fds[i], target);
    int saved = errno;
    close(target);
    if (rc < 0) {
        return stk_fail_on(err, STK_STEP_BIND, saved, "move_mount to", m->dst);
    }
    close(p->mount_fds[i]);
    p->mount_fds[i] = -1;
    return 0;
}

static int apply_tmpfs(int root, const struct stk_plan *p, size_t i, struct stk_error *err)
{
    const struct stk_mount *m = &p->spec->mounts[i];
    int target = open_mountpoint(root, p, i, true, STK_STEP_TMPFS, err);
    if (target < 0) {
        return -1;
    }
    struct tmpfs_bounds bounds;
    tmpfs_bounds(m->size, &bounds);
    const char *options[] = {"mode", "1777", "size", bounds.size, "nr_inodes", bounds.inodes,
                             NULL};
    int fs = new_fs("tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, STK_STEP_TMPFS, err);
    int rc = 0;
    if (fs < 0) {
        rc = -1;
    } else if (attach(fs, target) < 0) {
        rc = stk_fail_on(err, STK_STEP_TMPFS, errno, "move_mount to", m->dst);
    }
    if (fs >= 0) {
        close(fs);
    }
    close(target);
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

int stk_mounts_setup(struct stk_plan *p, struct stk_error *err)
{
    /* Nothing done from here on may propagate back to the host's mounts. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        return stk_fail(err, STK_STEP_MOUNT_PRIVATE, errno, "mount / MS_REC|MS_PRIVATE");
    }
    /* Every host path is resolved before STAGING covers anything: a bind source under /tmp
     * must be the host's, not the staging view's. */
    if (stk_mounts_open_binds(p, -1, err) < 0) {
        return -1;
    }
    int nodes[DEV_NODE_COUNT];
    if (clone_dev_nodes(nodes, err) < 0) {
        return -1;
    }
    int root = clone_root(err);
    int rc = root < 0 ? -1 : 0;
    if (rc == 0 && p->new_pid) {
        rc = mount_proc(root, err);
    }
    if (rc == 0) {
        rc = mount_dev(root, nodes, p->spec, err);
    }
    for (size_t i = 0; rc == 0 && i < p->spec->mount_count; i++) {
        rc = p->spec->mounts[i].type == STK_MOUNT_BIND ? apply_bind(root, p, i, err)
                                                       : apply_tmpfs(root, p, i, err);
    }
    if (rc == 0) {
        rc = pivot(root, err);
    }
    close_all(nodes, DEV_NODE_COUNT);
    if (root >= 0) {
        close(root);
    }
    return rc;
}
