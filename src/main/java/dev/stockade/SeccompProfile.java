package dev.stockade;

import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SyscallNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * A seccomp-bpf system call filter: a default action plus an ordered list of rules. The helper
 * installs it last, right before {@code execve}, after {@code no_new_privs}; a foreign
 * architecture (and the x32 ABI on x86_64) kills the process.
 *
 * <p>A profile is immutable. It is compiled to BPF (with libseccomp, in the JVM) once, on first
 * use, and the program is reused for every sandbox that uses this instance: keep and share
 * profile instances rather than rebuilding them per spawn.
 *
 * <p>{@link #defaults()} allows what build tools use and denies the kernel's attack surface with
 * {@code EPERM}; {@link #none()} installs no filter at all.
 */
public final class SeccompProfile {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private static final SeccompProfile NONE = new SeccompProfile(false, SeccompAction.ALLOW,
            List.of());
    private static final SeccompProfile DEFAULTS = buildDefaults();

    private final boolean installsFilter;
    private final SeccompAction defaultAction;
    private final List<SeccompRule> rules;
    private final Object compileLock = new Object();
    private byte[] program; // guarded by compileLock

    private SeccompProfile(boolean installsFilter, SeccompAction defaultAction,
            List<SeccompRule> rules) {
        this.installsFilter = installsFilter;
        this.defaultAction = defaultAction;
        this.rules = List.copyOf(rules);
    }

    /**
     * The build profile: allow by default; fail with {@code EPERM} the system calls that reach
     * kernel attack surface a build never needs — process inspection (ptrace, process_vm_*), the
     * mount family, bpf, perf_event_open, userfaultfd, the keyring, kexec and modules, io_uring,
     * unshare/setns, personality changes (any persona other than PER_LINUX 0; the 0xffffffff
     * query is denied too), accounting, swap, reboot, syslog, clock setting, quotactl, handle
     * based opens, port I/O and obsolete calls; {@code clone} with any {@code CLONE_NEW*} flag
     * (one masked rule per flag; CLONE_NEWTIME is left out on purpose: its value 0x80 is part of
     * CSIGNAL in clone's flags); {@code ioctl} TIOCSTI and TIOCLINUX (compared on the low 32 bits,
     * as the kernel reads the command); and {@code clone3} fails with {@code ENOSYS} (its flags
     * are in memory a filter cannot read), so libc falls back to {@code clone}.
     */
    public static SeccompProfile defaults() {
        return DEFAULTS;
    }

    /** No filter: the helper installs nothing. */
    public static SeccompProfile none() {
        return NONE;
    }

    /** A builder for a filtering profile, starting with default action allow and no rules. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this profile's default action and rules. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.defaultAction = defaultAction;
        b.rules.addAll(rules);
        return b;
    }

    /** Whether a filter is installed at all ({@code false} only for {@link #none()}). */
    public boolean installsFilter() {
        return installsFilter;
    }

    /** The action for system calls no rule matches. */
    public SeccompAction defaultAction() {
        return defaultAction;
    }

    /** The rules, in order. */
    public List<SeccompRule> rules() {
        return rules;
    }

    /**
     * Every problem that would stop this profile from compiling: unknown system call names (with
     * the closest known names), errno values out of range, rules whose action is the default
     * action (libseccomp refuses them), more than one condition on an argument, argument indexes
     * out of range. Empty when the profile is valid.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (!defaultAction.isValid()) {
            problems.add("seccomp default action has errno " + defaultAction.errno()
                    + ", outside 1.." + SeccompAction.MAX_ERRNO);
        }
        for (SeccompRule rule : rules) {
            String where = "seccomp rule '" + rule + "'";
            if (!SyscallNames.isKnown(rule.syscall())) {
                List<String> close = SyscallNames.closest(rule.syscall(), 3);
                problems.add(where + ": unknown system call '" + rule.syscall() + "'"
                        + (close.isEmpty() ? "" : " (did you mean " + String.join(", ", close)
                                + "?)"));
            }
            if (!rule.action().isValid()) {
                problems.add(where + ": errno " + rule.action().errno() + " is outside 1.."
                        + SeccompAction.MAX_ERRNO);
            }
            if (rule.action().equals(defaultAction)) {
                problems.add(where + ": the action is the profile's default action, so the rule"
                        + " would have no effect");
            }
            if (rule.conditions().size() > SeccompRule.MAX_CONDITIONS) {
                problems.add(where + ": " + rule.conditions().size() + " conditions, at most "
                        + SeccompRule.MAX_CONDITIONS);
            }
            BitSet seen = new BitSet();
            for (SeccompCondition c : rule.conditions()) {
                if (c.argument() < 0 || c.argument() > 5) {
                    problems.add(where + ": argument index " + c.argument() + " is outside 0..5");
                } else if (seen.get(c.argument())) {
                    problems.add(where + ": more than one condition on argument "
                            + c.argument() + " (use one rule per alternative)");
                } else {
                    seen.set(c.argument());
                }
            }
        }
        return problems;
    }

    /**
     * Compiles this profile to a BPF program ({@code struct sock_filter[]} bytes, native byte
     * order) with libseccomp. Compiled once per instance; later calls return a copy of the same
     * program.
     *
     * @throws IllegalStateException for {@link #none()}, which has no program
     * @throws PolicyException when {@link #problems()} is not empty
     * @throws IOException when libseccomp fails (the call and errno are in the message)
     */
    public byte[] compile() throws IOException {
        return program().clone();
    }

    /** The cached program itself, not copied: only for code that never hands it out. */
    byte[] program() throws IOException {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile has no filter program");
        }
        synchronized (compileLock) {
            if (program == null) {
                program = compileNow();
            }
            return program;
        }
    }

    private byte[] compileNow() throws IOException {
        List<String> problems = problems();
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        NativeLoader.ensureLoaded();
        int n = rules.size();
        int[] syscalls = new int[n];
        int[] actions = new int[n];
        int[] counts = new int[n];
        List<Long> conds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SeccompRule rule = rules.get(i);
            int nr = NativeBridge.resolveSyscall(rule.syscall());
            if (nr < 0) {
                // libseccomp's table is older than the kernel headers the name list came from.
                throw new PolicyException(List.of("seccomp rule '" + rule + "': libseccomp does"
                        + " not know system call '" + rule.syscall() + "' on this architecture"));
            }
            syscalls[i] = nr;
            actions[i] = rule.action().value();
            counts[i] = rule.conditions().size();
            for (SeccompCondition c : rule.conditions()) {
                conds.add((long) c.argument());
                conds.add((long) c.operator().scmpValue());
                if (c.operator() == SeccompCondition.Operator.MASKED_EQ) {
                    conds.add(c.mask());
                    conds.add(c.value());
                } else {
                    conds.add(c.value());
                    conds.add(0L);
                }
            }
        }
        long[] conditions = new long[conds.size()];
        for (int i = 0; i < conditions.length; i++) {
            conditions[i] = conds.get(i);
        }
        return NativeBridge.compileSeccomp(defaultAction.value(), syscalls, actions, counts,
                conditions);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeccompProfile p && p.installsFilter == installsFilter
                && p.defaultAction.equals(defaultAction) && p.rules.equals(rules);
    }

    @Override
    public int hashCode() {
        return Objects.hash(installsFilter, defaultAction, rules);
    }

    @Override
    public String toString() {
        if (!installsFilter) {
            return "SeccompProfile[none]";
        }
        return "SeccompProfile[default " + defaultAction + ", " + rules.size() + " rules]";
    }

    private static SeccompProfile buildDefaults() {
        Builder b = builder();
        for (String name : Arrays.asList(
                "ptrace", "process_vm_readv", "process_vm_writev",
                "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount",
                "fsconfig", "fspick", "mount_setattr",
                "bpf", "perf_event_open", "userfaultfd",
                "keyctl", "add_key", "request_key",
                "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                "io_uring_setup", "io_uring_enter", "io_uring_register",
                "unshare", "setns",
                "acct", "swapon", "swapoff", "reboot", "syslog",
                "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
                "quotactl", "lookup_dcookie", "vhangup", "nfsservctl",
                "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm",
                "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms",
                "query_module")) {
            b.deny(name, EPERM);
        }
        b.denyIf("personality", EPERM, SeccompCondition.notEqual(0, 0));
        b.deny("clone3", ENOSYS);
        for (Namespace ns : Namespace.values()) {
            b.denyIf("clone", EPERM, SeccompCondition.maskedEqual(0, ns.cloneFlag(),
                    ns.cloneFlag()));
        }
        b.denyIf("ioctl", EPERM, SeccompCondition.maskedEqual(1, 0xffffffffL, 0x5412)); // TIOCSTI
        b.denyIf("ioctl", EPERM, SeccompCondition.maskedEqual(1, 0xffffffffL, 0x541C)); // TIOCLINUX
        return b.build();
    }

    /** Builds a filtering {@link SeccompProfile}. */
    public static final class Builder {
        private SeccompAction defaultAction = SeccompAction.ALLOW;
        private final List<SeccompRule> rules = new ArrayList<>();

        private Builder() {}

        /** The action for system calls no rule matches (default {@link SeccompAction#ALLOW}). */
        public Builder defaultAction(SeccompAction action) {
            this.defaultAction = Objects.requireNonNull(action, "action");
            return this;
        }

        /** Fail {@code syscall} with {@code errno} whatever its arguments. */
        public Builder deny(String syscall, int errno) {
            return rule(new SeccompRule(syscall, SeccompAction.errno(errno), List.of()));
        }

        /** Fail {@code syscall} with {@code errno} when every condition holds. */
        public Builder denyIf(String syscall, int errno, SeccompCondition... conditions) {
            return rule(new SeccompRule(syscall, SeccompAction.errno(errno),
                    List.of(conditions)));
        }

        /** Adds a rule after the existing ones. */
        public Builder rule(SeccompRule rule) {
            rules.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /** Removes every rule for {@code syscall} (for example to allow it again). */
        public Builder removeRules(String syscall) {
            rules.removeIf(r -> r.syscall().equals(syscall));
            return this;
        }

        /**
         * The profile. Names are checked by {@link SeccompProfile#problems()}, which
         * {@link SandboxPolicy.Builder#build()} reports with the rest of the policy.
         */
        public SeccompProfile build() {
            return new SeccompProfile(true, defaultAction, rules);
        }
    }
}
