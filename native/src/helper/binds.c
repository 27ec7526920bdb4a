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

/* Only binds that ask for it are idmapped, and only read-only ones (spec.c). The idmap shows
 * host root's files as the sandbox user's: root-only sockets and FIFOs in the tree would become
 * reachable, so it is never implied. Through a writable idmapped bind the sandbox would create
 * files owned by host root and could chmod them set-user-ID. */
static int set_bind_attrs(int fd, const struct stk_mount *m, int idmap_userns_fd,
                          struct stk_error *err)
{
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (m->flags & STK_MOUNT_READONLY) {
        attrs |= MOUNT_ATTR_RDONLY;
    }
    if (idmap_userns_fd >= 0 && (m->flags & STK_MOUNT_IDMAP)) {
        if (stk_mount_set_attrs(fd, AT_RECURSIVE, attrs, idmap_userns_fd) == 0) {
            return 0;
        }
        /* A filesystem without idmap support says EINVAL (EOPNOTSUPP on some); the plain
         * bind below is then used: files keep their host owners, so the sandbox user can do
         * less with them, never more. Anything else is a real failure. */
        if (errno != EINVAL && errno != EOPNOTSUPP) {
            return stk_fail_on(err, STK_STEP_IDMAP, errno, "mount_setattr(MOUNT_ATTR_IDMAP)",
                               m->src);
        }
    }
    if (stk_mount_set_attrs(fd, AT_RECURSIVE, attrs, -1) < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno, "mount_setattr", m->src);
    }
    return 0;
}

static int open_bind(const struct stk_mount *m, int idmap_userns_fd, struct stk_error *err)
{
    int fd = open_source(m->src);
    if (fd < 0) {
        return stk_fail_on(err, STK_STEP_BIND, errno,
                           errno == ELOOP ? "source goes through a symbolic link" : "source",
                           m->src);
    }
    if (check_special(fd, m, err) < 0 || set_bind_attrs(fd, m, idmap_userns_fd, err) < 0) {
        stk_close_fd(&fd);
    }
    return fd;
}

static int open_all(struct stk_plan *p, int idmap_userns_fd, struct stk_error *err)
{
    for (size_t i = 0; i < p->spec->mount_count; i++) {
        if (p->spec->mounts[i].type != STK_MOUNT_BIND) {
            continue;
        }
        p->mount_fds[i] = open_bind(&p->spec->mounts[i], idmap_userns_fd, err);
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
        any = any || p->spec->mounts[i].type == STK_MOUNT_BIND;
        idmap = idmap || (p->spec->mounts[i].flags & STK_MOUNT_IDMAP) != 0;
    }
    if (!any) {
        return 0;
    }
    int userns = -1;
    if (idmap && stk_userns_idmap(p->host_uid, p->host_gid, &userns, err) < 0) {
        return -1;
    }
    int rc = open_all(p, userns, err);
    stk_close_fd(&userns);
    return rc;
}

int stk_binds_open_in_pid1(struct stk_plan *p, struct stk_error *err)
{
    return open_all(p, -1, err);
}
