/*
 * Stockade wire protocol between the Java side (JNI library + dev.stockade.internal) and
 * stockade-helper. docs/protocol.md is the prose version of this file; keep them in step.
 *
 * Transport: an AF_UNIX SOCK_STREAM socket, fd 3 in the helper. Every message is a frame:
 *     u32 type, u32 payload_length, payload bytes
 * All integers are little-endian (the only byte order Stockade runs on: x86_64, aarch64).
 */
#ifndef STOCKADE_H
#define STOCKADE_H

#include <stdint.h>

#define STK_PROTOCOL_MAGIC 0x444b5453u /* "STKD" read as a little-endian u32 */
#define STK_PROTOCOL_VERSION 1u

#define STK_CONTROL_FD 3

/* Frame header size and hard limits. The helper rejects anything larger (step "spec"). */
#define STK_FRAME_HEADER_SIZE 8u
#define STK_MAX_SPEC_SIZE (16u * 1024u * 1024u)
#define STK_MAX_ARGS 65536u
#define STK_MAX_ENV 65536u
#define STK_MAX_MOUNTS 1024u
#define STK_MAX_RLIMITS 32u
#define STK_MAX_STRING 65536u   /* one argument, variable, path or hostname */
#define STK_MAX_BPF_INSNS 4096u /* BPF_MAXINSNS */
#define STK_MAX_HOSTNAME 64u

/* Frame types, Java -> helper. */
enum stk_request_type {
    STK_MSG_SPEC = 1, /* the spec; the first frame, exactly once */
    STK_MSG_KILL = 2, /* payload u32 mode (enum stk_kill_mode) */
};

enum stk_kill_mode {
    STK_KILL_GRACEFUL = 0, /* SIGTERM to every process in the sandbox, SIGKILL after the grace */
    STK_KILL_NOW = 1,      /* SIGKILL to the whole sandbox at once */
};

/* Frame types, helper -> Java. */
enum stk_event_type {
    /* i32 sandbox_pid (host pid of the sandbox's pid 1), i32 command_pid (inside the sandbox) */
    STK_EVT_STARTED = 101,
    /* u32 errno, u32 exit_code (125 set-up, 126 not executable, 127 not found),
     * u32 step_length, step bytes, u32 detail_length, detail bytes */
    STK_EVT_ERROR = 102,
    /* i32 wait_status (as waitpid reports the command), u32 flags (STK_EXIT_*),
     * u64 wall_time_ns, u64 user_cpu_us, u64 sys_cpu_us, u64 max_rss_kb */
    STK_EVT_EXITED = 103,
    /* A system call denied (or, for an audit rule, let through) by a `report` rule, aggregated
     * per syscall and per distinct args & masks (STK_F_REPORT): u32 syscall_nr, u32 errno (the errno the call got; 0 = it was allowed to run),
     * u64 count (calls so far), i32 pid (inside the sandbox, of the first occurrence),
     * u32 reserved (0), u64 args[6] (of the first occurrence).
     * Sent when a syscall is first seen and again, with the final count, before EXITED (only if
     * the count changed): at most two frames per count. Java keeps the last one per count. */
    STK_EVT_VIOLATION = 104,
};

enum stk_exit_flags {
    STK_EXIT_TIMED_OUT = 1u, /* the spec's timeout expired and the helper killed the sandbox */
    STK_EXIT_KILLED = 2u,    /* a KILL request (or control socket EOF) ended the sandbox */
};

/*
 * SPEC payload: u32 magic, u32 version, then fields until the payload ends.
 * A field: u16 tag, u16 reserved (0), u32 length, value bytes.
 * Strings are raw bytes without a terminating NUL and must not contain NUL.
 * Unknown tags are an error (the helper never ignores a restriction it does not understand).
 */
