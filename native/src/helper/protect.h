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
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* In pid 1, inside the new root: protects spec->mounts[index]. Its destination must exist and
 * lie on an earlier writable BIND (or on a PROTECT of one); it is opened without following
 * any symbolic link (a link as its last component is protected itself). Async-signal-safe.
 * Step "protect". */
int stk_protect_apply(int root, const struct stk_spec *spec, size_t index,
                      struct stk_error *err);

/* A placeholder the monitor made for a PROTECT with STK_MOUNT_CREATE whose src was missing. */
struct stk_placeholder {
    int parent;       /* O_PATH fd of src's parent directory */
    const char *name; /* src's last component (points into the spec) */
    bool directory;
    dev_t dev;
    ino_t ino;
};

struct stk_placeholders {
    struct stk_placeholder *items;
    size_t count;
};

/* In the monitor, before the clone: for every PROTECT with CREATE whose src does not exist,
 * (src must be dst's host path: the source of the writable BIND dst lies in, followed by dst's
 * path inside it) creates it (parent opened with RESOLVE_NO_SYMLINKS; an empty 0644 file with O_CREAT|O_EXCL|
 * O_NOFOLLOW, or a 0755 directory) and records it. An existing src is left as it is and never
 * removed. Step "protect". */
int stk_placeholders_create(const struct stk_spec *spec, struct stk_placeholders *ph,
                            struct stk_error *err);

/* Once pid 1 has been reaped, on every way out of the monitor (idempotent): removes each
 * placeholder that is still the same inode and still empty; anything else stays. */
void stk_placeholders_remove(struct stk_placeholders *ph);

#endif
