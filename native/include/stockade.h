/*
 * Stockade wire protocol between the Java side (JNI library + dev.stockade.internal) and
 * stockade-helper, and every bound and default both sides know. docs/protocol.md is the prose
 * version of this file.
 *
 * This file is the single definition: dev.stockade.internal.Protocol and dev.stockade.SetupStep
 * are generated from it at build time (codegen/, ProtocolGenerator), every value by the C
 * compiler. Each STK_X macro or enum member becomes the Java constant X, with the comment
 * before it (or after it on its line) as its Javadoc. The generator reads a disciplined
 * subset of C and fails on anything else: comments, #include, object-like #define STK_...,
 * enum stk_... { STK_... = value, ... }; (one member a line).
 *
 * Transport: an AF_UNIX SOCK_STREAM socket, fd 3 in the helper. Every message is a frame:
 *     u32 type, u32 payload_length, payload bytes
 * All integers are little-endian (the only byte order Stockade runs on: x86_64, aarch64).
 */
#ifndef STOCKADE_H
#define STOCKADE_H

#include <linux/filter.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>

/* "STKD" read as a little-endian u32: the first word of a SPEC payload. */
#define STK_MAGIC 0x444b5453u
/* The protocol version the SPEC payload's second word names. */
#define STK_VERSION 1u

/* The helper's end of the control socket. */
#define STK_CONTROL_FD 3

/* The set-up progress page: a memfd of STK_PROGRESS_SIZE bytes (sealed against shrinking) the
 * Java side may pass as the helper's fd STK_PROGRESS_FD. The monitor maps it shared and pid 1
 * inherits the mapping; each stores there which step set-up is in, so that the Java side can
 * name it when set-up misses its deadline and the helper is killed (a hung FUSE or NFS bind
 * source blocks the process that touches it, beyond the reach of any message). */
#define STK_PROGRESS_FD 4
#define STK_PROGRESS_SIZE 4096u
/* u32 at this offset: the step set-up is in (enum stk_step; the helper starts in "spec"). */
#define STK_PROGRESS_STEP_OFFSET 0u
/* u32 at this offset: 1 + the index of the spec MOUNT that step works on; 0 for none. */
#define STK_PROGRESS_MOUNT_OFFSET 4u
/* Set-up timings (SandboxResult.setupTimings), kept in the same page. Each step change adds
 * the CLOCK_MONOTONIC nanoseconds since the last change to the slot of the step being left,
 * then stores the time and the new step. Exactly one process writes at a time, by
 * construction: the Java side (it stores the time and STK_STEP_HELPER right before it asks
 * the zygote for the helper), the monitor until it releases pid 1, pid 1 until it forks the
 * command, the command's process until its execve, pid 1 again once execve succeeded (its
 * last change closes the command's last step). In a warm sandbox (STK_F_WARM) pid 1 enters
 * STK_STEP_COMMAND before it reports READY; the monitor, holding a COMMAND frame while pid 1
 * waits, restarts the clock there (the idle time counts for nothing) before it hands the
 * command on. */
/* u64 at this offset: the CLOCK_MONOTONIC time of the last step change, in ns. */
#define STK_PROGRESS_CLOCK_OFFSET 8u
/* u32 at this offset: how many entries the order list (below) holds. */
#define STK_PROGRESS_ORDER_COUNT_OFFSET 16u
/* u64[STK_PROGRESS_STEP_SLOTS] from this offset: the ns spent in each step, indexed by its
 * enum stk_step value. */
#define STK_PROGRESS_TIMES_OFFSET 64u
/* u8[STK_PROGRESS_STEP_SLOTS] from this offset: each step's value once, in the order set-up
 * first entered it. */
#define STK_PROGRESS_ORDER_OFFSET 1024u
/* The slots of both arrays: more than enum stk_step's highest value. */
#define STK_PROGRESS_STEP_SLOTS 64u

/* Frame header size: u32 type, u32 payload_length. */
#define STK_FRAME_HEADER_SIZE 8u
/* A SPEC field's header size: u16 tag, u16 reserved, u32 length. */
#define STK_FIELD_HEADER_SIZE 8u
/* Size of one struct sock_filter (u16 code, u8 jt, u8 jf, u32 k): a BPF field's unit. */
#define STK_BPF_INSN_SIZE ((uint32_t)sizeof(struct sock_filter))

