package dev.stockade.internal;

import java.io.FileDescriptor;
import java.io.IOException;

/**
 * The JNI entry points of libstockade.so (native/src/jni/). Every method is a thin wrapper of
 * one system call or one libseccomp operation; the logic lives in Java. Failed system calls
 * throw {@link NativeException} carrying the call's name and errno.
 *
 * <p>All descriptors created here are {@code O_CLOEXEC}. Load the library with
 * {@link NativeLoader#ensureLoaded()} before calling anything.
 */
public final class NativeBridge {
    private NativeBridge() {}

    /** {@code pipe2(O_CLOEXEC)}: returns {read end, write end}. */
    public static native int[] pipe() throws NativeException;

    /** {@code socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)}: returns two connected ends. */
    public static native int[] socketPair() throws NativeException;

    /** {@code open(path, flags | O_CLOEXEC, mode)}; flags use the Linux O_* values. */
    public static native int open(String path, int flags, int mode) throws NativeException;

    /**
     * {@code fcntl(fd, F_DUPFD_CLOEXEC, lowest)}: a close-on-exec copy of {@code fd} numbered
     * {@code lowest} or above.
     */
    public static native int duplicate(int fd, int lowest) throws NativeException;

    /** {@code close(fd)}; EINTR is treated as success (Linux always releases the fd). */
    public static native void close(int fd) throws NativeException;

    /** {@code isatty(fd)}: whether {@code fd} is a terminal (a bad fd is not). */
    public static native boolean isTerminal(int fd);

    /**
     * Starts {@code helperPath} with {@code posix_spawn}: argv {@code argv}, an empty
     * environment, signal mask cleared and every signal at its default disposition, a new
     * process group not created (the helper stays in the caller's group), and these fds:
     * {@code stdin} at 0, {@code stdout} at 1, {@code stderr} at 2, {@code control} at 3,
     * {@code progress} at 4 unless it is -1 (the set-up progress page, {@link #progressPage}).
     * The sources keep their {@code O_CLOEXEC} in this process. {@code helperPath} may be
     * {@code /proc/self/fd/N} for an executable this process holds open, N above 3: execve
     * resolves it before the close-on-exec descriptors are closed.
     *
     * @return {pid, pidfd}; pidfd comes from {@code pidfd_open} right after the spawn
     */
    public static native int[] spawn(String helperPath, String[] argv, int stdin, int stdout,
            int stderr, int control, int progress) throws NativeException;

    /**
     * What a process started from the calling thread inherits that this JVM (or one of its
     * threads) may change after, as opaque bytes to compare ({@link HelperZygote} serves each
     * context from a zygote of its own): the thread's namespaces (those its children are made
     * in), root and working directories; its cgroups; {@code oom_score_adj} and rlimits; from
     * {@code /proc/thread-self/status} the umask, ids and groups, capability sets,
     * no_new_privs, seccomp mode and filter count, CPU and memory-node affinity and
     * speculation controls; nice value, scheduling policy and priority, I/O priority, timer
     * slack; securebits, transparent-huge-page opt-out, personality, LSM labels, core-scheduling
     * cookie and memory-deny-write-execute. Not seen: which
     * seccomp filters (their number is) and a Landlock domain, neither of which the kernel
     * shows (docs/protocol.md, "The zygote socket").
     *
     * @return the context, or null when it could not be read (the thread's namespace links,
     *     cgroups or status unreadable): then no zygote may serve more than one spawn
     */
    public static native byte[] spawnContext();

    /**
     * The set-up progress page ({@code STK_PROGRESS_FD} in stockade.h): {@code memfd_create}
     * of {@link Protocol#PROGRESS_SIZE} zero bytes, sealed against shrinking and growing (and
     * against further seals), close-on-exec.
     */
    public static native int progressPage() throws NativeException;

    /** {@code pread(fd, buffer, buffer.length, offset)}: the bytes read (retried on EINTR). */
    public static native int pread(int fd, byte[] buffer, long offset) throws NativeException;

