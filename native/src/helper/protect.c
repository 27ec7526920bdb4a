#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "stockade.h"

/* The writable BIND a PROTECT lies in (earlier PROTECTs on the way skipped: they are clones
 * of parts of it), or NULL. Only the sandbox's own writable view of the caller's files needs
 * protecting; anything else is read-only already, or the helper's (tmpfs, /proc, /dev), where
 * a pin means nothing. */
static const struct stk_mount *workspace_of(const struct stk_spec *spec, size_t index)
{
    const char *dst = spec->mounts[index].dst;
    for (size_t j = index; j-- > 0;) {
        const struct stk_mount *m = &spec->mounts[j];
        if (m->type == STK_MOUNT_PROTECT || m->type == STK_MOUNT_SYMLINK ||
            m->type == STK_MOUNT_FILE || !stk_mount_is_under(dst, m->dst)) {
            continue;
        }
        return m->type == STK_MOUNT_BIND && (m->flags & STK_MOUNT_READONLY) == 0 ? m : NULL;
    }
    return NULL;
}

int stk_protect_apply(int root, const struct stk_spec *spec, size_t index,
                      struct stk_error *err)
{
    const struct stk_mount *m = &spec->mounts[index];
    if (workspace_of(spec, index) == NULL) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL,
                           "not inside an earlier writable BIND:", m->dst);
    }
    /* O_NOFOLLOW: a link as the last component is the path to protect, never followed. */
    int fd = stk_mount_open_beneath(root, m->dst, O_NOFOLLOW);
    if (fd < 0) {
        return stk_fail_on(err, STK_STEP_PROTECT, errno,
                           errno == ELOOP ? "destination goes through a symbolic link"
                                          : "destination",
                           m->dst);
    }
    /* The clone of a path inside an idmapped mount keeps its idmapping; recursive, so that
     * what an earlier PROTECT put below stays (with the stricter flags set here). */
    int tree = open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | AT_RECURSIVE |
                                     OPEN_TREE_CLOEXEC);
    int rc = 0;
    if (tree < 0) {
        rc = stk_fail_on(err, STK_STEP_PROTECT, errno, "open_tree", m->dst);
    } else {
        uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (m->flags & STK_MOUNT_READONLY) {
            attrs |= MOUNT_ATTR_RDONLY;
        }
        if (stk_mount_set_attrs(tree, AT_RECURSIVE, attrs, -1) < 0) {
            rc = stk_fail_on(err, STK_STEP_PROTECT, errno, "mount_setattr", m->dst);
        } else if (stk_mount_attach(tree, fd) < 0) {
            rc = stk_fail_on(err, STK_STEP_PROTECT, errno, "move_mount onto", m->dst);
        }
    }
    stk_close_fd(&tree);
    stk_close_fd(&fd);
    return rc;
}

/* src's parent, opened without following any symbolic link; *name points at the last
 * component. src is absolute (spec.c); a last component that names no new entry is refused. */
static int open_parent(const char *src, const char **name, struct stk_error *err)
{
    const char *slash = strrchr(src, '/');
    *name = slash + 1;
    size_t parent_len = (size_t)(slash - src);
    if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0 ||
        parent_len >= STK_MAX_MOUNT_PATH) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL, "placeholder path", src);
    }
    char parent[STK_MAX_MOUNT_PATH + 1];
    memcpy(parent, src, parent_len);
    parent[parent_len == 0 ? 1 : parent_len] = '\0';
    if (parent_len == 0) {
        parent[0] = '/';
    }
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_DIRECTORY | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS;
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, parent, &how, sizeof how);
    if (fd < 0) {
        stk_fail_on(err, STK_STEP_PROTECT, errno,
                    errno == ELOOP ? "placeholder's parent goes through a symbolic link"
                                   : "placeholder's parent",
                    src);
    }
    return fd;
}

