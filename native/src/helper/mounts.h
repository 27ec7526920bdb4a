/*
 * The sandbox's filesystem view (only with CLONE_NEWNS): a fresh tmpfs as root, fresh /proc, a
 * minimal /dev (dev.h), the spec's MOUNTs (BIND and OVERLAY sources from binds.h, FILE from
 * files.h, PROTECT from protect.h, TMPFS and SYMLINK here), the root made read-only, pivot_root.
 */
#ifndef STK_MOUNTS_H
#define STK_MOUNTS_H

#include "error.h"
#include "plan.h"

/* In pid 1, before the ids change: builds the view and pivots into it. Async-signal-safe.
 * Steps "mount_private", "bind", "overlay", "dev", "mount_root", "proc", "tmpfs", "symlink",
 * "file", "protect", "pivot_root". */
int stk_mounts_setup(struct stk_plan *plan, struct stk_error *err);

#endif