    /** {@code pwrite(fd, buffer, buffer.length, offset)}, all of it or a NativeException. */
    public static native void pwrite(int fd, byte[] buffer, long offset) throws NativeException;

    /** {@code POLLIN} for {@link #poll}. */
    public static final int POLLIN = 0x1;

    /**
     * {@code poll} of one fd for {@code events}, at most {@code timeoutMs} (-1: no limit):
     * the revents, 0 when the time passed (or a signal interrupted the wait).
     */
    public static native int poll(int fd, int events, int timeoutMs) throws NativeException;

    /** {@code POLLHUP} in what {@link #poll} and {@link #pollAll} return: the other end closed. */
    public static final int POLLHUP = 0x10;

    /**
     * {@code poll} of {@code fds} (at most fds.c's POLL_ALL_MAX_FDS, 16; a negative one is
     * skipped) for {@code events}, at most {@code timeoutMs} (-1: no limit): each fd's revents
     * in the same order, all 0 when the time passed (or a signal interrupted the wait).
     */
    public static native int[] pollAll(int[] fds, int events, int timeoutMs)
            throws NativeException;

    /** {@code pidfd_send_signal(pidfd, signal, NULL, 0)}; ESRCH is ignored (already gone). */
    public static native void sendSignal(int pidfd, int signal) throws NativeException;

    /**
     * Blocks in {@code waitid(P_PIDFD, pidfd, WEXITED)} and returns the child's status encoded
     * the way {@code waitpid} encodes it (so {@code WIFEXITED} etc. apply). Retries on EINTR.
     */
    public static native int waitFor(int pidfd) throws NativeException;

    /** A {@link FileDescriptor} that owns {@code fd} (closing a stream on it closes fd). */
    public static native FileDescriptor newFileDescriptor(int fd);

    /** The raw fd number held by a {@link FileDescriptor}, or -1 when it is closed. */
    public static native int fdNumber(FileDescriptor descriptor);

    /** {@code AT_FDCWD}: a path relative to (or, absolute, regardless of) the working directory. */
    public static final int AT_FDCWD = -100;

    /** {@code AT_REMOVEDIR} for {@link #unlinkat}: remove an empty directory. */
    public static final int AT_REMOVEDIR = 0x200;

    /** {@code RESOLVE_NO_XDEV}: fail with EXDEV instead of crossing a mount point. */
    public static final long RESOLVE_NO_XDEV = 0x01;

    /** {@code RESOLVE_NO_MAGICLINKS}: fail with ELOOP on a procfs magic link. */
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;

    /** {@code RESOLVE_NO_SYMLINKS}: fail with ELOOP on any symbolic link on the way. */
    public static final long RESOLVE_NO_SYMLINKS = 0x04;

    /** {@code RESOLVE_BENEATH}: fail with EXDEV when resolution would leave {@code dirfd}. */
    public static final long RESOLVE_BENEATH = 0x08;

    /** Index of {@code st_mode} in what {@link #fstat} returns. */
    public static final int STAT_MODE = 0;
    /** Index of {@code st_size}. */
    public static final int STAT_SIZE = 1;
    /** Index of {@code st_dev}. */
    public static final int STAT_DEV = 2;
    /** Index of {@code st_ino}. */
    public static final int STAT_INO = 3;
    /** Index of {@code st_uid}. */
    public static final int STAT_UID = 4;
    /** Index of {@code st_gid}. */
    public static final int STAT_GID = 5;
    /** Index of {@code st_nlink}. */
    public static final int STAT_NLINK = 6;
    /** Index of a device's {@code major(st_rdev)} in {@link #fstat}'s result. */
    public static final int STAT_RDEV_MAJOR = 7;
    /** Index of a device's {@code minor(st_rdev)} in {@link #fstat}'s result. */
    public static final int STAT_RDEV_MINOR = 8;
    /** Index of {@code st_mtim.tv_sec} in {@link #fstat}'s result. */
    public static final int STAT_MTIME_SEC = 9;
    /** Index of {@code st_mtim.tv_nsec} in {@link #fstat}'s result. */
    public static final int STAT_MTIME_NSEC = 10;