/* Hard limits. The helper rejects anything larger (step "spec"); the Java side reports the
 * same bounds at SandboxPolicy.Builder.build(). */

#define STK_MAX_SPEC_SIZE (16u * 1024u * 1024u)
#define STK_MAX_ARGS 65536u
#define STK_MAX_ENV 65536u
#define STK_MAX_MOUNTS 1024u
#define STK_MAX_RLIMITS 32u
/* One argument, variable, path or hostname. */
#define STK_MAX_STRING 65536u
/* BPF_MAXINSNS: the most instructions of one filter program. */
#define STK_MAX_BPF_INSNS 4096u
#define STK_MAX_HOSTNAME 64u
/* Mount sources and destinations: pid 1 resolves destinations with fixed buffers, hence the
 * limit shorter than STK_MAX_STRING. */
#define STK_MAX_MOUNT_PATH 4095u
/* The u64 millisecond fields (TIMEOUT_MS, KILL_GRACE_MS), so deadlines in nanoseconds never
 * overflow: about 31 years. */
#define STK_MAX_DURATION_MS 1000000000000ull
/* The most REPORT fields a spec may have. */
#define STK_MAX_REPORTS 1024u
/* Syscall numbers a REPORT field may name are below this: every native number of the
 * supported architectures is far below; x32 and other foreign numbers never reach user
 * notification (the filter kills them first). */
#define STK_MAX_REPORT_NR 4096u
/* The largest errno a REPORT field (or an ERROR or VIOLATION event) carries: the kernel's
 * MAX_ERRNO. */
#define STK_MAX_REPORT_ERRNO 4095u

/* The CLONE_NEW* flags a spec may ask for (NEWTIME is not clone()-able: it shares CSIGNAL);
 * also what the helper uses when a spec has no NAMESPACES field. */
#define STK_ALLOWED_NAMESPACES                                                               \
    (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
     CLONE_NEWCGROUP)

/* The NAMESPACES field's bits: the kernel's CLONE_NEW* values (linux/sched.h). Named here so
 * that the Java side gets them from the same compiler. */
#define STK_CLONE_NEWNS CLONE_NEWNS
#define STK_CLONE_NEWCGROUP CLONE_NEWCGROUP
#define STK_CLONE_NEWUTS CLONE_NEWUTS
#define STK_CLONE_NEWIPC CLONE_NEWIPC
#define STK_CLONE_NEWUSER CLONE_NEWUSER
#define STK_CLONE_NEWPID CLONE_NEWPID
#define STK_CLONE_NEWNET CLONE_NEWNET

/* The RLIMIT field's resource numbers the Java side sends: the kernel's RLIMIT_* values
 * (asm-generic/resource.h). */
#define STK_RLIMIT_CPU RLIMIT_CPU
#define STK_RLIMIT_FSIZE RLIMIT_FSIZE
#define STK_RLIMIT_STACK RLIMIT_STACK
#define STK_RLIMIT_CORE RLIMIT_CORE
#define STK_RLIMIT_NPROC RLIMIT_NPROC
#define STK_RLIMIT_NOFILE RLIMIT_NOFILE
#define STK_RLIMIT_AS RLIMIT_AS
#define STK_RLIMIT_DATA RLIMIT_DATA

/* Signals the Java side tells apart in a command's end (the kernel's numbers): SIGXCPU and
 * SIGXFSZ name the rlimit that killed it, SIGKILL is also what RLIMIT_CPU's hard limit sends. */
#define STK_SIGNAL_KILL SIGKILL
#define STK_SIGNAL_XCPU SIGXCPU
#define STK_SIGNAL_XFSZ SIGXFSZ

/* Defaults for fields a spec leaves out (the Java side always sends them), and the ones the
 * Java side fills in from them. */

/* SIGTERM -> SIGKILL delay when a spec has no KILL_GRACE_MS. */
#define STK_DEFAULT_KILL_GRACE_MS 2000u
/* The sandbox's hostname when a spec with CLONE_NEWUTS has no HOSTNAME. */
#define STK_DEFAULT_HOSTNAME "stockade"
/* The command's working directory when a spec has no CWD. */
#define STK_DEFAULT_CWD "/"
/* The PATH the program search uses when the spec's environment has none; the Java side puts
 * it into the default environment. */