enum stk_field_tag {
    STK_F_ARG = 1,          /* string, repeated, at least one; argv in order; argv[0] is the program */
    STK_F_ENV = 2,          /* string "NAME=VALUE", repeated; the complete environment */
    STK_F_CWD = 3,          /* string, absolute path inside the sandbox */
    STK_F_NAMESPACES = 4,   /* u32, a set of CLONE_NEW* flags (kernel values) */
    STK_F_UID = 5,          /* u32, uid of the command inside the sandbox */
    STK_F_GID = 6,          /* u32, gid of the command inside the sandbox */
    STK_F_HOSTNAME = 7,     /* string, needs CLONE_NEWUTS */
    STK_F_MOUNT = 8,        /* struct below, repeated, applied in order after the base view */
    STK_F_RLIMIT = 9,       /* u32 resource (RLIMIT_*), u32 reserved, u64 soft, u64 hard */
    STK_F_TIMEOUT_MS = 10,  /* u64, wall-clock limit from the start of the command; 0 = none */
    STK_F_KILL_GRACE_MS = 11, /* u64, SIGTERM -> SIGKILL delay for timeouts and graceful kills */
    STK_F_SECCOMP_BPF = 12, /* struct sock_filter[], length a multiple of 8, 1..4096 insns */
    /* u32 syscall_nr, u32 errno, repeated (at most STK_MAX_REPORTS): the syscalls the BPF program
     * sends to user notification (SECCOMP_RET_USER_NOTIF) and the errno pid 1 answers them with
     * (0 = let the call run: SECCOMP_USER_NOTIF_FLAG_CONTINUE, for audit rules). Any REPORT field
     * makes the command install the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and hand the
     * listener to pid 1. A notification for a syscall not listed is answered with EPERM. */
    /* Optionally followed by u64 masks[6] (the field is then 56 bytes): the argument bits the
     * syscall's report rules test. pid 1 counts calls apart per distinct (args & masks), so
     * calls that different rules caught are reported apart (the Java side names each one's
     * rule); without masks, per syscall. */
    STK_F_REPORT = 13,
    /* struct sock_filter[], as SECCOMP_BPF: a filter installed before SECCOMP_BPF's, whatever
     * the profile (the set-id guard: no set-user-ID or set-group-ID file can be made). It never
     * sends notifications; the kernel applies the stricter answer of the two filters. */
    STK_F_GUARD_BPF = 14,
    /* u32 limit (enum stk_user_limit), u32 reserved (0), u64 value; repeated, each limit at
     * most once; needs CLONE_NEWUSER. pid 1 writes the value to the new user namespace's own
     * /proc/sys/user/<file> while it still holds CAP_SYS_RESOURCE there: these counts are
     * charged to the user who created the namespace (host root, for a root caller), so without
     * them one sandbox could use up that user's budget. */
    STK_F_USER_LIMIT = 15,
    /* u32, the most ptys the sandbox's devpts instance hands out (its max= option); needs
     * CLONE_NEWNS. Without it the kernel's global pty limit is the only bound. */
    STK_F_PTY_MAX = 16,
};

/* STK_F_USER_LIMIT limits. The namespace value sets every max_*_namespaces file. */
enum stk_user_limit {
    STK_USER_LIMIT_INOTIFY_INSTANCES = 0, /* max_inotify_instances */
    STK_USER_LIMIT_INOTIFY_WATCHES = 1,   /* max_inotify_watches */
    STK_USER_LIMIT_FANOTIFY_GROUPS = 2,   /* max_fanotify_groups */
    STK_USER_LIMIT_FANOTIFY_MARKS = 3,    /* max_fanotify_marks */
    STK_USER_LIMIT_NAMESPACES = 4,        /* max_{user,pid,net,mnt,ipc,uts,cgroup,time}_namespaces */
};
#define STK_USER_LIMIT_COUNT 5u
#define STK_MAX_USER_LIMIT_VALUE 2147483647u /* the sysctls are ints */
#define STK_MAX_PTYS 1048576u

/* Every tmpfs the helper mounts gets size= and nr_inodes=: inodes cost kernel memory that the
 * size does not count. A tmpfs of N bytes gets N / STK_TMPFS_BYTES_PER_INODE inodes, at least
 * STK_TMPFS_MIN_INODES. /dev/shm (inside the read-only /dev) is STK_DEV_SHM_SIZE bytes; a
 * TMPFS mount at /dev/shm replaces it. */
#define STK_TMPFS_BYTES_PER_INODE 8192u
#define STK_TMPFS_MIN_INODES 1024u
#define STK_DEV_SHM_SIZE (64u * 1024u * 1024u)

#define STK_MAX_REPORTS 1024u

/* STK_F_MOUNT value: u32 type, u32 flags, u64 size, u32 src_length, src, u32 dst_length, dst */
enum stk_mount_type {
    STK_MOUNT_BIND = 1,  /* bind host path src at dst (recursive); flags STK_MOUNT_READONLY */
    STK_MOUNT_TMPFS = 2, /* fresh tmpfs at dst, size bytes (at least 1); src empty */
};

enum stk_mount_flags {
    STK_MOUNT_READONLY = 1u,
    /* BIND, with READONLY, root caller only: idmapped so that host root's files appear as the
     * sandbox user's (readable; root-owned sockets and FIFOs in the tree become reachable too,
     * which is why it is asked for, never implied). */
    STK_MOUNT_IDMAP = 2u,
    /* BIND: the source may be a socket or a FIFO (otherwise refused: a read-only bind does not
     * stop connect() or a FIFO's writes). */
    STK_MOUNT_SPECIAL = 4u,
};

#endif