    /**
     * {@code openat2(dirfd, path, {flags | O_CLOEXEC, mode, resolve})}, retried on EINTR and a
     * few times on EAGAIN. {@code path} is the raw bytes of the path (no NUL); flags are the
     * Linux O_* values ({@link Platform} has the ones that differ by architecture), resolve the
     * RESOLVE_* bits above; mode counts only with O_CREAT.
     */
    public static native int openat2(int dirfd, byte[] path, int flags, int mode, long resolve)
            throws NativeException;

    /**
     * {@code fstat(fd)}: {mode, size, dev, ino, uid, gid, nlink, rdev major, rdev minor, mtime
     * seconds, mtime nanoseconds} at the STAT_* indices. Works on
     * an {@code O_PATH} descriptor, so a FIFO or a symbolic link can be examined unopened.
     */
    public static native long[] fstat(int fd) throws NativeException;

    /**
     * {@code getdents64(fd, buffer, buffer.length)}: fills {@code buffer} with
     * {@code struct linux_dirent64} records (native byte order) and returns how many bytes,
     * 0 at the end of the directory. {@code fd} must be open for reading (not O_PATH).
     */
    public static native int getdents64(int fd, byte[] buffer) throws NativeException;

    /** {@code SEEK_SET} for {@link #lseek}. */
    public static final int SEEK_SET = 0;

    /**
     * {@code lseek(fd, offset, whence)}: the new offset. On a directory, offset 0 with
     * {@link #SEEK_SET} makes {@link #getdents64} list it again from the start.
     */
    public static native long lseek(int fd, long offset, int whence) throws NativeException;

    /** {@code unlinkat(dirfd, name, flags)}; flags 0 or {@link #AT_REMOVEDIR}. */
    public static native void unlinkat(int dirfd, byte[] name, int flags) throws NativeException;

    /**
     * {@code fchmodat2(fd, "", mode, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)} (Linux 6.6): the mode
     * of the inode {@code fd} refers to, an {@code O_PATH} descriptor too; no name is looked up
     * (a link: EOPNOTSUPP).
     */
    public static native void fchmod(int fd, int mode) throws NativeException;

    /**
     * {@code fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)}: the owner of the
     * inode {@code fd} refers to, an {@code O_PATH} descriptor of a link too (the link itself).
     */
    public static native void fchown(int fd, int uid, int gid) throws NativeException;

    /**
     * {@code utimensat(fd, "", {t, t}, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)}: access and
     * modification time of the inode {@code fd} refers to (an {@code O_PATH} descriptor of a link
     * too: the link itself) to {@code seconds.nanos}.
     */
    public static native void futimens(int fd, long seconds, long nanos) throws NativeException;

    /** {@code fstatfs(fd)}'s {@code f_type}: which filesystem {@code fd} is on (O_PATH too). */
    public static native long fstatfsType(int fd) throws NativeException;

    /** {@code mkdirat(dirfd, name, mode)} (the umask applies). */
    public static native void mkdirat(int dirfd, byte[] name, int mode) throws NativeException;

    /**
     * {@code readlinkat(dirfd, name)}: the raw content of the symbolic link {@code name}; an
     * empty {@code name} reads the link {@code dirfd} itself refers to (opened
     * {@code O_PATH | O_NOFOLLOW}).
     */
    public static native byte[] readlinkat(int dirfd, byte[] name) throws NativeException;

    /** {@code RENAME_NOREPLACE} for {@link #renameatFlags}: EEXIST rather than replacing. */
    public static final int RENAME_NOREPLACE = 1;

    /** {@code renameat2(olddirfd, oldname, newdirfd, newname, flags)}; flags 0 replaces. */
    public static native void renameatFlags(int olddirfd, byte[] oldname, int newdirfd,
            byte[] newname, int flags) throws NativeException;

