package dev.stockade;

import dev.stockade.internal.SyscallArgumentWidths;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One rule of a {@link SeccompProfile}: when {@code syscall} is called and every condition holds,
 * the filter takes {@code action}. Several rules may name the same system call (for example one
 * per {@code clone} flag); a call no rule matches gets the profile's default action.
 *
 * @param syscall the system call's name as in the kernel's syscall table ({@code "ptrace"})
 * @param action what to do
 * @param conditions argument conditions, all of which must hold (0..6, one per argument)
 * @param reason why the rule exists, in one line (the comment on the rule's line in a profile
 *     file); shown with a reported call in {@link Violation#reason()}; may be {@code null}
 */
public record SeccompRule(String syscall, SeccompAction action, List<SeccompCondition> conditions,
        String reason) {

    /** The largest number of conditions a rule can have: one per syscall argument. */
    public static final int MAX_CONDITIONS = 6;

    /**
     * A rule; {@code conditions} is copied.
     *
     * @param syscall the system call's name
     * @param action what to do
     * @param conditions argument conditions, all of which must hold
     * @param reason why the rule exists, one non-blank line, or {@code null} for none
     * @throws IllegalArgumentException when {@code reason} is blank or more than one line
     */
    public SeccompRule {
        Objects.requireNonNull(syscall, "syscall");
        Objects.requireNonNull(action, "action");
        conditions = List.copyOf(conditions);
        if (reason != null && (reason.isBlank() || reason.indexOf('\n') >= 0
                || reason.indexOf('\r') >= 0)) {
            throw new IllegalArgumentException("a rule's reason is one non-blank line: "
                    + reason);
        }
    }

    /**
     * A rule without a reason.
     *
     * @param syscall the system call's name as in the kernel's syscall table ({@code "ptrace"})
     * @param action what to do
     * @param conditions argument conditions, all of which must hold (0..6, one per argument)
     */
    public SeccompRule(String syscall, SeccompAction action, List<SeccompCondition> conditions) {
        this(syscall, action, conditions, null);
    }

    /**
     * This rule with another reason.
     *
     * @param reason why the rule exists, one non-blank line, or {@code null} for none
     * @return a new rule with the same system call, action and conditions
     * @throws IllegalArgumentException when {@code reason} is blank or more than one line
     */
    public SeccompRule withReason(String reason) {
        return new SeccompRule(syscall, action, conditions, reason);
    }

    /**
     * Whether every condition holds for a call's arguments, compared as the filter compares
     * them ({@link #compiledConditions()}).
     *
     * @param arguments the call's six argument registers, indexed by argument number
     * @return {@code true} when every condition holds (always, for a rule without conditions)
     */
    public boolean matches(long[] arguments) {
        for (SeccompCondition c : compiledConditions()) {
            if (!c.matches(arguments[c.argument()])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The conditions as the filter compares them: on the syscall's 32-bit arguments ({@code int}
     * and the like, which the kernel truncates) {@code ==} and {@code &} look at the low 32 bits
     * only ({@link SeccompCondition#lowWord()}).
     *
     * @return a new list, one condition per condition of {@link #conditions()}, in its order
     */
    public List<SeccompCondition> compiledConditions() {
        List<SeccompCondition> compiled = new ArrayList<>(conditions.size());
        for (SeccompCondition c : conditions) {
            compiled.add(SyscallArgumentWidths.is32Bit(syscall, c.argument()) ? c.lowWord() : c);
        }
        return compiled;
    }

    @Override
    public String toString() {
        return syscall + (conditions.isEmpty() ? "" : " " + conditions) + " -> " + action;
    }
}
