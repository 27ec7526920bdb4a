package dev.stockade;

import dev.stockade.internal.Errno;

/**
 * What the seccomp filter does with a system call: the kernel's {@code SECCOMP_RET_*} actions.
 * Instances are values: compare them with {@link #equals}.
 */
public final class SeccompAction {
    /** The kinds of action. */
    public enum Kind {
        /** Run the system call. */
        ALLOW(0x7fff0000),
        /** Fail the system call with an errno, without running it. */
        ERRNO(0x00050000),
        /** Kill the whole process (SIGSYS, as if by a signal). */
        KILL_PROCESS(0x80000000),
        /** Kill the calling thread. */
        KILL_THREAD(0x00000000),
        /** Send SIGSYS to the calling thread. */
        TRAP(0x00030000),
        /** Run the system call and log it to the kernel audit log. */
        LOG(0x7ffc0000);

        private final int base;

        Kind(int base) {
            this.base = base;
        }
    }

    /** Run the system call. */
    public static final SeccompAction ALLOW = new SeccompAction(Kind.ALLOW, 0);
    /** Kill the whole process. */
    public static final SeccompAction KILL_PROCESS = new SeccompAction(Kind.KILL_PROCESS, 0);
    /** Kill the calling thread. */
    public static final SeccompAction KILL_THREAD = new SeccompAction(Kind.KILL_THREAD, 0);
    /** Deliver SIGSYS. */
    public static final SeccompAction TRAP = new SeccompAction(Kind.TRAP, 0);
    /** Allow and log. */
    public static final SeccompAction LOG = new SeccompAction(Kind.LOG, 0);

    /** The largest errno the kernel returns from a system call (MAX_ERRNO). */
    public static final int MAX_ERRNO = 4095;

    private final Kind kind;
    private final int errno;

    private SeccompAction(Kind kind, int errno) {
        this.kind = kind;
        this.errno = errno;
    }

    /**
     * Fail the system call with {@code errno} (1..4095; the policy reports other values as a
     * problem).
     */
    public static SeccompAction errno(int errno) {
        return new SeccompAction(Kind.ERRNO, errno);
    }

    public Kind kind() {
        return kind;
    }

    /** The errno of an {@link Kind#ERRNO} action, 0 for the others. */
    public int errno() {
        return errno;
    }

    /** The {@code SECCOMP_RET_*} value the kernel expects (action | data). */
    public int value() {
        return kind.base | (errno & 0xffff);
    }

    boolean isValid() {
        return kind != Kind.ERRNO || (errno >= 1 && errno <= MAX_ERRNO);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeccompAction a && a.kind == kind && a.errno == errno;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + errno;
    }

    @Override
    public String toString() {
        return kind == Kind.ERRNO ? "ERRNO(" + Errno.name(errno) + ")" : kind.name();
    }
}
