/*
 * Switching the sandbox's pid 1 to the command's ids. Raw system calls throughout: glibc's
 * set*id wrappers synchronise all threads with a signal, which has no place in a freshly
 * cloned process.
 */
#ifndef STK_CREDS_H
#define STK_CREDS_H

#include <stdint.h>

#include "error.h"

/*
 * Sets the filesystem ids only. A root caller's pid 1 still has host uid 0, which its new
 * user namespace does not map; files it creates in the tmpfs mounts it makes there would be
 * refused (EOVERFLOW). Steps "setfsgid", "setfsuid".
 */
int stk_creds_set_fs_ids(uint32_t uid, uint32_t gid, struct stk_error *err);

/* setgroups(0, NULL): drops supplementary groups inherited from a root caller, which would
 * otherwise still grant the host groups' access. Step "setgroups". */
int stk_creds_clear_groups(struct stk_error *err);

/* setresgid then setresuid to (gid, uid) with PR_SET_KEEPCAPS, so pid 1 keeps the permitted
 * capabilities it needs to drop the rest afterwards; verified with getres[ug]id.
 * Steps "setresgid", "setresuid". */
int stk_creds_switch(uint32_t uid, uint32_t gid, struct stk_error *err);

#endif
