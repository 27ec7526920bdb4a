/*
 * The sandbox's cgroups (STK_F_MEMORY_MAX, MEMORY_SWAP_MAX, PIDS_MAX, CPU_MAX): made by the
 * monitor before the clone, pid 1 moved in before it is released (so every process of the
 * sandbox is inside from its first instruction), read and removed after pid 1 is reaped.
 *
 * Layout, per hierarchy used (cgroup v1: memory, pids and cpu each; v2: the one tree):
 *     <parent>/stockade-<pidns>-<pid>-<starttime>      the box: limits, readings
 *     <parent>/stockade-<pidns>-<pid>-<starttime>/run  the leaf pid 1 and the command live in
 * <parent> is the caller's own cgroup (v1); on v2 the nearest of the caller's cgroup and its
 * writable ancestors that can give the controllers to a child (the no-internal-processes rule:
 * a cgroup holding the JVM cannot). The name says which monitor owns the box (its pid
 * namespace, pid and start time), so any monitor can tell a dead sandbox's box from a live one
 * and remove it; a reused pid has another start time. The command lives one level below the
 * limits: even where the box belongs to the caller's uid (a delegated v2 tree, whose files the
 * sandbox uid owns too), the only cgroup it can name from its cgroup namespace is the leaf,
 * which holds no limit.
 */
#ifndef STK_CGROUP_H
#define STK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "frame.h"
#include "spec.h"

enum stk_cgroup_controller { STK_CG_MEMORY = 0, STK_CG_PIDS = 1, STK_CG_CPU = 2, STK_CG_COUNT = 3 };

/* The v1 hierarchies a view may show: the three above, and cpuset and cpuacct, which the JVM
 * requires before it reads any limit. */
#define STK_CG_VIEW_MAX 5

struct stk_cgroup {
    int version;                    /* 0: the sandbox has no cgroups; 1 or 2 */
    bool used[STK_CG_COUNT];        /* v1: the hierarchies with a box; v2: the controllers */
    int parent_fd[STK_CG_COUNT];    /* v1 per hierarchy; v2 only [0]; -1 when unused */
    int box_fd[STK_CG_COUNT];
    int leaf_fd[STK_CG_COUNT];
    char name[96];                  /* the box's directory name */
    char leaf_path[STK_CG_COUNT][4096]; /* each leaf's host path */
    /* v1: what pid 1 binds at /sys/fs/cgroup/<name> when /sys is in the view (cgroup_view.c):
     * the leaf for a hierarchy with a box, else the caller's own cgroup there (pid 1's, the
     * root of its cgroup namespace in that hierarchy), for each hierarchy a runtime looks for.
     * v2 mounts a fresh cgroup2 instead. */
    struct stk_cgroup_view_entry {
        char host[4096];
        char dst[48];
    } view[STK_CG_VIEW_MAX];
    size_t view_count;
};

/* Whether the spec asks for anything a cgroup enforces. */
bool stk_cgroup_wanted(const struct stk_spec *spec);

/* Empty: version 0, every fd -1. */
void stk_cgroup_init(struct stk_cgroup *cg);

/* Finds the parents, removes stale boxes of dead sandboxes there, makes this sandbox's box and
 * leaf and writes every limit the spec asks for (step "cgroup"). Fails when any of them cannot
 * be applied: no cgroup is used silently less strictly than asked. */
int stk_cgroup_create_in_monitor(const struct stk_spec *spec, struct stk_cgroup *cg,
                                 struct stk_error *err);

/* Moves pid 1 (cloned, not yet released) into every leaf (step "cgroup_attach"). */
int stk_cgroup_attach_in_monitor(const struct stk_cgroup *cg, pid_t pid1, struct stk_error *err);

/* After pid 1 is reaped: peak memory and processes, and the MEMORY/PROCESS limit flags. */
void stk_cgroup_read_in_monitor(const struct stk_cgroup *cg, struct stk_exit_report *x);

/* Kills whatever is still inside, removes leaf and box, closes the fds; again is a no-op. */
void stk_cgroup_remove_in_monitor(struct stk_cgroup *cg);

/* pid 1, once it is in its leaf: a new cgroup namespace rooted there (step
 * "cgroup_namespace"), so the sandbox sees its own group as / and can reach no other.
 * Async-signal-safe. */
int stk_cgroup_enter_namespace_in_pid1(struct stk_error *err);

/* pid 1, inside its cgroup namespace, while building the view (root: the new root) and /sys is
 * the host's, bound read-only: /sys/fs/cgroup shows the sandbox's own cgroups instead, read-only
 * (v2: a fresh cgroup2 mount, rooted at the leaf by the namespace; v1: each leaf bound over its
 * hierarchy's directory), so that a JVM inside sizes its heap from the limit (step
 * "cgroup_namespace"). Async-signal-safe. */
int stk_cgroup_view_in_pid1(const struct stk_cgroup *cg, int root, struct stk_error *err);

/* pid 1, once its view is built: its copies of the monitor's cgroup directory fds closed (a
 * process of the sandbox holds no handle on a host cgroup). Async-signal-safe. */
void stk_cgroup_close_in_pid1(struct stk_cgroup *cg);

/* `stockade-helper probe`: makes and removes a box with every controller, as a sandbox would.
 * Returns 0 (version 1 or 2 in *version, the parent in where) or an errno with why. */
int stk_cgroup_probe(int *version, char *where, size_t where_len, char *why, size_t why_len);

#endif
