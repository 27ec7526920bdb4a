/*
 * The sandbox's filesystem view (only with CLONE_NEWNS): the host root cloned read-only,
 * fresh /proc, a minimal /dev (dev.h), the spec's BIND (binds.h) and TMPFS mounts, pivot_root.
 */
#ifndef STK_MOUNTS_H
#define STK_MOUNTS_H

#include "error.h"
#include "plan.h"

/* In pid 1, before the ids change: builds the view and pivots into it. Async-signal-safe.
 * Steps "mount_private", "bind", "mount_root", "proc", "dev", "tmpfs", "pivot_root". */
int stk_mounts_setup(struct stk_plan *plan, struct stk_error *err);

#endif
