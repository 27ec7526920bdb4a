package dev.stockade;

import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.oci.OciSeccomp;
import dev.stockade.internal.policy.PolicyLoader;
import dev.stockade.internal.policy.ProfileCompiler;
import dev.stockade.internal.policy.ProfileFiles;
import dev.stockade.internal.policy.ProfileReports;
import dev.stockade.internal.policy.ProfileRules;
import dev.stockade.internal.policy.ProfileText;
import dev.stockade.internal.policy.ProfileValidator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
    private static final SeccompProfile NONE = new SeccompProfile(false,
            new ProfileRules(null, SeccompAction.ALLOW, List.of()));
    private static final Map<String, SeccompProfile> SHIPPED = new ConcurrentHashMap<>();

    private final boolean installsFilter;
    private final ProfileRules content;
    private final ProfileCompiler compiler;
    private final ProfileReports reports;

    private SeccompProfile(boolean installsFilter, ProfileRules content) {
        this.installsFilter = installsFilter;
        this.content = content;
        this.compiler = new ProfileCompiler(content);
        this.reports = new ProfileReports(content);
    }

    private static SeccompProfile filtering(String name, SeccompAction defaultAction,
            List<SeccompRule> rules) {
        return new SeccompProfile(true, new ProfileRules(name, defaultAction, rules));
    }

    private static SeccompProfile filtering(ProfileRules content) {
        return new SeccompProfile(true, content);
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
     *
     * @return the shipped {@code build} profile, the same instance on every call
     */
    public static SeccompProfile defaults() {
        return named("build");
    }

    /**
     * No filter: the helper installs nothing.
     *
     * @return the one profile whose {@link #installsFilter()} is {@code false}
     */
    public static SeccompProfile none() {
        return NONE;
    }

    /**
     * A profile shipped with Stockade: {@code "build"} (the default), {@code "strict"} (an allow
     * list for compilers and interpreters doing file I/O and computation; no sockets but
     * AF_UNIX) or {@code "audit"} (allows everything, reports what {@code build} would deny).
     * Loaded once per JVM; the same instance is returned every time.
     *
     * @param name the shipped profile's name, without {@code .policy}
     * @return the shipped profile, named {@code name}
     * @throws PolicySyntaxException when there is no such profile
     */
    public static SeccompProfile named(String name) {
        Objects.requireNonNull(name, "name");
        SeccompProfile p = SHIPPED.get(name);
        if (p == null) {
            PolicyLoader.Loaded loaded = PolicyLoader.shipped(name);
            p = SHIPPED.computeIfAbsent(name, n -> filtering(n, loaded.defaultAction(),
                    loaded.rules()));
        }
        return p;
    }

    /**
     * Loads a profile file, following its {@code @include}s (paths relative to the file). Its
     * {@link #name()} is the file name without {@code .policy}.
     *
     * @param file the profile file, in the policy language
     * @return the file's profile
     * @throws PolicySyntaxException with every problem in the file and its includes (a missing
     *     or unreadable file, too large a file, syntax errors, unknown names ...)
     */
    public static SeccompProfile load(Path file) {
        Objects.requireNonNull(file, "file");
        PolicyLoader.Loaded loaded = PolicyLoader.file(file);
        Path fileName = file.getFileName();
        return filtering(baseName(fileName == null ? file.toString() : fileName.toString()),
                loaded.defaultAction(), loaded.rules());
    }

    /**
     * Parses profile text. {@code sourceName} names it in messages; when it is a path with a
     * directory, relative {@code @include}s are resolved against that directory (otherwise
     * against the working directory). Its {@link #name()} is {@code sourceName}'s file name
     * without {@code .policy}.
     *
     * @param text the profile, in the policy language
     * @param sourceName where the text came from, a file name or path
     * @return the text's profile
     * @throws PolicySyntaxException with every problem found
     */
    public static SeccompProfile parse(String text, String sourceName) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(sourceName, "sourceName");
        PolicyLoader.Loaded loaded = PolicyLoader.text(text, sourceName);
        return filtering(baseName(sourceName), loaded.defaultAction(), loaded.rules());
    }

    /**
     * A profile from OCI runtime-spec / Docker seccomp JSON ({@code defaultAction},
     * {@code syscalls[]} with names, action, errnoRet and args, includes/excludes by
     * architecture and capability where they apply). {@link #importOci(String, String)} also
     * says what of the JSON does not apply here.
     *
     * @param json the seccomp JSON: the {@code linux.seccomp} object of an OCI config, or a
     *     Docker seccomp profile
     * @return the JSON's profile, without a name unless Stockade exported the JSON
     * @throws PolicyException listing every problem, each with its JSON path
     * @throws IllegalStateException when Jackson ({@code com.fasterxml.jackson.core:
     *     jackson-databind}), an optional dependency of this library, is not on the class path
     */
    public static SeccompProfile fromOci(String json) {
        return imported(Objects.requireNonNull(json, "json"), null).profile();
    }

    /**
     * A profile from an OCI / Docker seccomp JSON file, named after the file (without
     * {@code .json}).
     *
     * @param file the seccomp JSON file
     * @return the file's profile
     * @throws PolicyException listing every problem (an unreadable file included)
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static SeccompProfile fromOci(Path file) {
        return importOci(file).profile();
    }

    /**
     * A profile from OCI / Docker seccomp JSON, with what of it does not apply on this machine
     * and was skipped or changed ({@link OciImport#warnings()}). {@code sourceName} names the
     * JSON in messages; the profile is named after it (without {@code .json}) unless the JSON
     * is one Stockade exported, which carries its profile's name.
     *
     * @param json the seccomp JSON
     * @param sourceName where the JSON came from, a file name or path
     * @return the profile and the warnings about what did not apply
     * @throws PolicyException listing every problem, each with its JSON path
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static OciImport importOci(String json, String sourceName) {
        return imported(Objects.requireNonNull(json, "json"),
                Objects.requireNonNull(sourceName, "sourceName"));
    }

    /**
     * {@link #importOci(String, String)} of a file's JSON, named after the file.
     *
     * @param file the seccomp JSON file
     * @return the profile and the warnings about what did not apply
     * @throws PolicyException listing every problem (an unreadable file included)
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static OciImport importOci(Path file) {
        Objects.requireNonNull(file, "file");
        String json;
        try {
            json = ProfileFiles.readText(file);
        } catch (IOException e) {
            throw new PolicyException(List.of(file + ": " + ProfileFiles.reason(e)));
        }
        return imported(json, file.toString());
    }

    private static OciImport imported(String json, String source) {
        OciSeccomp.Imported read = OciSeccomp.read(json, source);
        return new OciImport(filtering(read.profile()), read.warnings());
    }

    /**
     * This profile as OCI runtime-spec / Docker seccomp JSON.
     *
     * @return the JSON text; it carries the profile's name, which {@link #fromOci(String)}
     *     keeps when it reads the JSON back
     * @throws IllegalArgumentException for {@link #none()}, which has no filter
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public String toOci() {
        if (!installsFilter) {
            throw new IllegalArgumentException("the 'none' profile installs no filter, so it"
                    + " has no OCI seccomp JSON (leave linux.seccomp out instead)");
        }
        return OciSeccomp.write(content);
    }

    private static String baseName(String source) {
        int slash = source.lastIndexOf('/');
        String base = source.substring(slash + 1);
        return base.endsWith(".policy") ? base.substring(0, base.length() - 7) : base;
    }

    /**
     * A builder for a filtering profile.
     *
     * @return a new builder with default action {@link SeccompAction#ALLOW}, no rules and no
     *     name
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder to derive a changed profile from this one.
     *
     * @return a new builder holding this profile's default action, rules and name
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.defaultAction = content.defaultAction();
        b.rules.addAll(content.rules());
        b.name = content.name();
        b.acceptedPitfalls.addAll(content.acceptedPitfalls());
        return b;
    }

    /**
     * This profile with {@code rule} added after its rules (same name). Problems the addition
     * causes (a rule whose action is the default, say) are reported by {@link #problems()}, so
     * by {@link SandboxPolicy.Builder#build()}. To allow a call a profile denies, remove its
     * rules with {@link Builder#removeRules(String)} instead.
     *
     * @param rule the rule to add; it is matched after the existing rules
     * @return a new profile; this one is unchanged
     * @throws IllegalStateException for {@link #none()}, which has no rules
     */
    public SeccompProfile with(SeccompRule rule) {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile takes no rules");
        }
        Objects.requireNonNull(rule, "rule");
        List<SeccompRule> more = new ArrayList<>(content.rules());
        more.add(rule);
        return filtering(new ProfileRules(content.name(), content.defaultAction(), more,
                content.acceptedPitfalls()));
    }

    /**
     * The profile's name: the shipped profile's ({@code "build"}), or the file name without
     * {@code .policy} for a loaded file; empty for built profiles and {@link #none()}.
     *
     * @return the name, or empty when the profile has none
     */
    public Optional<String> name() {
        return Optional.ofNullable(content.name());
    }

    /**
     * Whether a filter is installed at all.
     *
     * @return {@code false} only for {@link #none()}
     */
    public boolean installsFilter() {
        return installsFilter;
    }

    /**
     * The action for system calls no rule matches.
     *
     * @return the default action; {@link SeccompAction#ALLOW} for {@link #none()}
     */
    public SeccompAction defaultAction() {
        return content.defaultAction();
    }

    /**
     * The rules, in the order the filter tries them.
     *
     * @return the rules, unmodifiable; empty for {@link #none()}
     */
    public List<SeccompRule> rules() {
        return content.rules();
    }

    /**
     * Whether any rule (or the default) is a {@code report}, which needs seccomp user
     * notification in the kernel.
     *
     * @return {@code true} when a call can be reported; {@code false} for {@link #none()}
     */
    public boolean hasReports() {
        return installsFilter && content.hasReports();
    }

    /**
     * The profile in the policy language, one rule a line with its reason as a comment; loading
     * the text with {@link #parse} gives an equal profile (named after the source).
     *
     * @return the policy-language text: a comment naming the profile, the {@code default}
     *     line, then one line per rule
     * @throws IllegalStateException for {@link #none()}, which has no text form
     */
    public String toText() {
        if (!installsFilter) {
            throw new IllegalStateException("the 'none' seccomp profile has no text form");
        }
        return ProfileText.render(content);
    }

    /**
     * Every problem that would stop this profile from compiling, or from holding as written: the
     * checks a loaded profile file gets ({@code docs/policy-reference.md}, "How rules combine"),
     * each naming its rule — unknown system call names (with the closest known names), errno
     * values out of range, rules whose action is the default action (libseccomp refuses them),
     * more than one condition on an argument, argument indexes out of range, rules libseccomp
     * would never apply, report rules of one system call with different errnos (pid 1 answers a
     * system call with one errno), the listener's handoff, and the two pitfalls (32-bit
     * orderings, different actions on different arguments) except on the rules an OCI import
     * kept with a warning.
     *
     * @return one line per problem; empty when the profile is valid
     */
    public List<String> problems() {
        return ProfileValidator.problems(content);
    }

    /**
     * Compiles this profile to a BPF program ({@code struct sock_filter[]} bytes, native byte
     * order) with libseccomp; {@code report} rules become {@code SECCOMP_RET_USER_NOTIF}.
     * Compiled once per instance; later calls return a copy of the same program.
     *
     * @return the program, 8 bytes per BPF instruction; a new copy the caller may change
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
        return compiler.program(userNotification);
    }

    /**
     * The syscalls the program (with user notification) sends to pid 1, by number, with the
     * errno each is answered with, in rule order. Empty without report rules.
     */
    Map<Integer, Integer> reports() throws IOException {
        return reports.errnos();
    }

    /**
     * A VIOLATION event as the public record: the syscall's name and the reason of the first
     * report rule whose conditions hold for the first call's arguments.
     */
    Violation violation(int number, int errno, long count, int pid, long[] arguments)
            throws IOException {
        SeccompRule rule = reports.rule(number, arguments);
        List<Long> args = new ArrayList<>(arguments.length);
        for (long a : arguments) {
            args.add(a);
        }
        return new Violation(reports.syscall(number), number, errno, count, pid, args,
                rule == null ? null : rule.reason(), content.name());
    }

    /** The argument bits syscall {@code number}'s report rules test (all zero for none). */
    long[] reportMasks(int number) throws IOException {
        return reports.masks(number);
    }

    /**
     * The REPORT fields of {@link #reports()}, each with the argument bits its syscall's report
     * rules test (all zero for a syscall only the default sends); computed once.
     */
    List<SandboxSpec.ReportSpec> reportSpecs() throws IOException {
        return reports.specs();
    }

    /**
     * The report rule that caught a call of syscall {@code number} with {@code arguments}: the
     * first whose conditions hold; {@code null} when a report default caught it (see
     * {@link ProfileReports#rule}).
     */
    SeccompRule reportRule(int number, long[] arguments) throws IOException {
        return reports.rule(number, arguments);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeccompProfile p && p.installsFilter == installsFilter
                && p.content.equals(content);
    }

    @Override
    public int hashCode() {
        return Objects.hash(installsFilter, content);
    }

    @Override
    public String toString() {
        if (!installsFilter) {
            return "SeccompProfile[none]";
        }
        return "SeccompProfile[" + (content.name() == null ? "" : content.name() + ", ")
                + "default " + content.defaultAction() + ", " + content.rules().size()
                + " rules]";
    }

    /** Builds a filtering {@link SeccompProfile}. */
    public static final class Builder {
        private SeccompAction defaultAction = SeccompAction.ALLOW;
        private final List<SeccompRule> rules = new ArrayList<>();
        /** What {@link SeccompProfile#toBuilder()} took over from an OCI import. */
        private final Set<SeccompRule> acceptedPitfalls = new HashSet<>();
        private String name;

        private Builder() {}

        /**
         * Sets the action for system calls no rule matches.
         *
         * @param action the default action (default {@link SeccompAction#ALLOW})
         * @return this builder
         */
        public Builder defaultAction(SeccompAction action) {
            this.defaultAction = Objects.requireNonNull(action, "action");
            return this;
        }

        /**
         * Sets the profile's name, shown with its reported calls
         * ({@link Violation#profile()}).
         *
         * @param name the name, or {@code null} for none (the default)
         * @return this builder
         */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**
         * Adds a rule failing {@code syscall} with {@code errno} whatever its arguments.
         *
         * @param syscall the system call's name ({@code "ptrace"})
         * @param errno the errno the call fails with, 1..{@link SeccompAction#MAX_ERRNO}
         * @return this builder
         */
        public Builder deny(String syscall, int errno) {
            return rule(new SeccompRule(syscall, SeccompAction.errno(errno), List.of()));
        }

        /**
         * Adds a rule failing {@code syscall} with {@code errno} when every condition holds.
         *
         * @param syscall the system call's name ({@code "ptrace"})
         * @param errno the errno the call fails with, 1..{@link SeccompAction#MAX_ERRNO}
         * @param conditions conditions on the call's arguments, at most one per argument; none
         *     for a rule that always applies
         * @return this builder
         */
        public Builder denyIf(String syscall, int errno, SeccompCondition... conditions) {
            return rule(new SeccompRule(syscall, SeccompAction.errno(errno),
                    List.of(conditions)));
        }

        /**
         * Adds a {@code report} rule: when every condition holds, {@code syscall} fails with
         * {@code errno} and is recorded in {@link SandboxResult#violations()}.
         *
         * @param syscall the system call's name ({@code "ptrace"})
         * @param errno the errno the call fails with, 0..{@link SeccompAction#MAX_ERRNO}; 0 lets
         *     the call run and only records it
         * @param conditions conditions on the call's arguments, at most one per argument; none
         *     for a rule that always applies
         * @return this builder
         */
        public Builder report(String syscall, int errno, SeccompCondition... conditions) {
            return rule(new SeccompRule(syscall, SeccompAction.report(errno),
                    List.of(conditions)));
        }

        /**
         * Adds a rule after the existing ones.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder rule(SeccompRule rule) {
            rules.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /**
         * Removes every rule for {@code syscall} (for example to let the default action, allow,
         * apply to it again).
         *
         * @param syscall the system call's name; a name no rule has changes nothing
         * @return this builder
         */
        public Builder removeRules(String syscall) {
            rules.removeIf(r -> r.syscall().equals(syscall));
            return this;
        }

        /**
         * The profile. Names are checked by {@link SeccompProfile#problems()}, which
         * {@link SandboxPolicy.Builder#build()} reports with the rest of the policy.
         *
         * @return a new filtering profile; the builder can go on to build others
         */
        public SeccompProfile build() {
            return filtering(new ProfileRules(name, defaultAction, rules, acceptedPitfalls));
        }
    }
}
