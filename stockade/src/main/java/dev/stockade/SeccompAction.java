package dev.stockade;

import dev.stockade.internal.Errno;
import dev.stockade.internal.policy.ProfileText;

/**
 * What the seccomp filter does with a system call: the kernel's {@code SECCOMP_RET_*} actions.
 * Instances are values: compare them with {@link #equals}.
 */
public final class SeccompAction {
    /** The kinds of action, each with the kernel's {@code SECCOMP_RET_*} action value. */
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
        LOG(0x7ffc0000),
        /**
         * Hand the system call to the sandbox's pid 1 (seccomp user notification,
         * {@code SECCOMP_RET_USER_NOTIF}), which answers it with the action's errno (or lets it
         * run when the errno is 0) and records it: the call shows up in
         * {@link SandboxResult#violations()}. Without user notification in the kernel the
         * sandbox falls back to {@link #ERRNO} with the same errno (or to {@link #ALLOW} for
         * errno 0); {@link Sandbox#probe()} tells which applies.
         */
        REPORT(0x7fc00000);

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

    /**
     * The largest errno a filter rule may return: the kernel's MAX_ERRNO is 4095, but libseccomp
     * refuses an ERRNO action with 4095 (it treats the value as out of range), so a profile
     * using it is reported at load time rather than failing to compile.
     */
    public static final int MAX_ERRNO = 4094;

    private final Kind kind;
    private final int errno;

    private SeccompAction(Kind kind, int errno) {
        this.kind = kind;
        this.errno = errno;
    }

    /**
     * Fail the system call with an errno, without running it.
     *
     * @param errno the errno the call fails with, 1..{@link #MAX_ERRNO}; other values are not
     *     refused here but reported by {@link SeccompProfile#problems()}
     * @return an {@link Kind#ERRNO} action
     */
    public static SeccompAction errno(int errno) {
        return new SeccompAction(Kind.ERRNO, errno);
    }

    /**
     * Deny the system call with {@code errno} and record it in the sandbox's report
     * ({@link SandboxResult#violations()}); with {@code errno} 0 the call runs and is recorded
     * (for auditing a build step).
     *
     * @param errno the errno the call fails with, 0..{@link #MAX_ERRNO}, 0 to let it run;
     *     other values are not refused here but reported by {@link SeccompProfile#problems()}
     * @return a {@link Kind#REPORT} action
     */
    public static SeccompAction report(int errno) {
        return new SeccompAction(Kind.REPORT, errno);
    }

    /**
     * Deny with {@code EPERM} and record: {@code report(1)}, the policy language's
     * {@code report}.
     *
     * @return a {@link Kind#REPORT} action with errno {@code EPERM}
     */
    public static SeccompAction report() {
        return report(1);
    }

    /**
     * The kind of action.
     *
     * @return the kind, which decides what {@link #errno()} means
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The errno of an {@link Kind#ERRNO} action, the errno a {@link Kind#REPORT} action answers
     * with (0 when the call is let through), 0 for the others.
     *
     * @return the errno, 0..{@link #MAX_ERRNO} for a valid action
     */
    public int errno() {
        return errno;
    }

    /**
     * The value the filter returns for this action, as the kernel reads it.
     *
     * @return the {@code SECCOMP_RET_*} action in the high 16 bits, the errno in the low 16 for
     *     {@link Kind#ERRNO}; a {@link Kind#REPORT} has no data, pid 1 knows each call's errno
     */
    public int value() {
        // A user notification carries no data: pid 1 looks up the errno per syscall.
        return kind == Kind.REPORT ? kind.base : kind.base | (errno & 0xffff);
    }

    /**
     * Whether the call is recorded in the sandbox's report.
     *
     * @return {@code true} for a {@link Kind#REPORT} action
     */
    public boolean isReport() {
        return kind == Kind.REPORT;
    }

    /**
     * What this action becomes where the kernel has no seccomp user notification: a report
     * still denies with its errno ({@code report(0)} allows); every other action is itself.
     *
     * @return an action that is not a {@link Kind#REPORT}
     */
    public SeccompAction withoutReport() {
        if (kind != Kind.REPORT) {
            return this;
        }
        return errno == 0 ? ALLOW : errno(errno);
    }

    /**
     * Whether the errno is one a filter can return: 1..{@link #MAX_ERRNO} for {@code errno},
     * 0..{@link #MAX_ERRNO} for {@code report} (0: let the call run). A profile with an invalid
     * action lists it in {@link SeccompProfile#problems()}.
     *
     * @return {@code true} when the errno is in range; always for the kinds without one
     */
    public boolean isValid() {
        return switch (kind) {
            case ERRNO -> errno >= 1 && errno <= MAX_ERRNO;
            case REPORT -> errno >= 0 && errno <= MAX_ERRNO;
            default -> true;
        };
    }

    /**
     * This action as the profile language ({@code docs/policy-reference.md}) writes it, the way
     * {@link SeccompProfile#toText()} and {@code stockade policy check} show it: {@code allow},
     * {@code errno(EPERM)}, {@code kill}, {@code kill_thread}, {@code trap}, {@code log},
     * {@code report} (EPERM), {@code report(ENOSYS)}, {@code report(allow)}. An errno without
     * a name is written as its number.
     *
     * @return the action in the policy language
     */
    public String toText() {
        return ProfileText.show(this);
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
        return switch (kind) {
            case ERRNO -> "ERRNO(" + Errno.name(errno) + ")";
            case REPORT -> "REPORT(" + (errno == 0 ? "allow" : Errno.name(errno)) + ")";
            default -> kind.name();
        };
    }
}