/* Creates the placeholder; 1 when made (st filled), 0 when src exists already, -1 on error. */
static int create_one(int parent, const char *name, bool directory, struct stat *st)
{
    if (directory) {
        if (mkdirat(parent, name, 0755) < 0) {
            return errno == EEXIST ? 0 : -1;
        }
        return fstatat(parent, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 1;
    }
    int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        return errno == EEXIST ? 0 : -1;
    }
    int rc = fstat(fd, st) < 0 ? -1 : 1;
    stk_close_fd(&fd);
    return rc;
}

/* A placeholder is made only at the host path of dst: src must be the workspace bind's source
 * followed by dst's path inside that bind. So a spec cannot have the monitor (host root, for a
 * root caller) create an empty file anywhere else. */
static bool src_matches_dst(const struct stk_spec *spec, size_t index)
{
    const struct stk_mount *m = &spec->mounts[index];
    const struct stk_mount *ws = workspace_of(spec, index);
    if (ws == NULL) {
        return false;
    }
    size_t src_len = stk_strlen(ws->src);
    const char *rest = m->dst + stk_strlen(ws->dst);
    return strncmp(m->src, ws->src, src_len) == 0 && strcmp(m->src + src_len, rest) == 0;
}

static int make_placeholder(const struct stk_spec *spec, size_t index,
                            struct stk_placeholders *ph, struct stk_error *err)
{
    const struct stk_mount *m = &spec->mounts[index];
    if (!src_matches_dst(spec, index)) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL,
                           "placeholder src is not dst's path in an earlier writable BIND:",
                           m->src);
    }
    const char *name;
    int parent = open_parent(m->src, &name, err);
    if (parent < 0) {
        return -1;
    }
    bool directory = (m->flags & STK_MOUNT_DIRECTORY) != 0;
    struct stat st;
    int made = create_one(parent, name, directory, &st);
    if (made < 0) {
        stk_fail_on(err, STK_STEP_PROTECT, errno, "creating the placeholder", m->src);
        stk_close_fd(&parent);
        return -1;
    }
    if (made == 0) {
        stk_close_fd(&parent);
        return 0;
    }
    struct stk_placeholder *p = &ph->items[ph->count++];
    p->parent = parent;
    p->name = name;
    p->directory = directory;
    p->dev = st.st_dev;
    p->ino = st.st_ino;
    return 0;
}

int stk_placeholders_create(const struct stk_spec *spec, struct stk_placeholders *ph,
                            struct stk_error *err)
{
    ph->items = NULL;
    ph->count = 0;
    size_t wanted = 0;
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct stk_mount *m = &spec->mounts[i];
        wanted += m->type == STK_MOUNT_PROTECT && (m->flags & STK_MOUNT_CREATE) != 0;
    }
    if (wanted == 0) {
        return 0;
    }
    ph->items = calloc(wanted, sizeof *ph->items);
    if (ph->items == NULL) {
        return stk_fail(err, STK_STEP_PROTECT, ENOMEM, "allocating the placeholder table");
    }
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct stk_mount *m = &spec->mounts[i];
        if (m->type == STK_MOUNT_PROTECT && (m->flags & STK_MOUNT_CREATE) != 0 &&
            make_placeholder(spec, i, ph, err) < 0) {
            return -1; /* the monitor's way out removes those made so far */
        }
    }
    return 0;
}

/* Still what the monitor made: same inode, same kind, and (a file) still empty; a directory
 * that is not empty any more makes unlinkat fail with ENOTEMPTY and stays. */
static bool unchanged(const struct stk_placeholder *p)
{
    struct stat st;
    if (fstatat(p->parent, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        return false;
    }
    if (st.st_dev != p->dev || st.st_ino != p->ino) {
        return false;
    }
    return p->directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && st.st_size == 0;
}

void stk_placeholders_remove(struct stk_placeholders *ph)
{
    if (ph == NULL) {
        return;
    }
    /* Deepest first: a placeholder directory may hold a later placeholder. */
    for (size_t i = ph->count; i-- > 0;) {
        struct stk_placeholder *p = &ph->items[i];
        if (unchanged(p)) {
            unlinkat(p->parent, p->name, p->directory ? AT_REMOVEDIR : 0);
        }
        stk_close_fd(&p->parent);
    }
    free(ph->items);
    ph->items = NULL;
    ph->count = 0;
}