#define STK_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* nobody's uid and gid: the command's ids for a root caller that sets none (the command never
 * runs as host root), and the ids of the probe's idmapped user namespace. */
#define STK_NOBODY_ID 65534u

/* The exit codes of a set-up failure, as the shell's: ERROR events carry one, and the helper
 * exits with it. */
#define STK_EXIT_SETUP 125
#define STK_EXIT_NOT_EXECUTABLE 126
#define STK_EXIT_NOT_FOUND 127

/* The helper's own exit code, after its EXITED or ERROR, when a process of the sandbox that
 * runs the helper's code (pid 1, or the egress forwarder: forks of the helper, never exec'd)
 * died of a signal the helper did not send. Helpers forked by one zygote share its layout and
 * stack canary, so the library forks no more helpers from that zygote (docs/design.md, "A
 * helper zygote"). */
#define STK_EXIT_OWN_CRASH 124

/* The longest detail an ERROR event carries, in bytes (the helper truncates longer ones). */
#define STK_MAX_DETAIL 255u
/* The longest step name an ERROR event carries, in bytes (enum stk_step below). */
#define STK_MAX_STEP_NAME 31u

/* Frame types, Java -> helper. */
enum stk_request_type {
    STK_MSG_SPEC = 1, /* the spec; the first frame, exactly once */
    STK_MSG_KILL = 2, /* payload u32 mode (enum stk_kill_mode) */
    /* A warm sandbox's command (STK_F_WARM), exactly once, only after READY: the fields ARG
     * (at least one), ENV and CWD, encoded as in the SPEC payload but without its magic and
     * version, under the same bounds. The frame's first byte carries exactly
     * STK_COMMAND_FD_COUNT fds (SCM_RIGHTS): the command's stdin, stdout and stderr, in that
     * order (stdout twice when stderr goes where stdout goes). */
    STK_MSG_COMMAND = 3,
};

/* The descriptors a COMMAND frame carries: stdin, stdout, stderr. */
#define STK_COMMAND_FD_COUNT 3u

/* Once a warm sandbox's COMMAND came, and before it forks the command, pid 1 checks that each
 * PROTECT mount is still the mount at its path: a path renamed or removed on the host while
 * the sandbox waited takes the mount with it. When one is not, pid 1 reports ERROR at step
 * "protect" with this errno (ESTALE) and the command never ran, so the caller may start it in
 * another sandbox. */
#define STK_WARM_STALE_ERRNO 116

enum stk_kill_mode {
    STK_KILL_GRACEFUL = 0, /* SIGTERM to every process in the sandbox, SIGKILL after the grace */
    STK_KILL_NOW = 1,      /* SIGKILL to the whole sandbox at once */
};

/* Frame types, helper -> Java. */
enum stk_event_type {
    /* i32 sandbox_pid (host pid of the sandbox's pid 1), i32 command_pid (inside the sandbox) */
    STK_EVT_STARTED = 101,
    /* u32 errno, u32 exit_code (STK_EXIT_SETUP, STK_EXIT_NOT_EXECUTABLE, STK_EXIT_NOT_FOUND),
     * u32 step_length, step bytes (the step's name, stk_step_name: at most STK_MAX_STEP_NAME),
     * u32 detail_length, detail bytes (at most STK_MAX_DETAIL) */
    STK_EVT_ERROR = 102,
    /* i32 wait_status (as waitpid reports the command), u32 flags (STK_EXIT_*),
     * u64 wall_time_ns, u64 user_cpu_us, u64 sys_cpu_us, u64 max_rss_kb,
     * u64 peak_memory_bytes (the whole sandbox's, from its cgroup; 0 = no cgroup),
     * u64 peak_processes (the most processes the sandbox held at once; 0 = not measured),
     * u64 output_bytes (what the command wrote to the streams the helper relays),
     * u64 output_dropped_bytes (of those, what went past STK_F_MAX_OUTPUT and was dropped).
     * With a TRANSACTIONAL mount the frame's first byte carries one fd (SCM_RIGHTS): the
     * upper layer's directory, O_PATH, holding the detached tmpfs alive. */
    STK_EVT_EXITED = 103,
    /* A system call denied (or, for an audit rule, let through) by a `report` rule, aggregated
     * per syscall and per distinct args & masks (STK_F_REPORT): u32 syscall_nr, u32 errno (the errno the call got; 0 = it was allowed to run),
     * u64 count (calls so far), i32 pid (inside the sandbox, of the first occurrence),
     * u32 reserved (0), u64 args[6] (of the first occurrence).
     * Sent when a syscall is first seen and again, with the final count, before EXITED (only if
     * the count changed): at most two frames per count. Java keeps the last one per count. */
    STK_EVT_VIOLATION = 104,
    /* Empty payload: a warm sandbox (STK_F_WARM) is set up and pid 1 waits for the COMMAND
     * frame. Sent once, before STARTED; ERROR instead when set-up failed. */
    STK_EVT_READY = 105,
};

