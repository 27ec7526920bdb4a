package dev.stockade.internal.policy;

import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SyscallNames;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one profile's {@code report} rules send to the sandbox's pid 1 and how a reported call
 * is traced back to its rule: the system calls by number with the errno each is answered with,
 * the argument bits pid 1 counts calls apart by, and the rule that caught a call. Computed once,
 * on first use (it resolves system call numbers with libseccomp). One instance per profile.
 */
public final class ProfileReports {
    private static final int ARGUMENTS = 6;

    private final ProfileRules profile;
    private final Object lock = new Object();
    private Map<Integer, Integer> errnos; // guarded by lock, nr -> errno, in rule order
    private Map<Integer, SeccompRule[]> rulesByNumber; // guarded by lock
    private List<SandboxSpec.ReportSpec> specs; // guarded by lock

    public ProfileReports(ProfileRules profile) {
        this.profile = profile;
    }

    /**
     * The syscalls the program (with user notification) sends to pid 1, by number, with the
     * errno each is answered with, in rule order. Empty without report rules.
     */
    public Map<Integer, Integer> errnos() {
        synchronized (lock) {
            compute();
            return errnos;
        }
    }

    /**
     * The REPORT fields of {@link #errnos()}, each with the argument bits its syscall's report
     * rules test (all zero for a syscall only the default sends).
     */
    public List<SandboxSpec.ReportSpec> specs() {
        synchronized (lock) {
            compute();
            return specs;
        }
    }

    /** The argument bits syscall {@code number}'s report rules test (all zero for none). */
    public long[] masks(int number) {
        SeccompRule[] candidates = rulesOf(number);
        return candidates == null ? new long[ARGUMENTS] : testedBits(List.of(candidates));
    }

    /**
     * The name of reported syscall {@code number}: as its report rules spell it, else (a report
     * default caught it) the name libseccomp gives the number.
     */
    public String syscall(int number) {
        SeccompRule[] candidates = rulesOf(number);
        return candidates != null ? candidates[0].syscall() : SyscallNumbers.name(number);
    }

    /**
     * The report rule that caught a call of syscall {@code number} with {@code arguments}: the
     * first whose conditions hold. When none holds and only a rule can have sent the call (the
     * default is no report), the arguments changed under the filter (another thread): the
     * syscall's first rule. {@code null} when a report default caught it.
     */
    public SeccompRule rule(int number, long[] arguments) {
        SeccompRule[] candidates = rulesOf(number);
        if (candidates == null) {
            return null;
        }
        for (SeccompRule r : candidates) {
            if (r.matches(arguments)) {
                return r;
            }
        }
        return profile.defaultAction().isReport() ? null : candidates[0];
    }

    /** Syscall {@code number}'s report rules in rule order, or null when it has none. */
    private SeccompRule[] rulesOf(int number) {
        synchronized (lock) {
            compute();
            return rulesByNumber.get(number);
        }
    }

    private void compute() {
        if (errnos != null) {
            return;
        }
        Map<Integer, Integer> out = new LinkedHashMap<>();
        Map<Integer, List<SeccompRule>> byNr = new HashMap<>();
        if (profile.hasReports()) {
            NativeLoader.ensureLoaded();
        }
        for (SeccompRule r : profile.rules()) {
            if (r.action().isReport()) {
                int nr = ProfileCompiler.number(r);
                out.putIfAbsent(nr, r.action().errno());
                byNr.computeIfAbsent(nr, k -> new ArrayList<>()).add(r);
            }
        }
        if (profile.defaultAction().isReport()) {
            // Every call no rule decides reaches pid 1: it must know each syscall's errno.
            for (String syscall : SyscallNames.all()) {
                int nr = SyscallNames.number(syscall);
                if (nr >= 0 && !profile.decidedWithoutReport(syscall)) {
                    out.putIfAbsent(nr, profile.defaultAction().errno());
                }
            }
        }
        Map<Integer, SeccompRule[]> arrays = new HashMap<>();
        Map<Integer, long[]> masks = new HashMap<>();
        byNr.forEach((k, v) -> {
            arrays.put(k, v.toArray(new SeccompRule[0]));
            masks.put(k, testedBits(v));
        });
        List<SandboxSpec.ReportSpec> reportSpecs = new ArrayList<>(out.size());
        out.forEach((nr, errno) -> reportSpecs.add(new SandboxSpec.ReportSpec(nr, errno,
                masks.getOrDefault(nr, new long[ARGUMENTS]))));
        errnos = Collections.unmodifiableMap(out);
        rulesByNumber = arrays;
        specs = List.copyOf(reportSpecs);
    }

    /**
     * The argument bits a syscall's report rules test: pid 1 counts its calls apart per
     * distinct (arguments & masks), so calls that different rules caught are never counted
     * under one rule.
     */
    private static long[] testedBits(List<SeccompRule> rules) {
        long[] masks = new long[ARGUMENTS];
        for (SeccompRule r : rules) {
            for (SeccompCondition c : r.conditions()) {
                masks[c.argument()] |= c.operator() == SeccompCondition.Operator.MASKED_EQ
                        ? c.mask() : -1L;
            }
        }
        return masks;
    }
}