    /** {@code symlinkat(target, dirfd, name)}: a new link {@code name} whose content is {@code target}. */
    public static native void symlinkat(byte[] target, int dirfd, byte[] name)
            throws NativeException;

    /**
     * {@code fgetxattr(fd, name)} on a descriptor open for reading: the value (at most 4096
     * bytes), or {@code null} when the file has no such attribute (ENODATA).
     */
    public static native byte[] fgetxattr(int fd, byte[] name) throws NativeException;

    /**
     * {@code recvmsg(fd)} into {@code buffer[offset, offset + length)}: the bytes read, 0 at the
     * end of stream; {@code passed[0]} gets a descriptor that came with them (SCM_RIGHTS,
     * close-on-exec), else -1.
     */
    public static native int receive(int fd, byte[] buffer, int offset, int length, int[] passed)
            throws NativeException;

    /**
     * {@code sendmsg} of {@code buffer[offset, offset + length)} with {@code fds} (1 to
     * {@code STK_FORK_MAX_FDS}) attached to its first byte ({@code SCM_RIGHTS}); returns the
     * bytes sent, which may be fewer than {@code length}: the rest goes without descriptors.
     */
    public static native int sendWithFds(int fd, byte[] buffer, int offset, int length, int[] fds)
            throws NativeException;

    /** {@code getuid()} and {@code getgid()} of this process. */
    public static native int getuid();

    public static native int getgid();

    /**
     * The syscall number of {@code name} on the native architecture (libseccomp's
     * {@code seccomp_syscall_resolve_name}), or -1 when this architecture has no such syscall.
     */
    public static native int resolveSyscall(String name);

    /**
     * Compiles a filter with libseccomp and returns the BPF program as bytes (an array of
     * {@code struct sock_filter}) ready for {@code seccomp(SECCOMP_SET_MODE_FILTER)}.
     *
     * <p>The filter kills the process on a foreign architecture
     * ({@code SCMP_FLTATR_ACT_BADARCH = KILL_PROCESS}), rejects the x32 ABI on x86_64, does not
     * set no_new_privs itself ({@code SCMP_FLTATR_CTL_NNP} 0: the helper sets it) and uses
     * binary-tree optimisation ({@code SCMP_FLTATR_CTL_OPTIMIZE} 2).
     *
     * @param defaultAction the action for syscalls no rule matches (a SECCOMP_RET_* value,
     *     e.g. 0x7fff0000 allow, 0x00050000|errno)
     * @param syscalls per rule, the syscall number (from {@link #resolveSyscall})
     * @param actions per rule, the action (SECCOMP_RET_* value)
     * @param conditionCounts per rule, how many argument conditions it has (0..6)
     * @param conditions for all rules in order, four longs per condition:
     *     argument index (0..5), operator (libseccomp's SCMP_CMP_* value: 1 NE, 2 LT, 3 LE,
     *     4 EQ, 5 GE, 6 GT, 7 MASKED_EQ), datum A, datum B (for MASKED_EQ: A is the mask,
     *     B the value; otherwise A is the value and B is 0); all conditions of one rule must
     *     hold together
     * @throws NativeException naming the libseccomp call and its errno (for example
     *     seccomp_rule_add with EINVAL for a conflicting rule)
     */
    public static native byte[] compileSeccomp(int defaultAction, int[] syscalls, int[] actions,
            int[] conditionCounts, long[] conditions) throws NativeException;

    /** Checked exception for a failed system call: the call's name and the errno. */
    public static final class NativeException extends IOException {
        private static final long serialVersionUID = 1L;
        private final String call;
        private final int errno;

        public NativeException(String call, int errno, String message) {
            super(call + ": " + message + " (errno " + errno + ")");
            this.call = call;
            this.errno = errno;
        }

        public String call() {
            return call;
        }

        public int errno() {
            return errno;
        }
    }
}
