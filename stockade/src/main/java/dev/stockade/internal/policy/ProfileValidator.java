package dev.stockade.internal.policy;

import static dev.stockade.internal.policy.ProfileText.show;

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
import java.util.function.Function;

/**
 * The one check of a profile's rules, for every way a profile comes to be: loaded from text
 * ({@link PolicyLoader}, whose sites are file positions), built in code or imported from OCI
 * ({@link #problems(ProfileRules)}, whose sites are the rules' own text; {@code
 * SeccompProfile.problems()}, so {@code SandboxPolicy.Builder.build()}) and the OCI reader's
 * warnings (whose sites are JSON paths). It walks the rules once and reports every problem
 * against the site of the rule it is about; each message is worded here, once.
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

    /** How a problem weighs. */
    public enum Severity {
        /** The profile cannot be compiled, or cannot run a sandbox. */
        ERROR,
        /**
         * The profile compiles but a rule would not hold as written ({@link RulePitfalls}): a
         * Stockade profile refuses it; an OCI import, whose profiles other runtimes run as they
         * are, keeps the rule with a warning.
         */
        PITFALL
    }

    /** A rule and its site: where it is, as the caller names places. */
    public record Sited<S>(SeccompRule rule, S site) {}

    /** A problem of the rule at {@code site} (or of the default action, at its site). */
    public record Problem<S>(S site, Severity severity, String message) {}

    /**
     * Every problem of a profile: a default action (set at {@code defaultSite}) and its rules, in
     * order. {@code place} names a site inside another message ("the rule at ..."), or gives
     * {@code ""} where there is nothing to add; problems come in rule order, the default's first.
     */
    public static <S> List<Problem<S>> check(SeccompAction defaultAction, S defaultSite,
            List<Sited<S>> rules, Function<S, String> place) {
        return new Walk<>(defaultAction, defaultSite, rules, place).run();
    }

    /**
     * {@link #check} of a profile that has no file: each problem prefixed with the rule's text
     * ({@code seccomp rule '...'}) or {@code seccomp default action ...}. Pitfalls of the rules an
     * OCI import kept with a warning ({@link ProfileRules#acceptedPitfalls()}) are not
     * problems. Empty when the profile is valid.
     */
    public static List<String> problems(ProfileRules profile) {
        List<Sited<SeccompRule>> rules = new ArrayList<>(profile.rules().size());
        for (SeccompRule r : profile.rules()) {
            rules.add(new Sited<>(r, r));
        }
        List<String> out = new ArrayList<>();
        for (Problem<SeccompRule> p : check(profile.defaultAction(), null, rules,
                site -> site == null ? "" : "'" + site + "'")) {
            if (p.severity() == Severity.PITFALL
                    && profile.acceptedPitfalls().contains(p.site())) {
                continue;
            }
            out.add((p.site() == null ? "seccomp default action " + profile.defaultAction()
                    : "seccomp rule '" + p.site() + "'") + ": " + p.message());
        }
        return out;
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

    /** An errno (as written) out of range; the parser says it at the number. */
    static String errnoOutOfRange(String errno) {
        return "errno " + errno + " is outside 1.." + SeccompAction.MAX_ERRNO;
    }

    /** A second condition on one argument; the parser says it at the condition. */
    static String secondCondition(int argument) {
        return "a second condition on arg" + argument + ": a rule can test each argument once"
                + " (libseccomp's limit); write one rule per alternative";
    }

    /** One pass over the rules, with what earlier rules left for the later ones. */
    private static final class Walk<S> {
        private final SeccompAction def;
        private final S defaultSite;
        private final List<Sited<S>> rules;
        private final Function<S, String> place;
        private final List<Problem<S>> problems = new ArrayList<>();
        /** The first rule without conditions of each syscall: libseccomp keeps that one. */
        private final Map<String, Sited<S>> unconditional = new HashMap<>();
        private final Map<List<Object>, Sited<S>> sameConditions = new HashMap<>();
        private final Map<String, List<Sited<S>>> conditional = new HashMap<>();
        private final Map<String, Sited<S>> firstReport = new HashMap<>();
        private final boolean hasReports;

        Walk(SeccompAction def, S defaultSite, List<Sited<S>> rules, Function<S, String> place) {
            this.def = def;
            this.defaultSite = defaultSite;
            this.rules = rules;
            this.place = place;
            boolean reports = def.isReport();
            for (Sited<S> r : rules) {
                if (r.rule().conditions().isEmpty()) {
                    unconditional.putIfAbsent(r.rule().syscall(), r);
                }
                reports |= r.rule().action().isReport();
            }
            this.hasReports = reports;
        }

        List<Problem<S>> run() {
            checkDefault();
            for (Sited<S> r : rules) {
                checkShape(r);
                checkCombination(r);
                checkPitfalls(r);
                checkHandoff(r);
                checkDefaultEqual(r);
                checkReportErrnos(r);
            }
            return problems;
        }

        private void add(S site, Severity severity, String message) {
            problems.add(new Problem<>(site, severity, message));
        }

        private void error(Sited<S> r, String message) {
            add(r.site(), Severity.ERROR, message);
        }

        /** " (place)", or nothing when the site has no place to name. */
        private String inParentheses(S site) {
            String p = place.apply(site);
            return p.isEmpty() ? "" : " (" + p + ")";
        }

        private void checkDefault() {
            if (!def.isValid()) {
                add(defaultSite, Severity.ERROR, errnoOutOfRange(Integer.toString(def.errno())));
            }
            Sited<S> handoff = unconditional.get(HANDOFF_SYSCALL);
            if (def.isReport() && (handoff == null || handoff.rule().action().isReport())) {
                add(defaultSite, Severity.ERROR, "with a report default, " + HANDOFF_SYSCALL
                        + " needs a rule without conditions that is not a report (such as '"
                        + HANDOFF_SYSCALL + " -> allow'): " + HANDOFF_REASON);
            }
        }

        /** What one rule alone must be: a known syscall, an errno in range, its conditions. */
        private void checkShape(Sited<S> r) {
            SeccompRule rule = r.rule();
            unknownSyscall(rule.syscall()).ifPresent(why -> error(r, why));
            if (!rule.action().isValid()) {
                error(r, errnoOutOfRange(Integer.toString(rule.action().errno())));
            }
            if (rule.conditions().size() > SeccompRule.MAX_CONDITIONS) {
                error(r, rule.conditions().size() + " conditions, at most "
                        + SeccompRule.MAX_CONDITIONS);
            }
            BitSet seen = new BitSet();
            for (SeccompCondition c : rule.conditions()) {
                if (c.argument() < 0 || c.argument() > 5) {
                    error(r, "argument index " + c.argument() + " is outside 0..5");
                } else if (seen.get(c.argument())) {
                    error(r, secondCondition(c.argument()));
                } else {
                    seen.set(c.argument());
                }
            }
        }

        /** Rules of one syscall libseccomp would not keep side by side. */
        private void checkCombination(Sited<S> r) {
            SeccompRule rule = r.rule();
            // Keyed by the conditions as the filter compares them: two rules that differ only in
            // the upper half of a 32-bit argument are one rule to libseccomp.
            Sited<S> first = sameConditions.putIfAbsent(List.of(rule.syscall(),
                    rule.compiledConditions()), r);
            if (first != null && !first.rule().action().equals(rule.action())) {
                String same = rule.conditions().isEmpty() ? ""
                        : rule.conditions().equals(first.rule().conditions())
                                ? " with the same conditions"
                                : " with conditions the filter compares the same (the kernel"
                                        + " uses only the low 32 bits of a 32-bit argument)";
                error(r, "conflicting rules for " + rule.syscall() + ": " + show(rule.action())
                        + " here, " + show(first.rule().action()) + " at "
                        + place.apply(first.site()) + same);
            }
            Sited<S> all = unconditional.get(rule.syscall());
            if (!rule.conditions().isEmpty() && all != null
                    && !all.rule().action().equals(rule.action())) {
                error(r, "this rule never applies: the rule without conditions for "
                        + rule.syscall() + " at " + place.apply(all.site()) + " ("
                        + show(all.rule().action()) + ") takes every call (libseccomp drops"
                        + " the conditional rules of a system call that has one)");
            }
        }

        private void checkPitfalls(Sited<S> r) {
            RulePitfalls.argumentWidth(r.rule(), def)
                    .ifPresent(message -> add(r.site(), Severity.PITFALL, message));
            List<Sited<S>> earlier = conditional.computeIfAbsent(r.rule().syscall(),
                    k -> new ArrayList<>());
            for (Sited<S> e : earlier) {
                Optional<String> clash = RulePitfalls.argumentOrder(r.rule(), e.rule());
                if (clash.isPresent()) {
                    add(r.site(), Severity.PITFALL, clash.get() + inParentheses(e.site()));
                    break;
                }
            }
            if (!r.rule().conditions().isEmpty()) {
                earlier.add(r);
            }
        }

        /** The listener's handoff: sendmsg is never reported, and runs where reports exist. */
        private void checkHandoff(Sited<S> r) {
            if (!r.rule().syscall().equals(HANDOFF_SYSCALL)) {
                return;
            }
            if (r.rule().action().isReport()) {
                error(r, HANDOFF_SYSCALL + " cannot be reported: " + HANDOFF_REASON);
            } else if (hasReports && !RulePitfalls.runsTheCall(r.rule().action())) {
                error(r, "a profile with report rules must let " + HANDOFF_SYSCALL + " run: "
                        + HANDOFF_REASON);
            }
        }

        private void checkDefaultEqual(Sited<S> r) {
            SeccompAction a = r.rule().action();
            if (a.equals(def)) {
                error(r, "the action " + show(a) + " is the profile's default"
                        + inParentheses(defaultSite) + ", so the rule has no effect; libseccomp"
                        + " refuses such rules");
            }
        }

        /** pid 1 answers a reported syscall with one errno. */
        private void checkReportErrnos(Sited<S> r) {
            SeccompAction a = r.rule().action();
            if (!a.isReport()) {
                return;
            }
            if (def.isReport() && def.errno() != a.errno()) {
                error(r, "conflicting report errnos for " + r.rule().syscall() + ": " + show(a)
                        + " here, " + show(def) + " as the default" + inParentheses(defaultSite)
                        + "; one syscall is answered with one errno");
            }
            Sited<S> first = firstReport.putIfAbsent(r.rule().syscall(), r);
            if (first != null && first.rule().action().errno() != a.errno()) {
                error(r, "conflicting report errnos for " + r.rule().syscall() + ": " + show(a)
                        + " here, " + show(first.rule().action()) + " at "
                        + place.apply(first.site()) + "; one syscall is answered with one errno");
            }
        }
    }
}
