package dev.stockade;

import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SyscallNames;
import dev.stockade.internal.policy.PolicyLoader;
import dev.stockade.internal.policy.ProfileFiles;
import dev.stockade.internal.policy.RulePitfalls;
import dev.stockade.internal.policy.SyscallNumbers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A seccomp-bpf system call filter: a default action plus an ordered list of rules. The helper
 * installs it last, right before {@code execve}, after {@code no_new_privs}; a foreign
 * architecture (and the x32 ABI on x86_64) kills the process.
 *
 * <p>Profiles are written in the policy language ({@code docs/policy-reference.md}) and loaded
 * with {@link #load(Path)}, {@link #parse(String, String)} or, for the shipped ones,
 * {@link #named(String)}: {@code build} (the default, {@link #defaults()}), {@code strict} and
 * {@code audit}. Every problem in a file is reported at load time, all at once, in a
 * {@link PolicySyntaxException}. Programmatic profiles come from {@link #builder()} and
 * {@link #with(SeccompRule)}.
 *
 * <p>A profile is immutable. It is compiled to BPF (with libseccomp, in the JVM) once, on first
 * use, and the program is reused for every sandbox that uses this instance: keep and share
 * profile instances rather than rebuilding them per spawn.
 *
 * <p>{@link #none()} installs no filter at all.
 */
public final class SeccompProfile {
    private static final SeccompProfile NONE = new SeccompProfile(false, SeccompAction.ALLOW,
            List.of(), null);
    private static final Map<String, SeccompProfile> SHIPPED = new ConcurrentHashMap<>();
    /**
     * The command hands the notification listener to pid 1 with sendmsg after the filter is in
     * place, so a filter that sent sendmsg to pid 1 would wait for a listener it is handing over.
     */
    private static final String HANDOFF_SYSCALL = "sendmsg";
    private static final String HANDOFF_REASON = "the command hands the notification listener"
            + " to the sandbox's pid 1 with it after the filter is installed";

    private final boolean installsFilter;
    private final SeccompAction defaultAction;
    private final List<SeccompRule> rules;
    private final String name;
    private final Object compileLock = new Object();
    private byte[] program; // guarded by compileLock: with user notification
    private byte[] programWithoutReport; // guarded by compileLock
    private Map<Integer, SeccompRule[]> reportRules; // guarded by compileLock, by syscall nr
    private Map<Integer, Integer> reports; // guarded by compileLock, nr -> errno
    private List<SandboxSpec.ReportSpec> reportSpecs; // guarded by compileLock

    private SeccompProfile(boolean installsFilter, SeccompAction defaultAction,
            List<SeccompRule> rules, String name) {
        this.installsFilter = installsFilter;
        this.defaultAction = defaultAction;
        this.rules = List.copyOf(rules);
        this.name = name;
    }

    /**
     * The build profile, {@code named("build")} ({@code seccomp/build.policy}): allow by default;
     * deny the system calls that reach kernel attack surface a build never needs — process
     * inspection (ptrace, process_vm_*), the mount family, bpf, perf_event_open, userfaultfd, the
     * keyring, kexec and modules, io_uring, unshare/setns, personality changes, accounting,
     * swap, reboot, syslog, clock setting, quotactl, handle based opens, port I/O and obsolete
     * calls; {@code clone} with any {@code CLONE_NEW*} flag; {@code ioctl} TIOCSTI and TIOCLINUX
     * (compared on the low 32 bits, as the kernel reads the command); {@code clone3} fails with
     * {@code ENOSYS} (its flags are in memory a filter cannot read), so libc falls back to
     * {@code clone}. The dangerous, rarely called ones are {@code report} rules: they fail with
     * {@code EPERM} and show up in {@link SandboxResult#violations()}.
     */
    public static SeccompProfile defaults() {
        return named("build");
    }

    /** No filter: the helper installs nothing. */
    public static SeccompProfile none() {
        return NONE;
    }

    /**
     * A profile shipped with Stockade: {@code "build"} (the default), {@code "strict"} (an allow
     * list for compilers and interpreters doing file I/O and computation; no sockets but
     * AF_UNIX) or {@code "audit"} (allows everything, reports what {@code build} would deny).
     * Loaded once per JVM; the same instance is returned every time.
     *
     * @throws PolicySyntaxException when there is no such profile
     */
    public static SeccompProfile named(String name) {
        Objects.requireNonNull(name, "name");
        SeccompProfile p = SHIPPED.get(name);
        if (p == null) {
            PolicyLoader.Loaded loaded = PolicyLoader.shipped(name);
            p = SHIPPED.computeIfAbsent(name, n -> new SeccompProfile(true,
                    loaded.defaultAction(), loaded.rules(), n));
        }
        return p;
    }

    /**
     * Loads a profile file, following its {@code @include}s (paths relative to the file). Its
     * {@link #name()} is the file name without {@code .policy}.
     *
     * @throws PolicySyntaxException with every problem in the file and its includes (a missing
     *     or unreadable file, too large a file, syntax errors, unknown names ...)
     */
    public static SeccompProfile load(Path file) {
        Objects.requireNonNull(file, "file");
        PolicyLoader.Loaded loaded = PolicyLoader.file(file);
        Path fileName = file.getFileName();
        return new SeccompProfile(true, loaded.defaultAction(), loaded.rules(),
                baseName(fileName == null ? file.toString() : fileName.toString()));
    }

    /**
     * Parses profile text. {@code sourceName} names it in messages; when it is a path with a
     * directory, relative {@code @include}s are resolved against that directory (otherwise
     * against the working directory). Its {@link #name()} is {@code sourceName}'s file name
     * without {@code .policy}.
     *
     * @throws PolicySyntaxException with every problem found
     */
    public static SeccompProfile parse(String text, String sourceName) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(sourceName, "sourceName");
        PolicyLoader.Loaded loaded = PolicyLoader.text(text, sourceName);
        return new SeccompProfile(true, loaded.defaultAction(), loaded.rules(),
                baseName(sourceName));
    }

    /**
     * A profile from OCI runtime-spec / Docker seccomp JSON ({@code defaultAction},
     * {@code syscalls[]} with names, action, errnoRet and args, includes/excludes by
     * architecture and capability where they apply).
     *
     * @throws PolicyException listing every problem, each with its JSON path
     * @throws IllegalStateException when Jackson ({@code com.fasterxml.jackson.core:
     *     jackson-databind}), an optional dependency of this library, is not on the class path
     */
    public static SeccompProfile fromOci(String json) {
        return dev.stockade.internal.oci.OciSeccomp.read(Objects.requireNonNull(json, "json"),
                null);
    }

    /**
     * A profile from an OCI / Docker seccomp JSON file, named after the file (without
     * {@code .json}).
     *
     * @throws PolicyException listing every problem (an unreadable file included)
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static SeccompProfile fromOci(Path file) {
        Objects.requireNonNull(file, "file");
        String json;
        try {
            json = new String(ProfileFiles.read(file), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PolicyException(List.of(file + ": cannot read it: " + e.getMessage()));
        }
        return dev.stockade.internal.oci.OciSeccomp.read(json, file.toString());
    }

    /**
     * This profile as OCI runtime-spec / Docker seccomp JSON.
     *
     * @throws IllegalArgumentException for {@link #none()}, which has no filter
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public String toOci() {
        return dev.stockade.internal.oci.OciSeccomp.write(this);
    }

    private static String baseName(String source) {
        int slash = source.lastIndexOf('/');
        String base = source.substring(slash + 1);
        return base.endsWith(".policy") ? base.substring(0, base.length() - 7) : base;
    }

    /** A builder for a filtering profile, starting with default action allow and no rules. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this profile's default action, rules and name. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.defaultAction = defaultAction;
        b.rules.addAll(rules);
        b.name = name;
        return b;
    }

    /**
     * This profile with {@code rule} added after its rules (same name). Problems the addition
     * causes (a rule whose action is the default, say) are reported by {@link #problems()}, so
     * by {@link SandboxPolicy.Builder#build()}. To allow a call a profile denies, remove its
     * rules with {@link Builder#removeRules(String)} instead.
     */
    public SeccompProfile with(SeccompRule rule) {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile takes no rules");
        }
        Objects.requireNonNull(rule, "rule");
        List<SeccompRule> more = new ArrayList<>(rules);
        more.add(rule);
        return new SeccompProfile(true, defaultAction, more, name);
    }

    /**
     * The profile's name: the shipped profile's ({@code "build"}), or the file name without
     * {@code .policy} for a loaded file; empty for built profiles and {@link #none()}.
     */
    public Optional<String> name() {
        return Optional.ofNullable(name);
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

    /** Whether any rule (or the default) is a {@code report}, which needs user notification. */
    public boolean hasReports() {
        if (!installsFilter) {
            return false;
        }
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

    /**
     * The profile in the policy language, one rule a line with its reason as a comment; loading
     * the text with {@link #parse} gives an equal profile (named after the source).
     */
    public String toText() {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile has no text form");
        }
        StringBuilder sb = new StringBuilder();
        sb.append("# seccomp profile").append(name == null ? ""
                : " " + name.replaceAll("\\p{Cntrl}", "?")).append('\n');
        sb.append("default ").append(PolicyLoader.show(defaultAction)).append('\n');
        for (SeccompRule r : rules) {
            sb.append(r.syscall());
            String sep = " ";
            for (SeccompCondition c : r.conditions()) {
                sb.append(sep).append("arg").append(c.argument());
                String v = "0x" + Long.toHexString(c.value());
                switch (c.operator()) {
                    case MASKED_EQ -> sb.append(" & 0x").append(Long.toHexString(c.mask()))
                            .append(" == ").append(v);
                    case EQ -> sb.append(" == ").append(v);
                    case NE -> sb.append(" != ").append(v);
                    case LT -> sb.append(" < ").append(v);
                    case LE -> sb.append(" <= ").append(v);
                    case GT -> sb.append(" > ").append(v);
                    case GE -> sb.append(" >= ").append(v);
                }
                sep = " && ";
            }
            sb.append(" -> ").append(PolicyLoader.show(r.action()));
            if (r.reason() != null) {
                sb.append("  # ").append(r.reason());
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * Every problem that would stop this profile from compiling: unknown system call names (with
     * the closest known names), errno values out of range, rules whose action is the default
     * action (libseccomp refuses them), more than one condition on an argument, argument indexes
     * out of range, report rules of one system call with different errnos (pid 1 answers a
     * system call with one errno). Empty when the profile is valid.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        Map<String, SeccompRule> firstReport = new HashMap<>();
        Map<String, SeccompRule> unconditional = new HashMap<>();
        Map<List<Object>, SeccompRule> sameConditions = new HashMap<>();
        for (SeccompRule rule : rules) {
            if (rule.conditions().isEmpty()) {
                unconditional.putIfAbsent(rule.syscall(), rule);
            }
        }
        if (!defaultAction.isValid()) {
            problems.add("seccomp default action has errno " + defaultAction.errno()
                    + ", outside 1.." + SeccompAction.MAX_ERRNO);
        }
        if (defaultAction.isReport() && !decidedWithoutReport(HANDOFF_SYSCALL)) {
            problems.add("seccomp default action " + defaultAction + ": " + HANDOFF_SYSCALL
                    + " needs a rule without conditions that is not a report (for example '"
                    + HANDOFF_SYSCALL + " -> allow'): " + HANDOFF_REASON);
        }
        for (SeccompRule rule : rules) {
            String where = "seccomp rule '" + rule + "'";
            if (rule.action().isReport() && rule.syscall().equals(HANDOFF_SYSCALL)) {
                problems.add(where + ": " + HANDOFF_SYSCALL + " cannot be reported: "
                        + HANDOFF_REASON);
            }
            if (!SyscallNames.isKnown(rule.syscall())) {
                String foreign = SyscallNames.otherArchitecture(rule.syscall());
                List<String> close = SyscallNames.closest(rule.syscall(), 3);
                problems.add(where + (foreign != null
                        ? ": system call '" + rule.syscall() + "' " + foreign
                        : ": unknown system call '" + rule.syscall() + "'"
                                + (close.isEmpty() ? "" : " (did you mean "
                                        + String.join(", ", close) + "?)")));
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
                    && !RulePitfalls.runsTheCall(rule.action()) && hasReports()) {
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
     * Compiles this profile to a BPF program ({@code struct sock_filter[]} bytes, native byte
     * order) with libseccomp; {@code report} rules become {@code SECCOMP_RET_USER_NOTIF}.
     * Compiled once per instance; later calls return a copy of the same program.
     *
     * @throws IllegalStateException for {@link #none()}, which has no program
     * @throws PolicyException when {@link #problems()} is not empty
     * @throws IOException when libseccomp fails (the call and errno are in the message)
     */
    public byte[] compile() throws IOException {
        return program(true).clone();
    }

    /** The cached program with user notification, not copied. */
    byte[] program() throws IOException {
        return program(true);
    }

    /**
     * The cached program itself, not copied: only for code that never hands it out. Without
     * {@code userNotification}, report rules deny with their errno (report(allow) rules are
     * dropped: the call runs, as the default or another rule decides).
     */
    byte[] program(boolean userNotification) throws IOException {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile has no filter program");
        }
        synchronized (compileLock) {
            if (userNotification) {
                if (program == null) {
                    program = compileNow(true);
                }
                return program;
            }
            if (programWithoutReport == null) {
                programWithoutReport = hasReports() ? compileNow(false) : program(true);
            }
            return programWithoutReport;
        }
    }

    /**
     * The syscalls the program (with user notification) sends to pid 1, by number, with the
     * errno each is answered with, in rule order. Empty without report rules.
     */
    Map<Integer, Integer> reports() throws IOException {
        synchronized (compileLock) {
            if (reports == null) {
                computeReports();
            }
            return reports;
        }
    }

    /**
     * A VIOLATION event as the public record: the syscall's name and the reason of the first
     * report rule whose conditions hold for the first call's arguments.
     */
    Violation violation(int number, int errno, long count, int pid, long[] arguments)
            throws IOException {
        SeccompRule[] candidates = reportRulesOf(number);
        SeccompRule rule = reportRule(number, arguments);
        String syscall = candidates != null ? candidates[0].syscall()
                : SyscallNumbers.name(number); // caught by a report default
        String reason = rule == null ? null : rule.reason();
        List<Long> args = new ArrayList<>(6);
        for (long a : arguments) {
            args.add(a);
        }
        return new Violation(syscall, number, errno, count, pid, args, reason, name);
    }

    private void computeReports() throws IOException {
        Map<Integer, Integer> out = new LinkedHashMap<>();
        Map<Integer, List<SeccompRule>> byNr = new HashMap<>();
        if (installsFilter) {
            NativeLoader.ensureLoaded();
            for (SeccompRule r : rules) {
                if (r.action().isReport()) {
                    int nr = resolve(r);
                    out.putIfAbsent(nr, r.action().errno());
                    byNr.computeIfAbsent(nr, k -> new ArrayList<>()).add(r);
                }
            }
            if (defaultAction.isReport()) {
                // Every call no rule decides reaches pid 1: it must know each syscall's errno.
                for (String syscall : SyscallNames.all()) {
                    int nr = SyscallNames.number(syscall);
                    if (nr >= 0 && !decidedWithoutReport(syscall)) {
                        out.putIfAbsent(nr, defaultAction.errno());
                    }
                }
            }
        }
        Map<Integer, SeccompRule[]> arrays = new HashMap<>();
        Map<Integer, long[]> masks = new HashMap<>();
        byNr.forEach((k, v) -> {
            arrays.put(k, v.toArray(new SeccompRule[0]));
            masks.put(k, testedBits(v));
        });
        List<SandboxSpec.ReportSpec> specs = new ArrayList<>(out.size());
        out.forEach((nr, errno) -> specs.add(new SandboxSpec.ReportSpec(nr, errno,
                masks.getOrDefault(nr, new long[6]))));
        reports = java.util.Collections.unmodifiableMap(out);
        reportRules = arrays;
        reportSpecs = List.copyOf(specs);
    }

    /**
     * The argument bits a syscall's report rules test: pid 1 counts its calls apart per
     * distinct (arguments & masks), so calls that different rules caught are never counted
     * under one rule.
     */
    private static long[] testedBits(List<SeccompRule> rules) {
        long[] masks = new long[6];
        for (SeccompRule r : rules) {
            for (SeccompCondition c : r.conditions()) {
                masks[c.argument()] |= c.operator() == SeccompCondition.Operator.MASKED_EQ
                        ? c.mask() : -1L;
            }
        }
        return masks;
    }

    /** The argument bits syscall {@code number}'s report rules test (all zero for none). */
    long[] reportMasks(int number) throws IOException {
        SeccompRule[] candidates = reportRulesOf(number);
        return candidates == null ? new long[6] : testedBits(List.of(candidates));
    }

    /**
     * The REPORT fields of {@link #reports()}, each with the argument bits its syscall's report
     * rules test (all zero for a syscall only the default sends); computed once.
     */
    List<SandboxSpec.ReportSpec> reportSpecs() throws IOException {
        synchronized (compileLock) {
            if (reportSpecs == null) {
                computeReports();
            }
            return reportSpecs;
        }
    }

    /**
     * The report rule that caught a call of syscall {@code number} with {@code arguments}: the
     * first whose conditions hold. When none holds and only a rule can have sent the call (the
     * default is no report), the arguments changed under the filter (another thread): the
     * syscall's first rule. {@code null} when a report default caught it.
     */
    SeccompRule reportRule(int number, long[] arguments) throws IOException {
        SeccompRule[] candidates = reportRulesOf(number);
        if (candidates == null) {
            return null;
        }
        for (SeccompRule r : candidates) {
            if (r.matches(arguments)) {
                return r;
            }
        }
        return defaultAction.isReport() ? null : candidates[0];
    }

    /** Syscall {@code number}'s report rules in rule order, or null when it has none. */
    private SeccompRule[] reportRulesOf(int number) throws IOException {
        synchronized (compileLock) {
            if (reportRules == null) {
                computeReports();
            }
            return reportRules.get(number);
        }
    }

    /** Whether a rule without conditions decides every call of {@code syscall}, not a report. */
    private boolean decidedWithoutReport(String syscall) {
        for (SeccompRule r : rules) {
            if (r.syscall().equals(syscall) && r.conditions().isEmpty()) {
                return !r.action().isReport(); // libseccomp: this rule takes every call
            }
        }
        return false;
    }

    private static int resolve(SeccompRule rule) {
        int nr = SyscallNames.number(rule.syscall());
        if (nr < 0) {
            // libseccomp's table is older than the kernel headers the name list came from.
            throw new PolicyException(List.of("seccomp rule '" + rule + "': libseccomp does"
                    + " not know system call '" + rule.syscall() + "' on this architecture"));
        }
        return nr;
    }

    private byte[] compileNow(boolean userNotification) throws IOException {
        List<String> problems = problems();
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        NativeLoader.ensureLoaded();
        SeccompAction def = userNotification ? defaultAction : defaultAction.withoutReport();
        List<SeccompRule> kept = new ArrayList<>(rules.size());
        for (SeccompRule rule : rules) {
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
            syscalls[i] = resolve(rule);
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

    @Override
    public boolean equals(Object o) {
        return o instanceof SeccompProfile p && p.installsFilter == installsFilter
                && p.defaultAction.equals(defaultAction) && p.rules.equals(rules)
                && Objects.equals(p.name, name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(installsFilter, defaultAction, rules, name);
    }

    @Override
    public String toString() {
        if (!installsFilter) {
            return "SeccompProfile[none]";
        }
        return "SeccompProfile[" + (name == null ? "" : name + ", ") + "default "
                + defaultAction + ", " + rules.size() + " rules]";
    }

    /** Builds a filtering {@link SeccompProfile}. */
    public static final class Builder {
        private SeccompAction defaultAction = SeccompAction.ALLOW;
        private final List<SeccompRule> rules = new ArrayList<>();
        private String name;

        private Builder() {}

        /** The action for system calls no rule matches (default {@link SeccompAction#ALLOW}). */
        public Builder defaultAction(SeccompAction action) {
            this.defaultAction = Objects.requireNonNull(action, "action");
            return this;
        }

        /** The profile's name, shown with its reported calls (null for none). */
        public Builder name(String name) {
            this.name = name;
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

        /** Fail {@code syscall} with {@code errno} and record it (a {@code report} rule). */
        public Builder report(String syscall, int errno, SeccompCondition... conditions) {
            return rule(new SeccompRule(syscall, SeccompAction.report(errno),
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
            return new SeccompProfile(true, defaultAction, rules, name);
        }
    }
}