/*
 * The helper zygote (`stockade-helper zygote`, its end of an AF_UNIX SOCK_STREAM socket on fd 3):
 * the library starts one per JVM and asks it for each sandbox's helper instead of spawning one,
 * since forking a process that is already exec'd costs a fraction of a spawn and an exec. It
 * serves one FORK at a time, in order, and ends when the socket closes.
 */
enum stk_zygote_message_type {
    /* Java -> zygote, empty payload: fork a helper in run mode. The frame's first byte carries
     * the helper's fds in the order of its layout: stdin, stdout, stderr, the control socket
     * and, optionally, the progress page (STK_FORK_MIN_FDS or STK_FORK_MAX_FDS fds). */
    STK_MSG_FORK = 4,
    /* zygote -> Java: i32 pid (the helper's; 0 when none was made), u32 errno (0 with a pid,
     * else why there is none). With a pid the frame's first byte carries the helper's pidfd.
     * The helper is the JVM's child (CLONE_PARENT), as a spawned one is. */
    STK_EVT_FORKED = 106,
};

/* The fds a FORK request carries: without and with the progress page. */
#define STK_FORK_MIN_FDS 4u
#define STK_FORK_MAX_FDS 5u

enum stk_exit_flags {
    STK_EXIT_TIMED_OUT = 1u, /* the spec's timeout expired and the helper killed the sandbox */
    STK_EXIT_KILLED = 2u,    /* a KILL request (or control socket EOF) ended the sandbox */
    STK_EXIT_MEMORY_LIMIT = 4u,   /* the sandbox's cgroup killed a process for memory (oom_kill) */
    STK_EXIT_PROCESS_LIMIT = 8u,  /* the sandbox's cgroup refused a fork at its pids bound */
    /* the output reached STK_F_MAX_OUTPUT's bound and the spec asked to be killed there */
    STK_EXIT_OUTPUT_LIMIT = 16u,
    /* the transactional workspace's upper layer was full (no block or no inode left) when the
     * sandbox ended */
    STK_EXIT_DISK_LIMIT = 32u,
    /* pid 1 or the egress forwarder died of a signal the helper did not send (the helper then
     * exits STK_EXIT_OWN_CRASH): the library forks no more helpers from the same zygote */
    STK_EXIT_HELPER_CRASHED = 64u,
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
    STK_F_MOUNT = 8,        /* struct below, repeated, applied in order: the whole view but /proc and /dev */
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
    /* u64 bytes, at least STK_MIN_MEMORY_MAX: the whole sandbox's memory (every process, the
     * page cache and tmpfs pages it writes), enforced by its own cgroup (memory.max, v1
     * memory.limit_in_bytes); the kernel's OOM killer ends a process that would pass it. */
    STK_F_MEMORY_MAX = 17,
    /* u64 bytes of swap the sandbox may use besides MEMORY_MAX; needs MEMORY_MAX. Without it,
     * 0 (memory.swap.max 0, v1 memory.memsw.limit_in_bytes = MEMORY_MAX). */
    STK_F_MEMORY_SWAP_MAX = 18,
    /* u64, 1..STK_MAX_PIDS: the most processes (threads included) the sandbox holds at once,
     * pid 1 included, enforced by its cgroup (pids.max): a fork past it fails with EAGAIN. */
    STK_F_PIDS_MAX = 19,
    /* u32 quota_us, u32 period_us: CPU time per period for the whole sandbox (cpu.max, v1
     * cpu.cfs_quota_us / cpu.cfs_period_us); quota at least STK_MIN_CPU_QUOTA_US, period
     * STK_MIN_CPU_PERIOD_US..STK_MAX_CPU_PERIOD_US. */
    STK_F_CPU_MAX = 20,
    /* u64 bytes (at least 1, at most STK_MAX_OUTPUT_BYTES), u32 action (enum
     * stk_output_action), u32 reserved (0): a bound on what the command writes to its stdout
     * and stderr together. The monitor relays them through pipes of its own (a pty it relays
     * already is counted in its relay), counts, and past the bound drops what comes or kills
     * the sandbox. Without this field the command writes to the helper's fds 1 and 2 itself. */
    STK_F_MAX_OUTPUT = 23,
    /* u32 port (1..65535), u32 max_connections (1..STK_EGRESS_MAX_CONNECTIONS),
     * STK_EGRESS_TOKEN_SIZE bytes of token, then the rest of the value: the path, inside the
     * view, of a UNIX stream socket (absolute, shorter than sun_path). The forwarder sends the
     * token first on every stream it opens to the socket, before any relayed byte: the proxy
     * serves only streams that begin with it, so neither the command (which never sees it:
     * pid 1 and the forwarder are not dumpable) nor another sandbox that can reach the
     * socket's file can use the proxy, its allow list or its log. Needs CLONE_NEWNET and CLONE_NEWNS. Before the
     * command starts, pid 1 listens on 127.0.0.1:port in the sandbox's network namespace and
     * forks the egress forwarder (egress.c), which accepts there, connects a new stream to the
     * socket for each connection and relays bytes both ways, holding at most max_connections
     * at once. It reads nothing of what it relays: the proxy at the socket's other end (the
     * caller's side) decides what may go where. */
    STK_F_EGRESS = 24,
    /* Empty value: a warm sandbox. The spec has no ARG, ENV or CWD field; the helper sets the
     * whole sandbox up (every namespace, the view, the network, the cgroups, the forwarder),
     * pid 1 stops before the command's fork and the helper sends READY. The command, its
     * environment, its working directory and its stdio come in the one COMMAND frame that
     * follows; only then does pid 1 fork and exec it. The timeout (STK_F_TIMEOUT_MS) runs from
     * the COMMAND frame. The helper's own fds 0-2 are not the command's (the Java side passes
     * /dev/null there), so a warm sandbox never has a pty. */
    STK_F_WARM = 25,
};

