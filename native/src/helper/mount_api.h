/*
 * The small steps every part of the sandbox's filesystem view is built from, all with the new
 * mount API (open_tree, mount_setattr, fsopen/fsmount, move_mount): why only that API, see
 * mounts.c. Used by binds.c, dev.c, files.c, overlay.c, protect.c and mounts.c. Async-signal-safe.
 */
#ifndef STK_MOUNT_API_H
#define STK_MOUNT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

/* Opens dst (a canonical absolute path, spec.c) inside the new root without following any
 * symbolic link: openat2(root, dst without its '/', O_PATH | flags, RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). A link anywhere on the way gives ELOOP; with
 * O_NOFOLLOW in flags a link as the last component is opened itself. Also opens "." (the root).
 * Returns the fd or -1 with errno. */
int stk_mount_open_beneath(int root, const char *dst, int flags);

/* The mount of spec->mounts[0..index) that dst lies on: the last one whose destination
 * equals dst or contains it (a later one is on top, whether below an earlier one or over it).
 * SYMLINK and FILE mounts hold no paths and are skipped. NULL: the root tmpfs, /proc or /dev. */
const struct stk_mount *stk_mount_covering(const struct stk_spec *spec, size_t index,
                                           const char *dst);

/* path equals base or lies below it (both canonical). */
bool stk_mount_is_under(const char *path, const char *base);

/* Sets attrs (MOUNT_ATTR_*) on the detached or attached tree fd and makes it private; with
 * userns_fd >= 0 also idmaps it through that user namespace. at_flags: 0 or AT_RECURSIVE.
 * Returns 0 or -1 with errno. */
int stk_mount_set_attrs(int fd, unsigned int at_flags, uint64_t attrs, int userns_fd);

/* Attaches the detached tree mount_fd on the directory or file target_fd. 0 or -1 with errno. */
int stk_mount_attach(int mount_fd, int target_fd);

/* A fresh filesystem: its type, its fsconfig options (key/value pairs, NULL value = flag, NULL
 * key ends; NULL = none) and the MOUNT_ATTR_* of its mount. */
struct stk_new_fs {
    const char *type;
    const char *const *options;
    unsigned int attrs;
};

/* Creates fs as a detached mount and returns its fd; -1 with err filled as step on failure. */
int stk_mount_new_fs(const struct stk_new_fs *fs, enum stk_step step, struct stk_error *err);

/* New filesystem, attached at target (which the caller keeps), its mount fd closed again.
 * An attach failure is reported as step with the detail "<what> <subject>". Returns 0 or -1. */
int stk_mount_new_fs_at(int target, const struct stk_new_fs *fs, enum stk_step step,
                        const char *what, const char *subject, struct stk_error *err);

/* size= and nr_inodes= of a tmpfs of size bytes (stockade.h: STK_TMPFS_BYTES_PER_INODE). */
struct stk_tmpfs_bounds {
    char size[21];
    char inodes[21];
};
void stk_mount_tmpfs_bounds(uint64_t size, struct stk_tmpfs_bounds *b);

#endif
