/*
 * PROTECT mounts (pid 1) and their placeholders (the monitor).
 *
 * A PROTECT binds a path of the view onto itself: read-only (a protected path such as
 * .git/hooks) or writable (a "pin": a directory that holds a protected path becomes a mount
 * point, so rename() or rmdir() of it gives EBUSY and it cannot be swapped for a copy the
 * sandbox made). A mount can be placed over a symbolic link (kernel 6.18, root and unprivileged,
 * with open_tree/move_mount on an O_PATH|O_NOFOLLOW fd): a protected link cannot be removed,
 * renamed or replaced, though what it points to is not protected by it.
 */
#ifndef STK_PROTECT_H
#define STK_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* In pid 1, inside the new root: protects spec->mounts[index]. Its destination must exist and
 * lie on an earlier writable BIND (or on a PROTECT of one), or in the TRANSACTIONAL overlay,
 * where a missing one with CREATE is made first, through the overlay. It is opened without
 * following any symbolic link (a link as its last component is protected itself). *mount_id
 * gets the new mount's id. Async-signal-safe. Step "protect". */
int stk_protect_apply(int root, const struct stk_spec *spec, size_t index, uint64_t *mount_id,
                      struct stk_error *err);

/* In a warm sandbox's pid 1, once its COMMAND came and before the command's fork, with the
 * view as its root: each PROTECT's destination must still be the root of the mount
 * stk_protect_apply made there (mount_ids), else STK_WARM_STALE_ERRNO (stockade.h). The mount
 * sits on the host's dentry of the path, so the host renaming it away moves the mount along,
 * and unlinking it detaches the mount; either leaves the path open in this sandbox, which
 * the Java side's fingerprint of the workspace cannot always see (a hard link put back in the
 * path's place is the same file). Async-signal-safe. Step "protect". */
int stk_protect_verify(const struct stk_spec *spec, const uint64_t *mount_ids,
                       struct stk_error *err);

/* One PROTECT as the monitor holds it: src's parent, locked shared for the sandbox's life, and
 * the placeholder at src this monitor made or adopted, if any. */
struct stk_placeholder {
    int parent;       /* src's parent directory (O_RDONLY), flock(LOCK_SH) held */
    const char *name; /* src's last component (points into the spec) */
    bool placeholder; /* made here, or found marked and empty: removed at the end if it can be */
    bool directory;
    dev_t dev;
    ino_t ino;
};

struct stk_placeholders {
    struct stk_placeholder *items;
    size_t count;
};

/* In the monitor, before the clone, for every PROTECT (src must be dst's host path: the source
 * of the writable BIND dst lies in, followed by dst's path inside it): opens src's parent with
 * RESOLVE_NO_SYMLINKS and takes flock(LOCK_SH) on it, held until stk_placeholders_remove; with
 * CREATE, a missing src is created (an empty 0644 file with O_CREAT|O_EXCL|O_NOFOLLOW, or a
 * 0755 directory) and marked with a user extended attribute (unmarked where the filesystem has
 * none); an existing src that is empty and marked is a placeholder of another monitor (alive,
 * or killed with SIGKILL) and is adopted, with or without CREATE. Any other existing src is
 * left as it is and never removed. In the TRANSACTIONAL overlay only the lock is taken: nothing
 * is created on the host, nothing adopted (pid 1 makes a missing path in the overlay).
 * Step "protect". */
int stk_placeholders_create(const struct stk_spec *spec, struct stk_placeholders *ph,
                            struct stk_error *err);

/* In the monitor, once pid 1 has been reaped, before EXITED passes the upper layer on: removes
 * from the transactional overlay's upper directory (upper, -1 for none) the placeholders pid 1
 * made there (stk_protect_apply), each only while still an empty file or a directory (an
 * rmdir that fails leaves it), so that the commit sees no change at those paths. What cannot
 * be removed stays: the commit skips protected paths anyway. */
void stk_placeholders_remove_from_upper(const struct stk_spec *spec, int upper);

/* Once pid 1 has been reaped, on every way out of the monitor (idempotent): drops this
 * monitor's shared locks, then removes each placeholder it made or adopted that is still the
 * same inode and still empty, each only under flock(LOCK_EX|LOCK_NB) of its parent: one that
 * another live sandbox covers stays (that sandbox removes it). Anything else stays. */
void stk_placeholders_remove(struct stk_placeholders *ph);

#endif