/* The egress proxy (STK_F_EGRESS) the Java side asks for: the port inside, the socket's path
 * inside the view (a read-only bind of the caller's proxy socket, under the default view's
 * /run tmpfs), and the most connections one sandbox holds at once (the forwarder's bound and
 * the caller's proxy's, each per sandbox). */
#define STK_EGRESS_PORT 3128u
#define STK_EGRESS_SOCKET "/run/stockade-egress.sock"
#define STK_EGRESS_MAX_CONNECTIONS 256u
#define STK_EGRESS_TOKEN_SIZE 16u

/* What happens to output past STK_F_MAX_OUTPUT's bound. */
enum stk_output_action {
    STK_OUTPUT_DROP = 0, /* read and dropped: the command is never blocked by the bound */
    STK_OUTPUT_KILL = 1, /* the sandbox is killed at once (STK_EXIT_OUTPUT_LIMIT) */
};
/* The largest STK_F_MAX_OUTPUT bound: 2^62 bytes, so that counts never overflow. */
#define STK_MAX_OUTPUT_BYTES 4611686018427387904ull

/* STK_F_USER_LIMIT limits. The namespace value sets every max_*_namespaces file. */
enum stk_user_limit {
    STK_USER_LIMIT_INOTIFY_INSTANCES = 0, /* max_inotify_instances */
    STK_USER_LIMIT_INOTIFY_WATCHES = 1,   /* max_inotify_watches */
    STK_USER_LIMIT_FANOTIFY_GROUPS = 2,   /* max_fanotify_groups */
    STK_USER_LIMIT_FANOTIFY_MARKS = 3,    /* max_fanotify_marks */
    STK_USER_LIMIT_NAMESPACES = 4,        /* max_{user,pid,net,mnt,ipc,uts,cgroup,time}_namespaces */
};
/* The number of enum stk_user_limit members: the most USER_LIMIT fields a spec may have. */
#define STK_USER_LIMIT_COUNT 5u
/* The largest USER_LIMIT value (the sysctls are ints). */
#define STK_MAX_USER_LIMIT_VALUE 2147483647u
/* The largest PTY_MAX value: the kernel's own ceiling of a devpts instance. */
#define STK_MAX_PTYS 1048576u

