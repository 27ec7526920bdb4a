#include "protect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "progress.h"
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
        /* A transactional workspace is the caller's files too: what is protected there must
         * stay so in the overlay (the commit also leaves those paths alone). */
        bool writable_bind = m->type == STK_MOUNT_BIND && (m->flags & STK_MOUNT_READONLY) == 0;
        bool transactional = m->type == STK_MOUNT_OVERLAY &&
                             (m->flags & STK_MOUNT_TRANSACTIONAL) != 0;
        return writable_bind || transactional ? m : NULL;
    }
    return NULL;
}

static bool is_transactional(const struct stk_mount *ws)
{
    return ws != NULL && ws->type == STK_MOUNT_OVERLAY;
}

/* The directory's times as they were before a placeholder was made in it or removed from it:
 * a parent below the overlay's root is a copy in the upper layer, whose time the commit sets on
 * the host. Protection does not depend on it, so a directory whose times cannot be set (one
 * the sandbox user does not own, for an unprivileged caller) just keeps the new time. */
static void keep_times(int dir, const struct stat *before)
{
    const struct timespec times[2] = {before->st_atim, before->st_mtim};
    utimensat(dir, "", times, AT_EMPTY_PATH);
}

/* An empty 0644 file (O_CREAT|O_EXCL|O_NOFOLLOW) or, with DIRECTORY, a 0755 directory.
 * 0 or -1 with errno (EEXIST: something is there). */
static int make_entry(int parent, const char *name, uint32_t flags)
{
    if (flags & STK_MOUNT_DIRECTORY) {
        return mkdirat(parent, name, 0755);
    }
    int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    stk_close_fd(&fd);
    return rc;
}

/* A missing protected path of a transactional workspace is made in pid 1, through the overlay
 * (so in its upper layer), never on the host: the real workspace is only read while the step
 * runs. Made before the command exists and covered read-only by the caller right after, so
 * the step can neither create nor replace it; the monitor removes it from the upper layer
 * once the sandbox is gone (stk_placeholders_remove_from_upper). EEXIST: the lower layer has
 * the path by now (another sandbox's host placeholder, or the user made it after the Java
 * side's walk), which is then protected as it is. */
static int create_in_overlay_in_pid1(int root, const struct stk_mount *m, struct stk_error *err)
{
    const char *slash = strrchr(m->dst, '/');
    size_t parent_len = (size_t)(slash - m->dst);
    char parent_path[STK_MAX_MOUNT_PATH + 1];
    memcpy(parent_path, m->dst, parent_len); /* dst lies below the overlay: parent_len > 0 */
    parent_path[parent_len] = '\0';
    int parent = stk_mount_open_beneath(root, parent_path, O_DIRECTORY);
    if (parent < 0) {
        return stk_fail_on(err, STK_STEP_PROTECT, errno,
                           errno == ELOOP ? "destination goes through a symbolic link"
                                          : "the protected path's parent in the overlay:",
                           m->dst);
    }
    struct stat before;
    int rc = fstat(parent, &before) < 0 ? -1 : make_entry(parent, slash + 1, m->flags);
    int saved = errno;
    if (rc == 0) {
        keep_times(parent, &before);
    }
    stk_close_fd(&parent);
    if (rc < 0 && saved != EEXIST) {
        return stk_fail_on(err, STK_STEP_PROTECT, saved,
                           "creating the placeholder in the overlay", m->dst);
    }
    return 0;
}

/* The id of the mount fd lies on (STATX_MNT_ID), and (root not NULL) whether fd, or path
 * below it, is that mount's root; -1 with errno. */
static int mount_of(int fd, const char *path, uint64_t *id, bool *root)
{
    struct statx stx;
    int flags = (path[0] == '\0' ? AT_EMPTY_PATH : 0) | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT;
    if (statx(fd, path, flags, STATX_MNT_ID, &stx) < 0) {
        return -1;
    }
    if ((stx.stx_mask & STATX_MNT_ID) == 0 ||
        (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
        errno = ENOSYS;
        return -1;
    }
    *id = stx.stx_mnt_id;
    if (root != NULL) {
        *root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    }
    return 0;
}

int stk_protect_apply(int root, const struct stk_spec *spec, size_t index, uint64_t *mount_id,
                      struct stk_error *err)
{
    const struct stk_mount *m = &spec->mounts[index];
    const struct stk_mount *ws = workspace_of(spec, index);
    if (ws == NULL) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL,
                           "not inside an earlier writable BIND:", m->dst);
    }
    if (is_transactional(ws) && (m->flags & STK_MOUNT_CREATE) != 0 &&
        create_in_overlay_in_pid1(root, m, err) < 0) {
        return -1;
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
        } else if (mount_of(tree, "", mount_id, NULL) < 0) {
            rc = stk_fail_on(err, STK_STEP_PROTECT, errno, "statx of the mount on", m->dst);
        }
    }
    stk_close_fd(&tree);
    stk_close_fd(&fd);
    return rc;
}

