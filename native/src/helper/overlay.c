#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "stockade.h"
#include "userns.h"

/* As a bind source (binds.c): a link planted in a directory a sandbox could write must not
 * redirect the layer to a host path the caller never named. */
static int open_lower(const char *src)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_DIRECTORY | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS;
    return (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof how);
}

/*
 * A root caller's overlay is built by the monitor as host root, but the command (the sandbox's
 * host ids, no capabilities) is checked against the lower files' own owners: root's 0644 files
 * and 0750 directories would be unwritable or unreadable through the overlay. So the lower
 * layer is a detached clone idmapped like a writable bind (IDMAP_OWNER): the layer's owner
 * appears as the sandbox user. Nothing is ever written to a lower layer, so the idmap grants
 * no write to the host; what the command makes lands in the upper tmpfs, nosuid, and is gone
 * with the sandbox. Replaces *lower with the clone; a filesystem that cannot be idmapped keeps
 * the plain layer (less access, never more). */
static int idmap_lower(int *lower, const struct stk_overlay_owner *owner,
                       const struct stk_mount *m, struct stk_error *err)
{
    struct stat st;
    if (fstat(*lower, &st) < 0) {
        return stk_fail_on(err, STK_STEP_OVERLAY, errno, "stat lower layer", m->src);
    }
    int tree = open_tree(*lower, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | AT_RECURSIVE |
                                         OPEN_TREE_CLOEXEC);
    if (tree < 0) {
        return stk_fail_on(err, STK_STEP_OVERLAY, errno, "open_tree lower layer", m->src);
    }
    const struct stk_idmap map = {st.st_uid, st.st_gid, owner->uid, owner->gid};
    int userns = -1;
    if (stk_userns_idmap(&map, &userns, err) < 0) {
        stk_close_fd(&tree);
        return -1;
    }
    int rc = stk_mount_set_attrs(tree, AT_RECURSIVE,
                                 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, userns);
    int saved = errno;
    stk_close_fd(&userns);
    if (rc < 0) {
        stk_close_fd(&tree);
        if (saved == EINVAL || saved == EOPNOTSUPP) {
            return 0;
        }
        return stk_fail_on(err, STK_STEP_IDMAP, saved, "mount_setattr(MOUNT_ATTR_IDMAP) lower",
                           m->src);
    }
    stk_close_fd(lower);
    *lower = tree;
    return 0;
}

/* upper and work: directories of one fresh tmpfs that is never attached anywhere. Returns the
 * tmpfs's mount fd, which must stay open until the overlay is created: overlayfs takes a
 * layer of a detached tree only while that tree is still mounted (its last fd keeps it). */
