#include "dev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "stockade.h"

/* /dev holds six nodes, two directories and five links: a few inodes are all it needs. */
#define DEV_SIZE "1048576"
#define DEV_INODES "64"

static const char *const dev_nodes[STK_DEV_NODE_COUNT] = {"null",   "zero",    "full",
                                                          "random", "urandom", "tty"};

static int dev_fail(struct stk_error *err, const char *what, const char *name)
{
    return stk_fail_on(err, STK_STEP_DEV, errno, what, name);
}

int stk_dev_clone_nodes(int fds[STK_DEV_NODE_COUNT], struct stk_error *err)
{
    char path[16];
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        fds[i] = -1;
    }
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        memcpy(path, "/dev/", 5);
        memcpy(path + 5, dev_nodes[i], stk_strlen(dev_nodes[i]) + 1);
        fds[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fds[i] < 0 ||
            stk_mount_set_attrs(fds[i], 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, -1) < 0) {
            dev_fail(err, "clone", path);
            for (size_t j = 0; j <= i; j++) {
                stk_close_fd(&fds[j]);
            }
            return -1;
        }
    }
    return 0;
}

/* One node: an empty file as the mount point, the host's node attached on it. */
static int add_node(int dev, const char *name, int node, struct stk_error *err)
{
    int f = openat(dev, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0) {
        return dev_fail(err, "create", name);
    }
    stk_close_fd(&f);
    int target = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0) {
        return dev_fail(err, "open", name);
    }
    int rc = 0;
    if (stk_mount_attach(node, target) < 0) {
        rc = dev_fail(err, "move_mount", name);
    }
    stk_close_fd(&target);
    return rc;
}

/* A directory of /dev with a fresh filesystem on it (pts, shm). */
static int add_fs_dir(int dev, const char *name, const struct stk_new_fs *fs, const char *what,
                      struct stk_error *err)
{
    if (mkdirat(dev, name, 0755) < 0) {
        return dev_fail(err, "mkdir", name);
    }
    int target = openat(dev, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0) {
        return dev_fail(err, what, name);
    }
    int rc = stk_mount_new_fs_at(target, fs, STK_STEP_DEV, what, name, err);
    stk_close_fd(&target);
    return rc;
}

/* /dev's content; dev is the attached tmpfs's mount fd. */
static int populate_dev(int dev, const int nodes[STK_DEV_NODE_COUNT], const struct stk_spec *spec,
                        struct stk_error *err)
{
    for (size_t i = 0; i < STK_DEV_NODE_COUNT; i++) {
        if (add_node(dev, dev_nodes[i], nodes[i], err) < 0) {
            return -1;
        }
    }
    /* max= bounds this instance's ptys: without it one sandbox can take the kernel's whole
     * pty budget (kernel.pty.max) and the next one, or the host, gets ENOSPC. */
    char pty_max[21];
    stk_format_u64(pty_max, spec->pty_max);
    const char *const pts_options[] = {"newinstance", NULL, "ptmxmode", "0666", "mode", "0620",
                                       spec->has_pty_max ? "max" : NULL, pty_max, NULL};
    const struct stk_new_fs pts = {"devpts", pts_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};
    if (add_fs_dir(dev, "pts", &pts, "mount devpts at", err) < 0) {
        return -1;
    }
    struct stk_tmpfs_bounds shm_bounds;
    stk_mount_tmpfs_bounds(STK_DEV_SHM_SIZE, &shm_bounds);
    const char *const shm_options[] = {"mode", "1777", "size", shm_bounds.size,
                                       "nr_inodes", shm_bounds.inodes, NULL};
    const struct stk_new_fs shm = {"tmpfs", shm_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (add_fs_dir(dev, "shm", &shm, "mount tmpfs at", err) < 0) {
        return -1;
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

int stk_dev_mount(int root, const int nodes[STK_DEV_NODE_COUNT], const struct stk_spec *spec,
                  struct stk_error *err)
{
    static const char *const options[] = {"mode", "0755", "size", DEV_SIZE,
                                          "nr_inodes", DEV_INODES, NULL};
    static const struct stk_new_fs tmpfs = {"tmpfs", options,
                                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};
    int target = stk_mount_open_beneath(root, "/dev", O_DIRECTORY);
    if (target < 0) {
        return stk_fail(err, STK_STEP_DEV, errno, "/dev in the new root");
    }
    /* Attached before it is populated (the mount fd then reaches it as a directory), and kept
     * open to make it read-only afterwards: the one new filesystem not closed at once. */
    int dev = stk_mount_new_fs(&tmpfs, STK_STEP_DEV, err);
    int rc = dev < 0 ? -1 : 0;
    if (rc == 0 && stk_mount_attach(dev, target) < 0) {
        rc = stk_fail_on(err, STK_STEP_DEV, errno, "move_mount", "/dev");
    }
    stk_close_fd(&target);
    if (rc == 0) {
        rc = populate_dev(dev, nodes, spec, err);
    }
    /* Read-only once populated: only this mount, the binds and pts/shm below keep theirs. */
    if (rc == 0 && stk_mount_set_attrs(dev, 0, MOUNT_ATTR_RDONLY, -1) < 0) {
        rc = stk_fail(err, STK_STEP_DEV, errno, "mount_setattr /dev read-only");
    }
    stk_close_fd(&dev);
    return rc;
}
