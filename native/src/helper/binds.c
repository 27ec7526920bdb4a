#include "binds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "overlay.h"
#include "progress.h"
#include "stockade.h"
#include "userns.h"

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
    stk_close_fd(&path_fd);
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

/* Idmaps the tree through a user namespace made for map; a filesystem without idmap support
 * says EINVAL (EOPNOTSUPP on some): 1 is returned and the caller uses the plain bind, which
 * only ever grants less. 0 when idmapped, -1 on a real failure. */
static int try_idmap(int fd, uint64_t attrs, const struct stk_idmap *map, int userns,
                     const struct stk_mount *m, struct stk_error *err)
{
    int own = -1;
    if (userns < 0) {
        if (stk_userns_idmap(map, &own, err) < 0) {
            return -1;
        }
        userns = own;
    }
    int rc = stk_mount_set_attrs(fd, AT_RECURSIVE, attrs, userns);
    int saved = errno;
    stk_close_fd(&own);
    if (rc == 0) {
        return 0;
    }
    if (saved != EINVAL && saved != EOPNOTSUPP) {
        return stk_fail_on(err, STK_STEP_IDMAP, saved, "mount_setattr(MOUNT_ATTR_IDMAP)",
                           m->src);
    }
    return 1;
}

/* The owner of the opened tree's root as the monitor finds it, mapped to the sandbox user:
 * what the command writes is stored as that owner's. */
static int owner_map(int fd, const struct stk_plan *p, const struct stk_mount *m,
                     struct stk_idmap *map, struct stk_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno, "stat source", m->src);
    }
    *map = (struct stk_idmap){st.st_uid, st.st_gid, p->host_uid, p->host_gid};
    return 0;
}

/* Only binds that ask for it are idmapped, and only a root caller's (plan.c). IDMAP (read-only,
 * spec.c) shows host root's files as the sandbox user's: root-only sockets and FIFOs in the
 * tree would become reachable, so it is never implied. IDMAP_OWNER (writable, spec.c: needs
 * the set-id guard) makes the source's owner the sandbox user. */
static int set_bind_attrs(int fd, const struct stk_plan *p, const struct stk_mount *m,
                          int idmap_userns_fd, struct stk_error *err)
{
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (m->flags & STK_MOUNT_READONLY) {
        attrs |= MOUNT_ATTR_RDONLY;
    }
    int rc = 1;
    if (idmap_userns_fd >= 0 && (m->flags & STK_MOUNT_IDMAP)) {
        rc = try_idmap(fd, attrs, NULL, idmap_userns_fd, m, err);
    } else if (p->caller_root && (m->flags & STK_MOUNT_IDMAP_OWNER)) {
        struct stk_idmap map;
        rc = owner_map(fd, p, m, &map, err) < 0 ? -1 : try_idmap(fd, attrs, &map, -1, m, err);
    }
    if (rc <= 0) {
        return rc;
    }
    if (stk_mount_set_attrs(fd, AT_RECURSIVE, attrs, -1) < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno, "mount_setattr", m->src);
    }
    return 0;
}

static int open_bind(const struct stk_plan *p, const struct stk_mount *m, int idmap_userns_fd,
                     struct stk_error *err)
{
    int fd = open_source(m->src);
    if (fd < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno,
                           errno == ELOOP ? "source goes through a symbolic link" : "source",
                           m->src);
    }
    if (check_special(fd, m, err) < 0 || set_bind_attrs(fd, p, m, idmap_userns_fd, err) < 0) {
        stk_close_fd(&fd);
    }
    return fd;
}

/* The monitor builds a root caller's overlays as host root and gives the upper layer's root to
 * the sandbox's host ids; pid 1 builds an unprivileged caller's, which its fs ids own. */
static int open_overlay(struct stk_plan *p, const struct stk_mount *m, bool in_monitor,
                        struct stk_error *err)
{
    struct stk_overlay_owner owner = {in_monitor, p->host_uid, p->host_gid};
    return stk_overlay_make(m, !in_monitor && p->new_user, &owner, &p->upper_fd, err);
}

static int open_all(struct stk_plan *p, int idmap_userns_fd, bool in_monitor,
                    struct stk_error *err)
{
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        const struct stk_mount *m = &p->spec->mounts[i];
        if (m->type == STK_MOUNT_BIND || m->type == STK_MOUNT_OVERLAY) {
            stk_progress_mount(m->type == STK_MOUNT_BIND ? STK_STEP_BIND : STK_STEP_OVERLAY, i);
        }
        if (m->type == STK_MOUNT_BIND) {
            p->mount_fds[i] = open_bind(p, m, idmap_userns_fd, err);
        } else if (m->type == STK_MOUNT_OVERLAY) {
            p->mount_fds[i] = open_overlay(p, m, in_monitor, err);
        } else {
            continue;
        }
        if (p->mount_fds[i] < 0) {
            return -1;
        }
    }
    return 0;
}

int stk_binds_open_in_monitor(struct stk_plan *p, struct stk_error *err)
{
    bool any = false;
    bool idmap = false;
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        any = any || p->spec->mounts[i].type == STK_MOUNT_BIND ||
              p->spec->mounts[i].type == STK_MOUNT_OVERLAY;
        idmap = idmap || (p->spec->mounts[i].flags & STK_MOUNT_IDMAP) != 0;
    }
    if (!any) {
        return 0;
    }
    int userns = -1;
    const struct stk_idmap root_files = {0, 0, p->host_uid, p->host_gid};
    if (idmap && stk_userns_idmap(&root_files, &userns, err) < 0) {
        return -1;
    }
    int rc = open_all(p, userns, true, err);
    stk_close_fd(&userns);
    return rc;
}

int stk_binds_open_in_pid1(struct stk_plan *p, struct stk_error *err)
{
    return open_all(p, -1, false, err);
}
