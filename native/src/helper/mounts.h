/*
 * The sandbox's filesystem view (only with CLONE_NEWNS): the host root cloned read-only,
 * fresh /proc, a minimal /dev, the spec's BIND and TMPFS mounts, pivot_root.
 */
#ifndef STK_MOUNTS_H
#define STK_MOUNTS_H

#include "error.h"
#include "plan.h"

/*
 * Opens the source of every BIND not opened yet as a detached recursive clone, nosuid, nodev,
 * read-only when asked (into plan->mount_fds). With idmap_userns_fd >= 0 (root caller, in the
 * monitor) each clone is also idmapped through that user namespace; a filesystem that cannot
 * be idmapped (EINVAL, EOPNOTSUPP) keeps a plain bind, which only ever grants less.
 * Steps "bind", "idmap".
 */
int stk_mounts_open_binds(struct stk_plan *plan, int idmap_userns_fd, struct stk_error *err);

/* In pid 1, before the ids change: builds the view and pivots into it. Async-signal-safe.
 * Steps "mount_private", "bind", "mount_root", "proc", "dev", "tmpfs", "pivot_root". */
int stk_mounts_setup(struct stk_plan *plan, struct stk_error *err);

#endif
