/*
 * Capabilities and privilege flags of the sandbox: pid 1 drops everything before it forks the
 * command, and the command's process sets no_new_privs right before its filter and execve.
 */
#ifndef STK_CAPS_H
#define STK_CAPS_H

#include "error.h"

/*
 * Drops every capability for good: securebits (NOROOT, NO_SETUID_FIXUP, KEEP_CAPS off,
 * NO_CAP_AMBIENT_RAISE, all locked: uid 0 inside never regains capabilities through execve),
 * the bounding set 0..cap_last_cap, the ambient set, then effective, permitted and
 * inheritable. Each is read back. Steps "capabilities", "securebits". Async-signal-safe.
 */
int stk_caps_drop_all(int cap_last_cap, struct stk_error *err);

/* PR_SET_NO_NEW_PRIVS, verified with PR_GET_NO_NEW_PRIVS. Step "no_new_privs". */
int stk_no_new_privs(struct stk_error *err);

#endif
