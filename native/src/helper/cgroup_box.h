/*
 * A sandbox's box (cgroup.h): its name, whose monitor it is, and its removal (cgroup_box.c).
 */
#ifndef STK_CGROUP_BOX_H
#define STK_CGROUP_BOX_H

#include <stddef.h>

/* A box's name is this prefix, then "<pidns>-<pid>-<starttime>" of its monitor. */
#define STK_CG_BOX_PREFIX "stockade-"
/* The leaf below every box, where pid 1 and the command live. */
#define STK_CG_LEAF "run"

/* This monitor's box name. Returns 0 or an errno. */
int stk_cg_box_name(char *name, size_t len);

/* Kills what is in the box (v2 cgroup.kill; else each member through a pidfd) and removes its
 * leaf (leaf_fd may be -1) and the box itself, waiting while the kernel says EBUSY. Returns 0
 * or the errno. */
int stk_cg_remove_box(int version, int parent_fd, const char *name, int box_fd, int leaf_fd);

/* Removes every box under parent_fd whose monitor is gone (never a live one; never one of
 * another pid namespace). Failures are ignored: a later start tries again. */
void stk_cg_remove_stale(int version, int parent_fd);

#endif