static int make_upper(const struct stk_mount *m, const struct stk_overlay_owner *owner,
                      int *upper, int *work, struct stk_error *err)
{
    struct stk_tmpfs_bounds bounds;
    stk_mount_tmpfs_bounds(m->size, &bounds);
    const char *const options[] = {"mode", "0755", "size", bounds.size,
                                   "nr_inodes", bounds.inodes, NULL};
    const struct stk_new_fs tmpfs = {"tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    int fs = stk_mount_new_fs(&tmpfs, STK_STEP_OVERLAY, err);
    if (fs < 0) {
        return -1;
    }
    int rc = 0;
    if (mkdirat(fs, "upper", 0755) < 0 || mkdirat(fs, "work", 0700) < 0) {
        rc = stk_fail_on(err, STK_STEP_OVERLAY, errno, "mkdir upper/work for", m->dst);
    } else if (owner->chown_upper &&
               fchownat(fs, "upper", owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) < 0) {
        rc = stk_fail_on(err, STK_STEP_OVERLAY, errno, "chown upper for", m->dst);
    } else {
        *upper = openat(fs, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        *work = openat(fs, "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (*upper < 0 || *work < 0) {
            rc = stk_fail_on(err, STK_STEP_OVERLAY, errno, "open upper/work for", m->dst);
        }
    }
    if (rc < 0) {
        stk_close_fd(&fs);
    }
    return fs;
}

static int set_layer(int fs, const char *key, int fd, const struct stk_mount *m,
                     struct stk_error *err)
{
    if (fsconfig(fs, FSCONFIG_SET_FD, key, NULL, fd) < 0) {
        stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsconfig overlay", key);
        stk_error_append(err, " of ");
        stk_error_append(err, m->dst);
        return -1;
    }
    return 0;
}

/* A transactional upper layer is read after the sandbox, by code that knows only whiteouts
 * and opaque directories: no redirect (a renamed lower directory is EXDEV and tools copy it),
 * no metacopy (a chmod copies the data up too), no index (hard links of lower files are not
 * tracked in the work directory). Set explicitly, whatever the module's defaults; nofollow is
 * the one redirect mode that userxattr accepts. */
static int configure_transactional(int fs, const struct stk_mount *m, struct stk_error *err)
{
    static const char *const options[] = {"redirect_dir", "nofollow", "metacopy", "off",
                                          "index", "off", NULL};
    for (size_t i = 0; options[i] != NULL; i += 2) {
        if (fsconfig(fs, FSCONFIG_SET_STRING, options[i], options[i + 1], 0) < 0) {
            stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsconfig overlay", options[i]);
            stk_error_append(err, " of ");
            stk_error_append(err, m->dst);
            return -1;
        }
    }
    return 0;
}

static int configure(int fs, int lower, int upper, int work, bool in_userns,
                     const struct stk_mount *m, struct stk_error *err)
{
    if (set_layer(fs, "lowerdir+", lower, m, err) < 0 ||
        set_layer(fs, "upperdir", upper, m, err) < 0 ||
        set_layer(fs, "workdir", work, m, err) < 0) {
        return -1;
    }
    if (in_userns && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) {
        return stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsconfig overlay userxattr", m->dst);
    }
    if ((m->flags & STK_MOUNT_TRANSACTIONAL) != 0 && configure_transactional(fs, m, err) < 0) {
        return -1;
    }
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        return stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsconfig(FSCONFIG_CMD_CREATE) overlay",
                           m->dst);
    }
    return 0;
}

int stk_overlay_make(const struct stk_mount *m, bool in_userns,
                     const struct stk_overlay_owner *owner, int *kept_upper,
                     struct stk_error *err)
{
    int lower = open_lower(m->src);
    if (lower < 0) {
        return stk_fail_on(err, STK_STEP_OVERLAY, errno,
                           errno == ELOOP ? "lower layer goes through a symbolic link"
                                          : "lower layer",
                           m->src);
    }
    if (owner->chown_upper && idmap_lower(&lower, owner, m, err) < 0) {
        stk_close_fd(&lower);
        return -1;
    }
    int upper = -1, work = -1, fs = -1, mnt = -1;
    int upper_fs = make_upper(m, owner, &upper, &work, err);
    if (upper_fs >= 0) {
        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0) {
            stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsopen overlay for", m->dst);
        } else if (configure(fs, lower, upper, work, in_userns, m, err) == 0) {
            mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
            if (mnt < 0) {
                stk_fail_on(err, STK_STEP_OVERLAY, errno, "fsmount overlay for", m->dst);
            } else if (stk_mount_set_attrs(mnt, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, -1) < 0) {
                stk_fail_on(err, STK_STEP_OVERLAY, errno, "mount_setattr overlay", m->dst);
                stk_close_fd(&mnt);
            } else if ((m->flags & STK_MOUNT_TRANSACTIONAL) != 0) {
                /* The upper directory's fd keeps the detached tmpfs usable after its mount fd
                 * is closed and the sandbox's namespaces are gone. */
                *kept_upper = fcntl(upper, F_DUPFD_CLOEXEC, 0);
                if (*kept_upper < 0) {
                    stk_fail_on(err, STK_STEP_TRANSACTIONAL, errno, "keeping the upper layer of",
                                m->dst);
                    stk_close_fd(&mnt);
                }
            }
        }
    }
    stk_close_fd(&fs);
    stk_close_fd(&upper_fs);
    stk_close_fd(&work);
    stk_close_fd(&upper);
    stk_close_fd(&lower);
    return mnt;
}
