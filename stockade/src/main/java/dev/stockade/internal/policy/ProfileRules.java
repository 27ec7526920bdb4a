package dev.stockade.internal.policy;

import dev.stockade.SeccompAction;
import dev.stockade.SeccompRule;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A filtering profile as plain data: its name, default action and rules, in order. What the
 * internal readers, writers, checks and compiler of profiles exchange, so that none of them
 * depends on {@link dev.stockade.SeccompProfile}, which converts to and from it.
 *
 * @param name the profile's name, or {@code null} for none
 * @param defaultAction the action for system calls no rule matches
 * @param rules the rules, in order
 * @param acceptedPitfalls the rules an OCI import kept though they would not hold as written
 *     ({@link RulePitfalls}), having warned about them: other runtimes run them as they are, so
 *     {@link ProfileValidator#problems} does not refuse them; only rules of {@code rules} are
 *     kept, so removing a rule removes its acceptance
 */
public record ProfileRules(String name, SeccompAction defaultAction, List<SeccompRule> rules,
        Set<SeccompRule> acceptedPitfalls) {
    public ProfileRules {
        Objects.requireNonNull(defaultAction, "defaultAction");
        rules = List.copyOf(rules);
        Set<SeccompRule> kept = new HashSet<>(acceptedPitfalls);
        if (!kept.isEmpty()) {
            kept.retainAll(new HashSet<>(rules));
        }
        acceptedPitfalls = Set.copyOf(kept);
    }

    /** A profile whose every rule is checked in full: built in code or loaded from text. */
    public ProfileRules(String name, SeccompAction defaultAction, List<SeccompRule> rules) {
        this(name, defaultAction, rules, Set.of());
    }

    /** The same default action and rules under {@code name}. */
    public ProfileRules withName(String name) {
        return new ProfileRules(name, defaultAction, rules, acceptedPitfalls);
    }

    /** Whether any rule (or the default) is a {@code report}, which needs user notification. */
    public boolean hasReports() {
        if (defaultAction.isReport()) {
            return true;
        }
        for (SeccompRule r : rules) {
            if (r.action().isReport()) {
                return true;
            }
        }
        return false;
    }

    /** Whether a rule without conditions decides every call of {@code syscall}, not a report. */
    public boolean decidedWithoutReport(String syscall) {
        for (SeccompRule r : rules) {
            if (r.syscall().equals(syscall) && r.conditions().isEmpty()) {
                return !r.action().isReport(); // libseccomp: this rule takes every call
            }
        }
        return false;
    }
}
