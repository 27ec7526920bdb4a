/*
 * The sources of the spec's BIND mounts, opened as detached recursive clones (nosuid, nodev,
 * read-only when asked, idmapped when asked), and its OVERLAY mounts, built as detached
 * overlays (overlay.h), into plan->mount_fds, for mounts.c to attach inside the new root.
 * Which process opens them depends on the caller, so there is one function per process.
 */
#ifndef STK_BINDS_H
#define STK_BINDS_H

#include "error.h"
#include "plan.h"

/*
 * In the monitor, before the clone, for a root caller with a mount namespace: pid 1 could not
 * even open a root-owned 0700 source from its user namespace. Binds that ask for it
 * (STK_MOUNT_IDMAP: host root's files as the sandbox user's; STK_MOUNT_IDMAP_OWNER: the
 * source's owner as the sandbox user) are idmapped through a user namespace made for them
 * (userns.h); a filesystem that cannot be idmapped (EINVAL, EOPNOTSUPP) keeps a plain bind,
 * which only ever grants less. Steps "bind", "idmap", "overlay".
 */
int stk_binds_open_in_monitor(struct stk_plan *plan, struct stk_error *err);

/* In pid 1, for an unprivileged caller, after the mount namespace is private and before
 * anything covers a host path: plain binds, never idmapped. Async-signal-safe. Steps "bind",
 * "overlay". */
int stk_binds_open_in_pid1(struct stk_plan *plan, struct stk_error *err);

#endif
