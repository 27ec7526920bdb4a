package dev.stockade.internal.policy;

import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.SyscallNames;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything that would stop a profile from compiling, as {@code SeccompProfile.problems()}
 * reports it (so {@code SandboxPolicy.Builder.build()}): a profile built in code has no file
 * positions, so each problem names its rule. {@link PolicyLoader} checks a loaded file the same
 * way, with positions.
 */
public final class ProfileValidator {
    private ProfileValidator() {}

    /**
     * The command hands the notification listener to pid 1 with sendmsg after the filter is in
     * place, so a filter that sent sendmsg to pid 1 would wait for a listener it is handing over.
     */
    public static final String HANDOFF_SYSCALL = "sendmsg";
    /** Why {@link #HANDOFF_SYSCALL} must run, as the messages say it. */
    public static final String HANDOFF_REASON = "the command hands the notification listener"
            + " to the sandbox's pid 1 with it after the filter is installed";

    /**
     * Unknown system call names (with the closest known names), errno values out of range, rules
     * whose action is the default action (libseccomp refuses them), more than one condition on
     * an argument, argument indexes out of range, report rules of one system call with different
     * errnos (pid 1 answers a system call with one errno). Empty when the profile is valid.
     */
    public static List<String> problems(ProfileRules profile) {
        SeccompAction defaultAction = profile.defaultAction();
        List<String> problems = new ArrayList<>();
        Map<String, SeccompRule> firstReport = new HashMap<>();
        Map<String, SeccompRule> unconditional = new HashMap<>();
        Map<List<Object>, SeccompRule> sameConditions = new HashMap<>();
        for (SeccompRule rule : profile.rules()) {
            if (rule.conditions().isEmpty()) {
                unconditional.putIfAbsent(rule.syscall(), rule);
            }
        }
        if (!defaultAction.isValid()) {
            problems.add("seccomp default action has errno " + defaultAction.errno()
                    + ", outside 1.." + SeccompAction.MAX_ERRNO);
        }
        if (defaultAction.isReport() && !profile.decidedWithoutReport(HANDOFF_SYSCALL)) {
            problems.add("seccomp default action " + defaultAction + ": " + HANDOFF_SYSCALL
                    + " needs a rule without conditions that is not a report (for example '"
                    + HANDOFF_SYSCALL + " -> allow'): " + HANDOFF_REASON);
        }
        for (SeccompRule rule : profile.rules()) {
            String where = "seccomp rule '" + rule + "'";
            if (rule.action().isReport() && rule.syscall().equals(HANDOFF_SYSCALL)) {
                problems.add(where + ": " + HANDOFF_SYSCALL + " cannot be reported: "
                        + HANDOFF_REASON);
            }
            unknownSyscall(rule.syscall()).ifPresent(why -> problems.add(where + ": " + why));
            if (!rule.action().isValid()) {
                problems.add(where + ": errno " + rule.action().errno() + " is outside 1.."
                        + SeccompAction.MAX_ERRNO);
            }
            if (rule.action().equals(defaultAction)) {
                problems.add(where + ": the action is the profile's default action, so the rule"
                        + " would have no effect");
            }
            conditionProblems(rule, where, problems);
            SeccompRule all = unconditional.get(rule.syscall());
            SeccompRule same = sameConditions.putIfAbsent(List.of(rule.syscall(),
                    rule.conditions()), rule);
            if (same != null && !same.action().equals(rule.action())) {
                problems.add(where + ": conflicts with the rule '" + same + "' (same system"
                        + " call and conditions, another action)");
            } else if (all != null && !rule.conditions().isEmpty()
                    && !all.action().equals(rule.action())) {
                problems.add(where + ": never applies: libseccomp lets the rule '" + all + "'"
                        + " take every call");
            }
            if (rule.syscall().equals(HANDOFF_SYSCALL)
                    && !RulePitfalls.runsTheCall(rule.action()) && profile.hasReports()) {
                problems.add(where + ": a profile with report rules must let " + HANDOFF_SYSCALL
                        + " run: " + HANDOFF_REASON);
            }
            if (rule.action().isReport()) {
                SeccompRule first = firstReport.putIfAbsent(rule.syscall(), rule);
                if (first != null && first.action().errno() != rule.action().errno()) {
                    problems.add(where + ": conflicting report errnos for " + rule.syscall()
                            + " (" + first.action() + " in '" + first + "'): one system call is"
                            + " answered with one errno");
                } else if (defaultAction.isReport()
                        && defaultAction.errno() != rule.action().errno()) {
                    problems.add(where + ": conflicting report errnos for " + rule.syscall()
                            + " (the default is " + defaultAction + "): one system call is"
                            + " answered with one errno");
                }
            }
        }
        return problems;
    }

    /**
     * Why {@code syscall} is no system call here: of another architecture, or unknown (with the
     * closest known names); empty when it is one. The parser reports the same words at the name.
     */
    public static Optional<String> unknownSyscall(String syscall) {
        if (SyscallNames.isKnown(syscall)) {
            return Optional.empty();
        }
        String foreign = SyscallNames.otherArchitecture(syscall);
        if (foreign != null) {
            return Optional.of("system call '" + syscall + "' " + foreign);
        }
        List<String> close = SyscallNames.closest(syscall, 3);
        return Optional.of("unknown system call '" + syscall + "'"
                + (close.isEmpty() ? "" : " (did you mean " + String.join(", ", close) + "?)"));
    }

    /** Too many conditions, argument indexes out of range, an argument compared twice. */
    private static void conditionProblems(SeccompRule rule, String where, List<String> problems) {
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
}
