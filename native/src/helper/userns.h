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

/*
 * Returns (in *fd) a user namespace whose maps are "0 host_uid 1" and "0 host_gid 1": mounted
 * through it, files host root owns on disk appear owned by host_uid/host_gid, and files that
 * user creates are stored as owned by root. Needs host root. Step "idmap".
 */
int stk_userns_idmap(uint32_t host_uid, uint32_t host_gid, int *fd, struct stk_error *err);

#endif