_Static_assert(STK_WARM_STALE_ERRNO == ESTALE, "stockade.h names ESTALE");

int stk_protect_verify(const struct stk_spec *spec, const uint64_t *mount_ids,
                       struct stk_error *err)
{
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct stk_mount *m = &spec->mounts[i];
        if (m->type != STK_MOUNT_PROTECT) {
            continue;
        }
        uint64_t id;
        bool is_root;
        if (mount_of(AT_FDCWD, m->dst, &id, &is_root) < 0 || id != mount_ids[i] || !is_root) {
            return stk_fail_on(err, STK_STEP_PROTECT, STK_WARM_STALE_ERRNO,
                               "the path is not covered any more (moved or removed on the host"
                               " while the warm sandbox waited):",
                               m->dst);
        }
    }
    return 0;
}

/* The mark of a placeholder: an extended attribute the monitor sets on each entry it creates,
 * so that a later monitor knows one that a monitor killed with SIGKILL left behind (or that
 * another sandbox still running made) from the user's own empty file. Defined here and
 * nowhere else: it is no part of the wire between Java and the helper (the Java side sees a
 * left-over placeholder as an existing path and sends a PROTECT for it; only the helper writes
 * and reads the mark). A "user." attribute: the only namespace an unprivileged caller's monitor
 * may write on its own files. The value is compared exactly; an entry is adopted only while
 * empty, so a forged mark can at most get an empty entry removed. */
#define PLACEHOLDER_XATTR "user.stockade.placeholder"
#define PLACEHOLDER_MARK "1"

/* src's parent, opened without following any symbolic link, readable (flock needs an open
 * file description: O_PATH has none); *name points at the last component. src is absolute
 * (spec.c); a last component that names no new entry is refused. */
static int open_parent(const char *src, const char **name, struct stk_error *err)
{
    const char *slash = strrchr(src, '/');
    *name = slash + 1;
    size_t parent_len = (size_t)(slash - src);
    if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0 ||
        parent_len >= STK_MAX_MOUNT_PATH) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL, "protected path", src);
    }
    char parent[STK_MAX_MOUNT_PATH + 1];
    memcpy(parent, src, parent_len);
    parent[parent_len == 0 ? 1 : parent_len] = '\0';
    if (parent_len == 0) {
        parent[0] = '/';
    }
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS;
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, parent, &how, sizeof how);
    if (fd < 0) {
        stk_fail_on(err, STK_STEP_PROTECT, errno,
                    errno == ELOOP ? "destination goes through a symbolic link (its parent on "
                                     "the host):"
                                   : "the protected path's parent:",
                    src);
    }
    return fd;
}

/* Held for the sandbox's whole life: a monitor removes a placeholder only under an exclusive
 * lock of its parent (stk_placeholders_remove), so none that this sandbox's mount covers goes:
 * unlinking a mount point that lives only in another mount namespace succeeds and detaches that
 * mount, which would leave the path open in this sandbox. Blocking: an exclusive holder is a
 * monitor removing its placeholders, which takes no longer than the unlinks. */
static int lock_shared(int parent, const char *src, struct stk_error *err)
{
    while (flock(parent, LOCK_SH) < 0) {
        if (errno != EINTR) {
            return stk_fail_on(err, STK_STEP_PROTECT, errno,
                               "locking the protected path's parent:", src);
        }
    }
    return 0;
}

/* Creates src's entry (an empty 0644 file with O_CREAT|O_EXCL|O_NOFOLLOW, or a 0755 directory)
 * and returns an fd of it with st filled, or -1 with errno (EEXIST: something is there). */
static int create_entry(int parent, const char *name, bool directory, struct stat *st)
{
    int fd;
    if (directory) {
        if (mkdirat(parent, name, 0755) < 0) {
            return -1;
        }
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } else {
        fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd >= 0 && fstat(fd, st) < 0) {
        stk_close_fd(&fd);
    }
    return fd;
}

/* A filesystem without user extended attributes (ENOTSUP) gets an unmarked placeholder: it
 * protects the same, but one left behind by a SIGKILLed monitor is then the user's. */
