/*
 * Everything the sandbox needs, derived from the spec and the caller's identity BEFORE any
 * fork: ids and map lines, the hostname, the candidate paths for execve, cap_last_cap, and a
 * slot per mount for its detached tree. The children only read this.
 */
#ifndef STK_PLAN_H
#define STK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "notify.h"
#include "spec.h"

struct stk_warm; /* warm.h */

struct stk_plan {
    const struct stk_spec *spec;
    bool caller_root;
    uint32_t clone_flags; /* the spec's CLONE_NEW* set but CLONE_NEWNET (netns.h) */
    bool new_user, new_pid, new_mount, new_net, new_uts;

    uint32_t inside_uid, inside_gid; /* the command's ids as it sees them */
    uint32_t host_uid, host_gid;     /* the same ids as the host sees them */
    char uid_map[48], gid_map[48];   /* single-line maps, "<inside> <host> 1\n" */
    bool deny_setgroups;             /* unprivileged: "deny" before gid_map */
    bool clear_groups;               /* root caller: setgroups(0, NULL) in pid 1 */

    const char *hostname; /* NULL without CLONE_NEWUTS */
    size_t hostname_len;

    int cap_last_cap;

    /* execve candidates in order (stk_exec_paths_measure); a warm sandbox's point into its
     * shared command region once COMMAND came (warm.h). */
    char **exec_paths;
    size_t exec_path_count;
    char *exec_storage;

    /* Per spec mount: the detached tree of a BIND once opened (monitor or pid 1), else -1. */
    int *mount_fds;
    /* Per spec mount: the id of the mount a PROTECT made (pid 1's, stk_protect_apply), else 0;
     * a warm sandbox's pid 1 checks them again before its command (stk_protect_verify). */
    uint64_t *mount_ids;
    /* The TRANSACTIONAL overlay's upper directory (O_PATH) where it was built (the monitor for
     * a root caller, pid 1 otherwise, which hands it to the monitor: STK_REC_UPPER); -1
     * elsewhere. */
    int upper_fd;

    /* With REPORT fields: the command installs its filter with a listener and pid 1 answers
     * the notifications into this table (notify.h). */
    bool report;
    /* A warm sandbox with NEWPID whose filters allow every call its command's process makes
     * after them (stk_command_can_filter_early): they go on before READY (command.h). */
    bool filter_early;
    struct stk_notify notify;

    /* Set by the monitor before the clone (pty.h): bit n when the caller's fd n was a
     * terminal, and the slave of the sandbox's own pty that replaces it; 0 and -1 without. */
    unsigned int tty_fds;
    int pty_slave;

    /* Set by the monitor before the clone: pid 1 is moved into cgroups of its own before it is
     * released, and (with CLONE_NEWCGROUP) enters a cgroup namespace rooted there (cgroup.h). */
    bool own_cgroup_namespace;
    /* The sandbox's cgroups (NULL: none): pid 1's copy holds the monitor's directory fds,
     * which it closes once its view is built. */
    struct stk_cgroup *cgroup;
    /* With own_cgroup_namespace and /sys bound in the view: /sys/fs/cgroup shows the
     * sandbox's own cgroups. */
    bool cgroup_view;
    /* Set by the monitor before the clone with STK_F_WARM (warm.h): the command region and the
     * hand-over channel; NULL for a cold spawn. */
    struct stk_warm *warm;
    /* Set by the monitor before the clone with CLONE_NEWNET: pid 1's end of the channel the
     * network namespace comes by (netns.h); -1 without. */
    int netns_channel;
};

/* The execve candidates for program name under envp's PATH (STK_DEFAULT_PATH without one), in
 * execvp's order: argv[0] alone when it contains '/', none when it is empty, else one per PATH
 * element (an empty element is the working directory). measure gives the candidates and the
 * bytes of storage they need; fill writes them into paths (count + 1 slots, NULL-terminated)
 * and storage and returns the count. fill allocates nothing (warm.c builds the list in memory
 * pid 1 shares). */
void stk_exec_paths_measure(const char *name, char *const *envp, size_t *count, size_t *bytes);
size_t stk_exec_paths_fill(char *name, char *const *envp, char **paths, char *storage);

int stk_plan_build(const struct stk_spec *spec, struct stk_plan *plan, struct stk_error *err);
void stk_plan_free(struct stk_plan *plan);

#endif
