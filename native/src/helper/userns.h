/*
 * User namespaces from the outside: the sandbox's uid/gid maps, and the helper user namespace
 * that idmapped bind mounts of a root caller are created with.
 */
#ifndef STK_USERNS_H
#define STK_USERNS_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "plan.h"

/* Writes setgroups "deny" (unprivileged caller), uid_map and gid_map of process pid. Steps
 * "setgroups", "uid_map", "gid_map". */
int stk_userns_write_maps(pid_t pid, const struct stk_plan *plan, struct stk_error *err);

/* The ids an idmapped mount maps: files on disk owned by (disk_uid, disk_gid) appear owned by
 * (host_uid, host_gid), and files that user creates are stored as owned by disk_uid/disk_gid;
 * no other id is mapped. */
struct stk_idmap {
    uint32_t disk_uid, disk_gid;
    uint32_t host_uid, host_gid;
};

/*
 * Returns (in *fd) a user namespace whose maps are "disk_uid host_uid 1" and "disk_gid
 * host_gid 1", for MOUNT_ATTR_IDMAP: disk ids 0 for STK_MOUNT_IDMAP (host root's files shown as
 * the sandbox user's), the source's owner for STK_MOUNT_IDMAP_OWNER. Needs host root. Step
 * "idmap".
 */
int stk_userns_idmap(const struct stk_idmap *map, int *fd, struct stk_error *err);

#endif