static int mark(int fd, const char *src, struct stk_error *err)
{
    if (fsetxattr(fd, PLACEHOLDER_XATTR, PLACEHOLDER_MARK, sizeof PLACEHOLDER_MARK - 1,
                  XATTR_CREATE) == 0 ||
        errno == ENOTSUP) {
        return 0;
    }
    return stk_fail_on(err, STK_STEP_PROTECT, errno, "marking the placeholder", src);
}

static bool dir_is_empty(int *fd)
{
    DIR *d = fdopendir(*fd);
    if (d == NULL) {
        return false;
    }
    *fd = -1; /* closedir closes it */
    bool empty = true;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL) {
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    }
    closedir(d);
    return empty;
}

/* A placeholder some monitor made: a regular file or a directory carrying the mark, and empty.
 * Only those two kinds are opened (no device is ever opened by host root), without following a
 * link, and the opened inode is the one looked at. st is filled. */
static bool is_placeholder(int parent, const char *name, struct stat *st)
{
    struct stat before;
    if (fstatat(parent, name, &before, AT_SYMLINK_NOFOLLOW) < 0 ||
        !(S_ISREG(before.st_mode) || S_ISDIR(before.st_mode))) {
        return false;
    }
    int fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    char value[sizeof PLACEHOLDER_MARK];
    ssize_t n = fgetxattr(fd, PLACEHOLDER_XATTR, value, sizeof value);
    bool result = n == (ssize_t)(sizeof PLACEHOLDER_MARK - 1) &&
                  memcmp(value, PLACEHOLDER_MARK, (size_t)n) == 0 && fstat(fd, st) == 0 &&
                  st->st_dev == before.st_dev && st->st_ino == before.st_ino &&
                  (S_ISREG(st->st_mode) ? st->st_size == 0 : dir_is_empty(&fd));
    stk_close_fd(&fd);
    return result;
}

/* The host path of dst: src must be the workspace bind's source followed by dst's path inside
 * that bind. So a spec cannot have the monitor (host root, for a root caller) create, lock or
 * remove an entry anywhere else. */
static bool src_matches_dst(const struct stk_mount *m, const struct stk_mount *ws)
{
    size_t src_len = stk_strlen(ws->src);
    const char *rest = m->dst + stk_strlen(ws->dst);
    return strncmp(m->src, ws->src, src_len) == 0 && strcmp(m->src + src_len, rest) == 0;
}

static void record(struct stk_placeholder *p, const struct stat *st)
{
    p->placeholder = true;
    p->directory = S_ISDIR(st->st_mode);
    p->dev = st->st_dev;
    p->ino = st->st_ino;
}

/* One PROTECT: its parent opened and locked shared (p->parent), then, with CREATE, a missing
 * src made and marked; a src that is a placeholder (marked, empty) adopted, with or without
 * CREATE. If another monitor removed a placeholder between the Java side's walk and the lock
 * here, a PROTECT without CREATE finds nothing at dst and this sandbox fails closed at step
 * "protect" in pid 1 (ENOENT); one with CREATE makes its own. */
static int hold_one(const struct stk_spec *spec, size_t index, struct stk_placeholder *p,
                    struct stk_error *err)
{
    const struct stk_mount *m = &spec->mounts[index];
    const struct stk_mount *ws = workspace_of(spec, index);
    if (ws == NULL) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL,
                           "not inside an earlier writable BIND:", m->dst);
    }
    if (!src_matches_dst(m, ws)) {
        return stk_fail_on(err, STK_STEP_PROTECT, EINVAL,
                           "PROTECT src is not dst's path in an earlier writable BIND:", m->src);
    }
    p->parent = open_parent(m->src, &p->name, err);
    if (p->parent < 0 || lock_shared(p->parent, m->src, err) < 0) {
        return -1;
    }
    /* A transactional workspace is only read: pid 1 makes a missing path in the overlay, and
     * a placeholder found here stays for a direct sandbox to remove. The lock still keeps one
     * that the lower layer shows from being removed while this sandbox covers it. */
    if (is_transactional(ws)) {
        return 0;
    }
    struct stat st;
    if (m->flags & STK_MOUNT_CREATE) {
        int fd = create_entry(p->parent, p->name, (m->flags & STK_MOUNT_DIRECTORY) != 0, &st);
        if (fd >= 0) {
            record(p, &st); /* before the mark: removed on the way out if marking fails */
            int rc = mark(fd, m->src, err);
            stk_close_fd(&fd);
            return rc;
        }
        if (errno != EEXIST) {
            return stk_fail_on(err, STK_STEP_PROTECT, errno, "creating the placeholder", m->src);
        }
    }
    if (is_placeholder(p->parent, p->name, &st)) {
        record(p, &st);
    }
    return 0;
}