/* The cgroup fields' bounds (STK_F_MEMORY_MAX..STK_F_CPU_MAX). A sandbox with any of them runs
 * in cgroups of its own, nested under the caller's (cgroup.c); where none can be made the
 * spawn fails at step "cgroup". */
#define STK_MIN_MEMORY_MAX (4u * 1024u * 1024u)
#define STK_MAX_PIDS 4194304u
/* The CPU period the Java side sends: cpus(0.5) is a quota of half of it. */
#define STK_CPU_PERIOD_US 100000u
#define STK_MIN_CPU_PERIOD_US 1000u
#define STK_MAX_CPU_PERIOD_US 1000000u
#define STK_MIN_CPU_QUOTA_US 1000u

/* Every tmpfs the helper mounts gets size= and nr_inodes=: inodes cost kernel memory that the
 * size does not count. A tmpfs of N bytes gets N / STK_TMPFS_BYTES_PER_INODE inodes, at least
 * STK_TMPFS_MIN_INODES. /dev/shm (inside the read-only /dev) is STK_DEV_SHM_SIZE bytes; a
 * TMPFS mount at /dev/shm replaces it. */

#define STK_TMPFS_BYTES_PER_INODE 8192u
#define STK_TMPFS_MIN_INODES 1024u
#define STK_DEV_SHM_SIZE (64u * 1024u * 1024u)

/* STK_F_MOUNT value: u32 type, u32 flags, u64 size, u32 src_length, src, u32 dst_length, dst.
 * The sandbox's root is a fresh read-only tmpfs (STK_ROOT_TMPFS_SIZE); /proc and /dev are the
 * helper's own; everything else in the view is a MOUNT. A destination is resolved inside the new
 * root without following any symbolic link (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS); a missing one
 * is created only where no mount of the host covers it (in the root tmpfs or a spec's TMPFS). */
enum stk_mount_type {
    STK_MOUNT_BIND = 1,  /* bind host path src at dst (recursive); flags STK_MOUNT_READONLY */
    STK_MOUNT_TMPFS = 2, /* fresh tmpfs at dst, size bytes (at least 1); src empty */
    /* A symbolic link at dst whose content is src (merged-/usr links such as /bin -> usr/bin);
     * size 0, no flags. */
    STK_MOUNT_SYMLINK = 3,
    /* overlayfs at dst: the host directory src (opened without following symlinks) as its only
     * lower layer, a fresh tmpfs of size bytes as upper: the sandbox writes there, never to src. */
    STK_MOUNT_OVERLAY = 4,
    /* A read-only regular file at dst whose content is src (at most STK_MAX_STRING bytes, may
     * be empty), owned by the sandbox's uid and gid, size holding its permission bits (at most
     * 0777): the synthesized /etc/passwd and /etc/group, an empty mode-0 file over /etc/shadow. */
    STK_MOUNT_FILE = 5,
    /* dst, already in the view inside an earlier writable BIND, bound onto itself: read-only
     * (STK_MOUNT_READONLY: a protected path such as .git/hooks) or writable (a directory that
     * holds a protected path, pinned so it cannot be renamed away and replaced). src is the
     * same path as the host sees it; with STK_MOUNT_CREATE a missing one is made there, or, in
     * the TRANSACTIONAL overlay, by pid 1 inside the overlay (the host is only read). */
    STK_MOUNT_PROTECT = 6,
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
    /* BIND without READONLY, root caller only, needs GUARD_BPF: idmapped so that the source's
     * owner (its uid and gid as the monitor finds them on the opened tree) is the sandbox user,
     * so what the command writes belongs on the host to that owner while the command runs as an
     * unprivileged uid. Safe only because the set-id guard stops set-id files and keeps
     * CAP_SETFCAP from the command: it refuses the user namespace of its own in which the
     * command would have it, and a file capability written there is stored with rootid = the
     * owner (0), effective on the host (seccomp/setid-guard-idmapped.policy). */
    STK_MOUNT_IDMAP_OWNER = 8u,
    /* PROTECT: when src does not exist, the monitor creates it before the clone (an empty file,
     * or a directory with STK_MOUNT_DIRECTORY, marked for later monitors) and removes it once
     * the sandbox is gone if it is still the empty placeholder it made and no other live sandbox
     * covers it (protect.c: parent locks): a path that did not exist cannot be created inside.
     * In the TRANSACTIONAL overlay pid 1 makes it inside the overlay instead (in the upper
     * layer, before the command exists), and the monitor removes it from the upper layer before
     * EXITED passes that on. */
    STK_MOUNT_CREATE = 16u,
    /* PROTECT with CREATE: the placeholder is a directory. */
    STK_MOUNT_DIRECTORY = 32u,
    /* TMPFS: mode 0700, owned by the sandbox user (the private home), instead of 1777. */
    STK_MOUNT_PRIVATE = 64u,
    /* OVERLAY, at most one: the transactional workspace. Its upper tmpfs outlives the sandbox:
     * the overlay is made with redirect_dir=nofollow, metacopy=off, index=off (the upper layer
     * alone then describes every change), and EXITED carries an fd of the upper directory
     * (SCM_RIGHTS) for the Java side to apply or discard; the flag STK_EXIT_DISK_LIMIT says the
     * upper tmpfs was full when the sandbox ended. */
    STK_MOUNT_TRANSACTIONAL = 128u,
};

