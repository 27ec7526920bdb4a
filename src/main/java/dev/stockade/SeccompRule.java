package dev.stockade;

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
 */
public record SeccompRule(String syscall, SeccompAction action, List<SeccompCondition> conditions) {

    /** The largest number of conditions a rule can have: one per syscall argument. */
    public static final int MAX_CONDITIONS = 6;

    public SeccompRule {
        Objects.requireNonNull(syscall, "syscall");
        Objects.requireNonNull(action, "action");
        conditions = List.copyOf(conditions);
    }

    @Override
    public String toString() {
        return syscall + (conditions.isEmpty() ? "" : " " + conditions) + " -> " + action;
    }
}