int stk_placeholders_create(const struct stk_spec *spec, struct stk_placeholders *ph,
                            struct stk_error *err)
{
    ph->items = NULL;
    ph->count = 0;
    size_t wanted = 0;
    for (size_t i = 0; i < spec->mount_count; i++) {
        wanted += spec->mounts[i].type == STK_MOUNT_PROTECT;
    }
    if (wanted == 0) {
        return 0;
    }
    ph->items = calloc(wanted, sizeof *ph->items);
    if (ph->items == NULL) {
        return stk_fail(err, STK_STEP_PROTECT, ENOMEM, "allocating the placeholder table");
    }
    for (size_t i = 0; i < spec->mount_count; i++) {
        if (spec->mounts[i].type != STK_MOUNT_PROTECT) {
            continue;
        }
        struct stk_placeholder *p = &ph->items[ph->count++];
        p->parent = -1;
        stk_progress_mount(STK_STEP_PROTECT, i);
        if (hold_one(spec, i, p, err) < 0) {
            return -1; /* the monitor's way out removes those made so far */
        }
    }
    return 0;
}

/* Still what a monitor made: same inode, same kind, and (a file) still empty; a directory
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
    /* This sandbox is gone: its own shared locks go first, so that where two of its PROTECTs
     * share a parent (two open file descriptions, two locks) the exclusive lock below is
     * refused only by another sandbox still alive. */
    for (size_t i = 0; i < ph->count; i++) {
        if (ph->items[i].parent >= 0) {
            flock(ph->items[i].parent, LOCK_UN);
        }
    }
    /* Deepest first: a placeholder directory may hold a later placeholder. A placeholder
     * another live sandbox covers (its monitor holds the parent shared) stays, marked: the
     * last sandbox relying on it removes it. */
    for (size_t i = ph->count; i-- > 0;) {
        struct stk_placeholder *p = &ph->items[i];
        if (p->placeholder && flock(p->parent, LOCK_EX | LOCK_NB) == 0) {
            if (unchanged(p)) {
                unlinkat(p->parent, p->name, p->directory ? AT_REMOVEDIR : 0);
            }
            flock(p->parent, LOCK_UN);
        }
        stk_close_fd(&p->parent);
    }
    free(ph->items);
    ph->items = NULL;
    ph->count = 0;
}

/* rel: the placeholder's path below the overlay's root. Only what pid 1 made can be there: an
 * empty file or directory, covered read-only for the whole step (a path the lower layer had
 * instead has no entry in the upper layer: the step could not copy it up). */
static void remove_one_from_upper(int upper, const char *rel, bool directory)
{
    const char *slash = strrchr(rel, '/');
    const char *name = slash == NULL ? rel : slash + 1;
    char parent_path[STK_MAX_MOUNT_PATH + 1];
    size_t parent_len = slash == NULL ? 0 : (size_t)(slash - rel);
    memcpy(parent_path, rel, parent_len);
    parent_path[parent_len] = '\0';
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_DIRECTORY | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int parent = (int)syscall(SYS_openat2, upper, parent_len == 0 ? "." : parent_path, &how,
                              sizeof how);
    struct stat before, st;
    if (parent >= 0 && fstat(parent, &before) == 0 &&
        fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && st.st_size == 0) &&
        unlinkat(parent, name, directory ? AT_REMOVEDIR : 0) == 0) {
        keep_times(parent, &before);
    }
    stk_close_fd(&parent);
}

void stk_placeholders_remove_from_upper(const struct stk_spec *spec, int upper)
{
    if (upper < 0) {
        return;
    }
    /* Deepest first, as on the host. */
    for (size_t i = spec->mount_count; i-- > 0;) {
        const struct stk_mount *m = &spec->mounts[i];
        if (m->type != STK_MOUNT_PROTECT || (m->flags & STK_MOUNT_CREATE) == 0) {
            continue;
        }
        const struct stk_mount *ws = workspace_of(spec, i);
        if (is_transactional(ws)) {
            remove_one_from_upper(upper, m->dst + stk_strlen(ws->dst) + 1,
                                  (m->flags & STK_MOUNT_DIRECTORY) != 0);
        }
    }
}
