package dev.stockade.internal.policy;

import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.SyscallArgumentWidths;
import java.util.BitSet;
import java.util.Optional;

/**
 * Rules that compile but would not hold as written, because of how libseccomp and the kernel
 * work. {@link ProfileValidator} reports each as a {@link ProfileValidator.Severity#PITFALL}: an
 * error in every profile, except that an OCI import, whose profiles other runtimes run as they
 * are (Docker's own uses both patterns), keeps such rules with a warning and accepts them.
 */
public final class RulePitfalls {
    private RulePitfalls() {}

    /** Whether a call taking {@code action} runs (allow, log, report(allow)). */
    public static boolean runsTheCall(SeccompAction action) {
        return switch (action.kind()) {
            case ALLOW, LOG -> true;
            case REPORT -> action.errno() == 0;
            default -> false;
        };
    }

    /**
     * The kernel truncates a 32-bit argument to its low 32 bits, the filter compares all 64.
     * {@code ==} and {@code &} are compiled on the low word ({@link SeccompRule#compiledConditions}),
     * but an ordering or {@code !=} cannot be, and a caller setting the high bits could then slip
     * past a rule that stands between it and the call: a denying {@code <}/{@code <=} under a
     * default that runs the call, or an allowing {@code !=}/{@code >}/{@code >=} under a denying
     * default.
     */
    public static Optional<String> argumentWidth(SeccompRule rule, SeccompAction defaultAction) {
        boolean ruleRuns = runsTheCall(rule.action());
        if (ruleRuns == runsTheCall(defaultAction)) {
            return Optional.empty();
        }
        for (SeccompCondition c : rule.conditions()) {
            if (!SyscallArgumentWidths.is32Bit(rule.syscall(), c.argument())) {
                continue;
            }
            boolean escapable = ruleRuns
                    ? c.operator() == SeccompCondition.Operator.NE
                            || c.operator() == SeccompCondition.Operator.GT
                            || c.operator() == SeccompCondition.Operator.GE
                    : c.operator() == SeccompCondition.Operator.LT
                            || c.operator() == SeccompCondition.Operator.LE;
            if (escapable) {
                return Optional.of("argument " + c.argument() + " of " + rule.syscall()
                        + " is 32-bit, which the kernel truncates, while '" + c + "' compares"
                        + " all 64 bits: setting the high bits would slip past the rule"
                        + " (compare with == or a & mask)");
            }
        }
        return Optional.empty();
    }

    /**
     * Two conditional rules of one syscall with different actions that test different
     * arguments: libseccomp tests higher-numbered arguments first, so a call matching both
     * takes whichever action that order gives, not the one the profile suggests (a
     * {@code clone arg1 == 0 -> log} beside the namespace-flag denials on arg0 lets
     * {@code clone(CLONE_NEWUSER)} through).
     */
    public static Optional<String> argumentOrder(SeccompRule rule, SeccompRule earlier) {
        if (rule.conditions().isEmpty() || earlier.conditions().isEmpty()
                || !rule.syscall().equals(earlier.syscall())
                || rule.action().equals(earlier.action())
                || arguments(rule).equals(arguments(earlier))) {
            return Optional.empty();
        }
        return Optional.of("another action than the rule '" + earlier + "' on other arguments:"
                + " libseccomp tests higher-numbered arguments first, so a call matching both"
                + " would not take the action the profile's order suggests");
    }

    private static BitSet arguments(SeccompRule rule) {
        BitSet args = new BitSet();
        for (SeccompCondition c : rule.conditions()) {
            args.set(c.argument());
        }
        return args;
    }
}
