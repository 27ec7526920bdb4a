package dev.stockade.internal;

/**
 * The constants of the wire protocol, mirrored from {@code native/include/stockade.h} (the
 * contract; {@code docs/protocol.md} is its prose). Keep the two in step: the helper rejects any
 * spec that disagrees with it. Every integer on the wire is little-endian.
 */
public final class Protocol {
    private Protocol() {}

    public static final int MAGIC = 0x444b5453; // "STKD" read as a little-endian u32
    public static final int VERSION = 1;

    public static final int FRAME_HEADER_SIZE = 8;
    /** A SPEC field: u16 tag, u16 reserved, u32 length. */
    public static final int FIELD_HEADER_SIZE = 8;
    public static final int MAX_SPEC_SIZE = 16 * 1024 * 1024;
    public static final int MAX_ARGS = 65536;
    public static final int MAX_ENV = 65536;
    public static final int MAX_MOUNTS = 1024;
    public static final int MAX_RLIMITS = 32;
    public static final int MAX_STRING = 65536;
    public static final int MAX_BPF_INSNS = 4096;
    public static final int MAX_HOSTNAME = 64;
    /** The most STK_F_REPORT fields a spec may have. */
    public static final int MAX_REPORTS = 1024;
    /** The longest mount source or target in bytes (pid 1 resolves them in fixed buffers). */
    public static final int MAX_MOUNT_PATH = 4095;
    /** The most a millisecond field may hold (about 31 years): deadlines in ns never overflow. */
    public static final long MAX_DURATION_MS = 1_000_000_000_000L;
    /** A REPORT field's syscall number is below this. */
    public static final int MAX_REPORT_NR = 4096;
    /** The largest errno a REPORT field may answer with. */
    public static final int MAX_REPORT_ERRNO = 4095;
    /** The largest STK_F_USER_LIMIT value (the sysctls are ints). */
    public static final long MAX_USER_LIMIT_VALUE = 2147483647L;
    /** The largest STK_F_PTY_MAX value. */
    public static final long MAX_PTYS = 1048576L;

    // Frame types, Java -> helper.
    public static final int MSG_SPEC = 1;
    public static final int MSG_KILL = 2;

    public static final int KILL_GRACEFUL = 0;
    public static final int KILL_NOW = 1;

    // Frame types, helper -> Java.
    public static final int EVT_STARTED = 101;
    public static final int EVT_ERROR = 102;
    public static final int EVT_EXITED = 103;
    /** A syscall caught by a report rule: u32 nr, u32 errno, u64 count, i32 pid, u32 0, u64[6]. */
    public static final int EVT_VIOLATION = 104;

    public static final int EXIT_TIMED_OUT = 1;
    public static final int EXIT_KILLED = 2;

    // SPEC field tags.
    public static final int F_ARG = 1;
    public static final int F_ENV = 2;
    public static final int F_CWD = 3;
    public static final int F_NAMESPACES = 4;
    public static final int F_UID = 5;
    public static final int F_GID = 6;
    public static final int F_HOSTNAME = 7;
    public static final int F_MOUNT = 8;
    public static final int F_RLIMIT = 9;
    public static final int F_TIMEOUT_MS = 10;
    public static final int F_KILL_GRACE_MS = 11;
    public static final int F_SECCOMP_BPF = 12;
    /** u32 syscall_nr, u32 errno (0 = let it run), repeated: the syscalls sent to pid 1. */
    public static final int F_REPORT = 13;
    /** A second filter program, installed before F_SECCOMP_BPF's: the set-id guard. */
    public static final int F_GUARD_BPF = 14;
    /** u32 limit (USER_LIMIT_*), u32 0, u64 value: a /proc/sys/user bound of the sandbox. */
    public static final int F_USER_LIMIT = 15;
    /** u32: the devpts instance's max= (ptys). */
    public static final int F_PTY_MAX = 16;

    // STK_F_USER_LIMIT limits (enum stk_user_limit).
    public static final int USER_LIMIT_INOTIFY_INSTANCES = 0;
    public static final int USER_LIMIT_INOTIFY_WATCHES = 1;
    public static final int USER_LIMIT_FANOTIFY_GROUPS = 2;
    public static final int USER_LIMIT_FANOTIFY_MARKS = 3;
    public static final int USER_LIMIT_NAMESPACES = 4;

    public static final int MOUNT_BIND = 1;
    public static final int MOUNT_TMPFS = 2;
    public static final int MOUNT_READONLY = 1;
    /** A root caller's read-only bind, idmapped (host root's files as the sandbox user's). */
    public static final int MOUNT_IDMAP = 2;
    /** The bind's source may be a socket or a FIFO. */
    public static final int MOUNT_SPECIAL = 4;

    /** Size of one {@code struct sock_filter}: u16 code, u8 jt, u8 jf, u32 k. */
    public static final int BPF_INSN_SIZE = 8;

    // CLONE_NEW* flags (kernel values, include/uapi/linux/sched.h), the NAMESPACES field's bits.
    public static final int CLONE_NEWNS = 0x00020000;
    public static final int CLONE_NEWCGROUP = 0x02000000;
    public static final int CLONE_NEWUTS = 0x04000000;
    public static final int CLONE_NEWIPC = 0x08000000;
    public static final int CLONE_NEWUSER = 0x10000000;
    public static final int CLONE_NEWPID = 0x20000000;
    public static final int CLONE_NEWNET = 0x40000000;

    // RLIMIT_* resource numbers (generic Linux values, include/uapi/asm-generic/resource.h).
    public static final int RLIMIT_CPU = 0;
    public static final int RLIMIT_FSIZE = 1;
    public static final int RLIMIT_STACK = 3;
    public static final int RLIMIT_CORE = 4;
    public static final int RLIMIT_NPROC = 6;
    public static final int RLIMIT_NOFILE = 7;
    public static final int RLIMIT_AS = 9;
}
