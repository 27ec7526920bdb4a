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

    /**
     * Starts {@code helperPath} with {@code posix_spawn}: argv {@code argv}, an empty
     * environment, signal mask cleared and every signal at its default disposition, a new
     * process group not created (the helper stays in the caller's group), and these fds:
     * {@code stdin} at 0, {@code stdout} at 1, {@code stderr} at 2, {@code control} at 3.
     * The sources keep their {@code O_CLOEXEC} in this process. {@code helperPath} may be
     * {@code /proc/self/fd/N} for an executable this process holds open, N above 3: execve
     * resolves it before the close-on-exec descriptors are closed.
     *
     * @return {pid, pidfd}; pidfd comes from {@code pidfd_open} right after the spawn
     */
    public static native int[] spawn(String helperPath, String[] argv, int stdin, int stdout,
            int stderr, int control) throws NativeException;

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
