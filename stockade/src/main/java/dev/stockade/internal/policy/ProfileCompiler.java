package dev.stockade.internal.policy;

import dev.stockade.PolicyException;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SyscallNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One profile's BPF programs, compiled with libseccomp on first use and kept: a profile is
 * immutable, so every sandbox that uses it shares the programs. One instance per profile.
 */
public final class ProfileCompiler {
    private final ProfileRules profile;
    private final Object lock = new Object();
    private byte[] withNotification; // guarded by lock
    private byte[] withoutNotification; // guarded by lock

    public ProfileCompiler(ProfileRules profile) {
        this.profile = profile;
    }

    /**
     * The cached program ({@code struct sock_filter[]} bytes, native byte order), not copied:
     * only for code that never hands it out. With {@code userNotification}, {@code report}
     * rules become {@code SECCOMP_RET_USER_NOTIF}; without, they deny with their errno
     * (report(allow) rules are dropped: the call runs, as the default or another rule decides).
     *
     * @throws PolicyException when {@link ProfileValidator#problems} finds any
     * @throws IOException when libseccomp fails (the call and errno are in the message)
     */
    public byte[] program(boolean userNotification) throws IOException {
        synchronized (lock) {
            if (userNotification) {
                if (withNotification == null) {
                    withNotification = compile(true);
                }
                return withNotification;
            }
            if (withoutNotification == null) {
                withoutNotification = profile.hasReports() ? compile(false) : program(true);
            }
            return withoutNotification;
        }
    }

    /**
     * The number of {@code rule}'s system call on this architecture.
     *
     * @throws PolicyException when libseccomp does not know it
     */
    static int number(SeccompRule rule) {
        int nr = SyscallNames.number(rule.syscall());
        if (nr < 0) {
            // libseccomp's table is older than the kernel headers the name list came from.
            throw new PolicyException(List.of("seccomp rule '" + rule + "': libseccomp does"
                    + " not know system call '" + rule.syscall() + "' on this architecture"));
        }
        return nr;
    }

    private byte[] compile(boolean userNotification) throws IOException {
        List<String> problems = ProfileValidator.problems(profile);
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        NativeLoader.ensureLoaded();
        SeccompAction def = userNotification ? profile.defaultAction()
                : profile.defaultAction().withoutReport();
        List<SeccompRule> kept = new ArrayList<>(profile.rules().size());
        for (SeccompRule rule : profile.rules()) {
            SeccompAction a = userNotification ? rule.action() : rule.action().withoutReport();
            // A degraded report(allow) may now equal the default; libseccomp refuses those.
            if (!a.equals(def)) {
                kept.add(rule);
            }
        }
        int n = kept.size();
        int[] syscalls = new int[n];
        int[] actions = new int[n];
        int[] counts = new int[n];
        List<Long> conds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SeccompRule rule = kept.get(i);
            syscalls[i] = number(rule);
            actions[i] = (userNotification ? rule.action() : rule.action().withoutReport())
                    .value();
            counts[i] = rule.conditions().size();
            for (SeccompCondition c : rule.compiledConditions()) {
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
        return NativeBridge.compileSeccomp(def.value(), syscalls, actions, counts, conditions);
    }
}