/* The sandbox's root: a tmpfs that holds only mount points and symbolic links, made read-only
 * before pivot_root. */
#define STK_ROOT_TMPFS_SIZE (1024u * 1024u)
/* The largest permission bits of a FILE mount (no set-id, no sticky bit). */
#define STK_MAX_FILE_MODE 0777u

/*
 * The set-up steps an ERROR event names. On the wire a step is its name (the member's name
 * without STK_STEP_, in lower case: STK_STEP_MOUNT_ROOT is "mount_root"); the helper's
 * stk_step_name() and the Java enum dev.stockade.SetupStep, generated from this list, spell
 * it so. Roughly in set-up order; docs/protocol.md says what each step does.
 */
enum stk_step {
    /* The SPEC frame is malformed, breaks a bound, or asks for what the caller may not have. */
    STK_STEP_SPEC = 0,
    /* A frame could not be read or is not the one expected (either side). */
    STK_STEP_PROTOCOL = 1,
    /* Closing inherited fds (the helper at its start; the command before execve). */
    STK_STEP_CLOSE_FDS = 2,
    /* Reading cap_last_cap, or dropping every capability (pid 1). */
    STK_STEP_CAPABILITIES = 3,
    /* The sandbox's own pty: opening it (monitor), making it the terminal (command). */
    STK_STEP_PTY = 4,
    /* clone() of pid 1 with the namespaces, and the monitor's pipes, pidfd and signalfd. */
    STK_STEP_CLONE = 5,
    /* A root caller's idmapped binds: the user namespace their mapping comes from. */
    STK_STEP_IDMAP = 6,
    /* Writing "deny" to /proc/PID/setgroups, or setgroups(0, NULL) in pid 1. */
    STK_STEP_SETGROUPS = 7,
    /* Writing pid 1's /proc/PID/uid_map. */
    STK_STEP_UID_MAP = 8,
    /* Writing pid 1's /proc/PID/gid_map. */
    STK_STEP_GID_MAP = 9,
    /* pid 1's filesystem gid to the inside gid. */
    STK_STEP_SETFSGID = 10,
    /* pid 1's filesystem uid to the inside uid. */
    STK_STEP_SETFSUID = 11,
    /* The USER_LIMIT values under the user namespace's /proc/sys/user. */
    STK_STEP_USER_LIMITS = 12,
    /* mount / MS_REC|MS_PRIVATE: nothing propagates back to the host. */
    STK_STEP_MOUNT_PRIVATE = 13,
    /* The tmpfs that becomes the sandbox's root (made read-only before pivot_root). */
    STK_STEP_MOUNT_ROOT = 14,
    /* The sandbox's /proc. */
    STK_STEP_PROC = 15,
    /* The sandbox's /dev. */
    STK_STEP_DEV = 16,
    /* A BIND mount. */
    STK_STEP_BIND = 17,
    /* A TMPFS mount. */
    STK_STEP_TMPFS = 18,
    /* pivot_root into the new root and detaching the old one. */
    STK_STEP_PIVOT_ROOT = 19,
    /* sethostname. */
    STK_STEP_HOSTNAME = 20,
    /* Bringing up lo in the new network namespace (its maker, netns.h). */
    STK_STEP_LOOPBACK = 21,
    /* pid 1's gids to the inside gid. */
    STK_STEP_SETRESGID = 22,
    /* pid 1's uids to the inside uid. */
    STK_STEP_SETRESUID = 23,
    /* Locking the securebits. */
    STK_STEP_SECUREBITS = 24,
    /* PR_SET_DUMPABLE 0 in pid 1. */
    STK_STEP_DUMPABLE = 25,
    /* pid 1 as init: subreaper, signalfd, forking the command, its exec status. */
    STK_STEP_INIT = 26,
    /* Installing the seccomp filters, or passing the listener and answering with its table. */
    STK_STEP_SECCOMP = 27,
    /* The command's new session. */
    STK_STEP_SETSID = 28,
    /* The command's working directory. */
    STK_STEP_CHDIR = 29,
    /* The command's rlimits. */
    STK_STEP_RLIMIT = 30,
    /* Clearing the command's signal mask. */
    STK_STEP_SIGPROCMASK = 31,
    /* PR_SET_NO_NEW_PRIVS 1 in the command. */
    STK_STEP_NO_NEW_PRIVS = 32,
    /* The program search and execve (exit code 126 or 127 when the program cannot run). */
    STK_STEP_EXECVE = 33,
    /* Java side only: the helper died, or ended without reporting the command's end. */
    STK_STEP_HELPER = 34,
    /* Java side only (the CLI): the sandbox could not be started at all. */
    STK_STEP_START = 35,
    /* A SYMLINK mount. */
    STK_STEP_SYMLINK = 36,
    /* An OVERLAY mount: its lower layer, its tmpfs upper, the overlayfs. */
    STK_STEP_OVERLAY = 37,
    /* A FILE mount. */
    STK_STEP_FILE = 38,
    /* A PROTECT mount, or its placeholder (made by the monitor on the host, or by pid 1 in a
     * transactional overlay; removed after the end). */
    STK_STEP_PROTECT = 39,
    /* The sandbox's cgroups (monitor): finding the caller's, removing stale ones of dead
     * sandboxes, creating the sandbox's and writing its limits. */
    STK_STEP_CGROUP = 40,
    /* Moving pid 1 into the sandbox's cgroups, before it is released. */
    STK_STEP_CGROUP_ATTACH = 41,
    /* pid 1's own cgroup namespace, rooted at its cgroup, and the /sys/fs/cgroup it shows. */
    STK_STEP_CGROUP_NAMESPACE = 42,
    /* The transactional workspace's upper layer: pid 1 handing it to the monitor, the monitor
     * measuring it and passing it on with EXITED. */
    STK_STEP_TRANSACTIONAL = 44,
    /* The output relay of STK_F_MAX_OUTPUT: its pipes (monitor). */
    STK_STEP_OUTPUT = 46,
    /* The egress forwarder of STK_F_EGRESS: pid 1's listening socket and the forwarder's fork
     * (pid 1, after the capabilities are dropped, before the command's fork). */
    STK_STEP_EGRESS = 47,
    /* A warm sandbox's COMMAND frame: reading it and its descriptors (monitor), and pid 1
     * taking the command over. */
    STK_STEP_COMMAND = 48,
    /* Java side only: resolving the policy into the spec (the seccomp program compiled or taken
     * from its cache) and encoding it; reported only in set-up timings. */
    STK_STEP_RESOLVE = 49,
    /* The sandbox's network namespace: made beside pid 1 (entering its user namespace,
     * unshare, lo up) and joined by pid 1 after the view; in the timings, pid 1's wait for it
     * and the join. */
    STK_STEP_NETWORK_NAMESPACE = 50,
};

#endif
