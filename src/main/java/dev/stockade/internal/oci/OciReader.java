package dev.stockade.internal.oci;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.PolicyException;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.internal.policy.RulePitfalls;
import dev.stockade.internal.Errno;
import dev.stockade.internal.SyscallNames;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads OCI runtime-spec / Docker / containers-common seccomp JSON into a
 * {@link SeccompProfile}, the way runtimes built on libseccomp (runc, crun, podman) apply it
 * to a process without capabilities on x86_64:
 *
 * <ul>
 *   <li>entries gated on capabilities ({@code includes.caps}) do not apply: the sandbox holds
 *       none; entries that {@code excludes} capabilities apply;
 *   <li>{@code includes.arches}/{@code excludes.arches} are matched against {@code amd64}; the
 *       filter kills every foreign ABI (x86, x32), so rules for them have nothing to do;
 *   <li>{@code minKernel} is compared with the running kernel;
 *   <li>names this architecture does not have are skipped with a warning, not an error;
 *   <li>{@code SCMP_ACT_TRACE} fails the call with ENOSYS, which is what the kernel does when
 *       no tracer is attached, and there never is one in a sandbox;
 *   <li>{@code SCMP_ACT_NOTIFY} becomes Stockade's {@code report}: the sandbox's pid 1 (the only
 *       listener there is) denies the call with EPERM (or {@code errnoRet}) and records it;
 *   <li>a rule whose action is the default action is dropped (libseccomp refuses it);
 *   <li>several comparisons of one argument in one entry become one rule per comparison, as
 *       runc does, since libseccomp compares each argument once per rule;
 *   <li>a rule that libseccomp would never act on (another action for a system call that
 *       already has a rule without conditions) is dropped with a warning.
 * </ul>
 *
 * Everything else that is wrong (not JSON, wrong types, unknown actions, operators or errno
 * names, out of range numbers) is an error naming the JSON path, all of them at once.
 */
final class OciReader {
    /** Far beyond any real profile (containers-common's is 16 KiB), far below trouble. */
    static final int MAX_CHARS = 4 * 1024 * 1024;

    /** The native architecture's names: libseccomp's, and Go's (as Docker's arches use). */
    static final String NATIVE_SCMP_ARCH = "SCMP_ARCH_X86_64";
    private static final Set<String> NATIVE_GO_ARCHES = Set.of("amd64", "x86_64");

    static final Set<String> SCMP_ARCHES = Set.of("SCMP_ARCH_NATIVE", "SCMP_ARCH_X86",
            "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
            "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
            "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
            "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB");

    private static final Set<String> FLAGS = Set.of("SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");

    private static final Map<String, SeccompCondition.Operator> OPERATORS = Map.of(
            "SCMP_CMP_NE", SeccompCondition.Operator.NE,
            "SCMP_CMP_LT", SeccompCondition.Operator.LT,
            "SCMP_CMP_LE", SeccompCondition.Operator.LE,
            "SCMP_CMP_EQ", SeccompCondition.Operator.EQ,
            "SCMP_CMP_GE", SeccompCondition.Operator.GE,
            "SCMP_CMP_GT", SeccompCondition.Operator.GT,
            "SCMP_CMP_MASKED_EQ", SeccompCondition.Operator.MASKED_EQ);

    private static final Set<String> TOP_LEVEL_FIELDS = Set.of("defaultAction",
            "defaultErrnoRet", "defaultErrno", "architectures", "archMap", "syscalls", "flags",
            "listenerPath", "listenerMetadata", OciWriter.EXTENSION);
    private static final Set<String> SYSCALL_FIELDS = Set.of("names", "name", "action",
            "errnoRet", "errno", "args", "comment", "includes", "excludes",
            OciWriter.EXTENSION);
    private static final Set<String> ARG_FIELDS = Set.of("index", "value", "valueTwo", "op");
    private static final Set<String> FILTER_FIELDS = Set.of("caps", "arches", "minKernel");

    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(
            BigInteger.ONE);
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private final String source;
    private final int[] kernel;
    private final List<String> problems = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    private OciReader(String source, int[] kernel) {
        this.source = source;
        this.kernel = kernel;
    }

    static OciImport read(String json, String source) {
        return read(json, source, System.getProperty("os.version", ""));
    }

    /** With the kernel release given (for {@code minKernel}), so tests can pick one. */
    static OciImport read(String json, String source, String kernelRelease) {
        if (json.length() > MAX_CHARS) {
            throw new PolicyException(List.of(source + ": " + json.length()
                    + " characters, more than the " + MAX_CHARS + " an OCI seccomp profile"
                    + " may have"));
        }
        if (json.isBlank()) {
            throw new PolicyException(List.of(source + ": empty, expected a JSON object"));
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column "
                    + at.getColumnNr();
            throw new PolicyException(List.of(source + ": invalid JSON" + where + ": "
                    + firstLine(e.getOriginalMessage())));
        }
        int[] kernel = parseVersion(kernelRelease);
        OciReader reader = new OciReader(source, kernel == null ? new int[] {0, 0} : kernel);
        SeccompProfile profile = reader.profile(root);
        if (!reader.problems.isEmpty()) {
            throw new PolicyException(reader.problems);
        }
        return new OciImport(profile, reader.warnings);
    }

    private SeccompProfile profile(JsonNode root) {
        if (root == null || !root.isObject()) {
            problem("", "expected a JSON object, found " + describe(root));
            return null;
        }
        String at = "";
        JsonNode seccomp = root;
        // A whole OCI config.json: its linux.seccomp is the profile.
        if (!root.has("defaultAction") && root.path("linux").path("seccomp").isObject()) {
            seccomp = root.path("linux").path("seccomp");
            at = "linux.seccomp";
        }
        unknownFields(seccomp, at, TOP_LEVEL_FIELDS);
        JsonNode extension = seccomp.get(OciWriter.EXTENSION);
        boolean defaultIsReport = extensionReport(extension, join(at, OciWriter.EXTENSION),
                "defaultAction");
        SeccompAction defaultAction = action(seccomp, at, "defaultAction", "defaultErrnoRet",
                "defaultErrno", defaultIsReport);
        architectures(seccomp, at);
        flags(seccomp, at);
        for (String listener : List.of("listenerPath", "listenerMetadata")) {
            if (seccomp.has(listener)) {
                warn(join(at, listener), "ignored: Stockade has no seccomp agent; the"
                        + " sandbox's pid 1 answers SCMP_ACT_NOTIFY calls itself");
            }
        }
        SeccompProfile.Builder builder = SeccompProfile.builder();
        if (defaultAction != null) {
            builder.defaultAction(defaultAction);
        }
        String name = extensionName(extension, join(at, OciWriter.EXTENSION));
        if (name != null) {
            builder.name(name);
        }
        JsonNode syscalls = seccomp.get("syscalls");
        String syscallsAt = join(at, "syscalls");
        List<Located> rules = new ArrayList<>();
        if (syscalls != null && !syscalls.isNull()) {
            if (!syscalls.isArray()) {
                problem(syscallsAt, "expected an array, found " + describe(syscalls));
            } else {
                for (int i = 0; i < syscalls.size(); i++) {
                    rules.addAll(entry(syscalls.get(i), syscallsAt + "[" + i + "]",
                            defaultAction));
                }
            }
        }
        List<Located> kept = effective(rules);
        SeccompAction effectiveDefault = defaultAction != null ? defaultAction
                : SeccompAction.ALLOW;
        Map<String, List<Located>> conditional = new HashMap<>();
        for (Located located : kept) {
            builder.rule(located.rule());
            // Other runtimes run such rules as they are, so the import keeps them; the user
            // is told what they do not guarantee.
            RulePitfalls.argumentWidth(located.rule(), effectiveDefault)
                    .ifPresent(message -> warn(located.at(), message));
            List<Located> earlier = conditional.computeIfAbsent(located.rule().syscall(),
                    k -> new ArrayList<>());
            for (Located e : earlier) {
                RulePitfalls.argumentOrder(located.rule(), e.rule())
                        .ifPresent(message -> warn(located.at(), message));
            }
            if (!located.rule().conditions().isEmpty()) {
                earlier.add(located);
            }
        }
        return builder.build();
    }

    /** A rule and the JSON path of the name it came from. */
    private record Located(SeccompRule rule, String at) {}

    /**
     * The rules libseccomp would act on. A rule without conditions takes every call of its
     * system call: libseccomp keeps the first such rule and silently ignores later ones with
     * another action, and rules with conditions under another action never match. (The
     * containers-common profile, for one, allows setns outright and also denies it for
     * processes without CAP_SYS_ADMIN: runc allows it.) Those rules are dropped with a warning
     * instead of making the profile invalid; rules with the same action stay.
     */
    private List<Located> effective(List<Located> rules) {
        Map<String, Located> unconditional = new HashMap<>();
        for (Located located : rules) {
            if (located.rule().conditions().isEmpty()) {
                unconditional.putIfAbsent(located.rule().syscall(), located);
            }
        }
        List<Located> kept = new ArrayList<>();
        for (Located located : rules) {
            Located first = unconditional.get(located.rule().syscall());
            if (first != null && first != located
                    && !first.rule().action().equals(located.rule().action())) {
                warn(located.at(), "skipped: " + first.at() + " already gives \""
                        + located.rule().syscall() + "\" " + first.rule().action()
                        + " whatever its arguments, and libseccomp keeps that rule");
                continue;
            }
            kept.add(located);
        }
        return kept;
    }

    /** The rules of one {@code syscalls[]} entry; none when it does not apply here. */
    private List<Located> entry(JsonNode entry, String at, SeccompAction defaultAction) {
        List<Located> rules = new ArrayList<>();
        if (!entry.isObject()) {
            problem(at, "expected an object, found " + describe(entry));
            return rules;
        }
        unknownFields(entry, at, SYSCALL_FIELDS);
        List<String> names = names(entry, at);
        boolean report = extensionReport(entry.get(OciWriter.EXTENSION),
                join(at, OciWriter.EXTENSION), "action");
        SeccompAction action = action(entry, at, "action", "errnoRet", "errno", report);
        List<List<SeccompCondition>> alternatives = conditions(entry.get("args"),
                join(at, "args"));
        String reason = comment(entry.get("comment"), join(at, "comment"));
        boolean applies = filter(entry.get("includes"), join(at, "includes"), true)
                & filter(entry.get("excludes"), join(at, "excludes"), false);
        if (action == null || names == null || alternatives == null || !applies) {
            return rules;
        }
        if (defaultAction != null && action.equals(defaultAction)) {
            warn(at, "skipped: its action " + action + " is the default action, so it has no"
                    + " effect (libseccomp refuses such rules)");
            return rules;
        }
        for (int n = 0; n < names.size(); n++) {
            String name = names.get(n);
            if (!SyscallNames.isKnown(name)) {
                warn(at + ".names[" + n + "]", "skipped: \"" + name + "\" is not a system call"
                        + " on x86_64");
                continue;
            }
            for (List<SeccompCondition> conditions : alternatives) {
                rules.add(new Located(new SeccompRule(name, action, conditions, reason),
                        at + ".names[" + n + "]"));
            }
        }
        return rules;
    }

    private List<String> names(JsonNode entry, String at) {
        List<String> names = new ArrayList<>();
        JsonNode list = entry.get("names");
        JsonNode single = entry.get("name");
        if (list == null && single == null) {
            problem(at, "missing \"names\"");
            return null;
        }
        boolean ok = true;
        if (single != null) {
            if (!single.isTextual() || single.asText().isEmpty()) {
                problem(join(at, "name"), "expected a system call name, found "
                        + describe(single));
                ok = false;
            } else {
                names.add(single.asText());
            }
        }
        if (list != null) {
            if (!list.isArray()) {
                problem(join(at, "names"), "expected an array of names, found "
                        + describe(list));
                return null;
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode name = list.get(i);
                if (!name.isTextual() || name.asText().isEmpty()) {
                    problem(at + ".names[" + i + "]", "expected a system call name, found "
                            + describe(name));
                    ok = false;
                } else {
                    names.add(name.asText());
                }
            }
        }
        if (ok && names.isEmpty()) {
            problem(join(at, "names"), "empty: an entry names at least one system call");
            return null;
        }
        return ok ? names : null;
    }

    /**
     * The action in field {@code field} with its errno ({@code errnoField} as a number, or
     * {@code errnoNameField} as a name, containers-common's spelling); null after a problem.
     */
    private SeccompAction action(JsonNode object, String at, String field, String errnoField,
            String errnoNameField, boolean report) {
        JsonNode node = object.get(field);
        String fieldAt = join(at, field);
        if (node == null) {
            problem(at.isEmpty() ? field : fieldAt, "missing");
            return null;
        }
        if (!node.isTextual()) {
            problem(fieldAt, "expected an action name, found " + describe(node));
            return null;
        }
        Integer errno = errno(object, at, errnoField, errnoNameField);
        if (errno != null && errno < 0) {
            return null; // already a problem
        }
        String name = node.asText();
        boolean takesErrno = name.equals("SCMP_ACT_ERRNO") || name.equals("SCMP_ACT_TRACE")
                || name.equals("SCMP_ACT_NOTIFY");
        if (errno != null && !takesErrno) {
            problem(join(at, object.has(errnoField) ? errnoField : errnoNameField),
                    "only SCMP_ACT_ERRNO, SCMP_ACT_TRACE and SCMP_ACT_NOTIFY take"
                    + " an errno, not " + name);
            return null;
        }
        if (report && !name.equals("SCMP_ACT_ERRNO") && !name.equals("SCMP_ACT_LOG")) {
            problem(fieldAt, "a Stockade report action is written as SCMP_ACT_ERRNO or"
                    + " SCMP_ACT_LOG, not " + name);
            return null;
        }
        switch (name) {
            case "SCMP_ACT_ALLOW":
                return SeccompAction.ALLOW;
            case "SCMP_ACT_ERRNO": {
                int value = errno == null ? EPERM : errno;
                if (value == 0) {
                    problem(join(at, errnoField), "errno 0 would make the call return success"
                            + " without running it; use 1.." + SeccompAction.MAX_ERRNO);
                    return null;
                }
                return report ? SeccompAction.report(value) : SeccompAction.errno(value);
            }
            case "SCMP_ACT_LOG":
                return report ? SeccompAction.report(0) : SeccompAction.LOG;
            case "SCMP_ACT_KILL":
            case "SCMP_ACT_KILL_THREAD":
                return SeccompAction.KILL_THREAD;
            case "SCMP_ACT_KILL_PROCESS":
                return SeccompAction.KILL_PROCESS;
            case "SCMP_ACT_TRAP":
                return SeccompAction.TRAP;
            case "SCMP_ACT_TRACE":
                warn(fieldAt, "SCMP_ACT_TRACE: no tracer is ever attached in a sandbox, so the"
                        + " call fails with ENOSYS, as the kernel does without a tracer");
                return SeccompAction.errno(ENOSYS);
            case "SCMP_ACT_NOTIFY": {
                int value = errno == null ? EPERM : errno;
                warn(fieldAt, "SCMP_ACT_NOTIFY: Stockade has no seccomp agent; the call is"
                        + " denied with " + Errno.name(value) + " and recorded in the"
                        + " sandbox's report");
                return SeccompAction.report(value);
            }
            default:
                problem(fieldAt, "unknown action \"" + name + "\" (expected one of"
                        + " SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL,"
                        + " SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP,"
                        + " SCMP_ACT_LOG, SCMP_ACT_TRACE, SCMP_ACT_NOTIFY)");
                return null;
        }
    }

    /** The entry's errno: null when not given, -1 after a problem. */
    private Integer errno(JsonNode object, String at, String numberField, String nameField) {
        Integer number = null;
        JsonNode numberNode = object.get(numberField);
        if (numberNode != null && !numberNode.isNull()) {
            Long value = unsigned(numberNode, join(at, numberField), SeccompAction.MAX_ERRNO);
            if (value == null) {
                return -1;
            }
            number = value.intValue();
        }
        JsonNode nameNode = object.get(nameField);
        if (nameNode != null && !nameNode.isNull()) {
            String nameAt = join(at, nameField);
            if (!nameNode.isTextual()) {
                problem(nameAt, "expected an errno name such as \"EPERM\", found "
                        + describe(nameNode));
                return -1;
            }
            int byName = Errno.number(nameNode.asText());
            if (byName < 0) {
                problem(nameAt, "unknown errno name \"" + nameNode.asText() + "\"");
                return -1;
            }
            if (number != null && number != byName) {
                problem(nameAt, "\"" + nameNode.asText() + "\" is errno " + byName + " but "
                        + numberField + " says " + number);
                return -1;
            }
            number = byName;
        }
        return number;
    }

    /**
     * The argument conditions as alternatives: one list when each argument is compared at most
     * once, else one single-condition list per comparison (runc's reading). Null after a
     * problem.
     */
    private List<List<SeccompCondition>> conditions(JsonNode args, String at) {
        List<SeccompCondition> all = new ArrayList<>();
        if (args == null || args.isNull()) {
            return List.of(all);
        }
        if (!args.isArray()) {
            problem(at, "expected an array, found " + describe(args));
            return null;
        }
        boolean ok = true;
        for (int i = 0; i < args.size(); i++) {
            SeccompCondition condition = condition(args.get(i), at + "[" + i + "]");
            if (condition == null) {
                ok = false;
            } else {
                all.add(condition);
            }
        }
        if (!ok) {
            return null;
        }
        BitSet seen = new BitSet();
        boolean repeated = false;
        for (SeccompCondition c : all) {
            repeated |= seen.get(c.argument());
            seen.set(c.argument());
        }
        if (!repeated) {
            return List.of(all);
        }
        warn(at, "compares one argument more than once; as runc does, each comparison"
                + " becomes a rule of its own (any of them matching is enough)");
        List<List<SeccompCondition>> alternatives = new ArrayList<>();
        for (SeccompCondition c : all) {
            alternatives.add(List.of(c));
        }
        return alternatives;
    }

    private SeccompCondition condition(JsonNode arg, String at) {
        if (!arg.isObject()) {
            problem(at, "expected an object, found " + describe(arg));
            return null;
        }
        unknownFields(arg, at, ARG_FIELDS);
        JsonNode indexNode = arg.get("index");
        JsonNode valueNode = arg.get("value");
        JsonNode valueTwoNode = arg.get("valueTwo");
        JsonNode opNode = arg.get("op");
        boolean ok = true;
        Long index = null;
        if (indexNode == null) {
            problem(join(at, "index"), "missing");
            ok = false;
        } else {
            index = unsigned(indexNode, join(at, "index"), 5);
            ok &= index != null;
        }
        Long value = null;
        if (valueNode == null) {
            problem(join(at, "value"), "missing");
            ok = false;
        } else {
            value = unsigned(valueNode, join(at, "value"), -1);
            ok &= value != null;
        }
        Long valueTwo = 0L;
        if (valueTwoNode != null && !valueTwoNode.isNull()) {
            valueTwo = unsigned(valueTwoNode, join(at, "valueTwo"), -1);
            ok &= valueTwo != null;
        }
        SeccompCondition.Operator op = null;
        if (opNode == null) {
            problem(join(at, "op"), "missing");
            ok = false;
        } else if (!opNode.isTextual()) {
            problem(join(at, "op"), "expected an operator name, found " + describe(opNode));
            ok = false;
        } else {
            op = OPERATORS.get(opNode.asText());
            if (op == null) {
                problem(join(at, "op"), "unknown operator \"" + opNode.asText() + "\""
                        + " (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ,"
                        + " SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)");
                ok = false;
            }
        }
        if (!ok) {
            return null;
        }
        int argument = index.intValue();
        if (op == SeccompCondition.Operator.MASKED_EQ) {
            // libseccomp's order: the mask first (value), then the datum (valueTwo).
            return SeccompCondition.maskedEqual(argument, value, valueTwo);
        }
        return new SeccompCondition(argument, op, value, 0);
    }

    /**
     * Whether an {@code includes} ({@code include} true) or {@code excludes} filter lets the
     * entry apply to a sandboxed process on this machine.
     */
    private boolean filter(JsonNode filter, String at, boolean include) {
        if (filter == null || filter.isNull()) {
            return true;
        }
        if (!filter.isObject()) {
            problem(at, "expected an object, found " + describe(filter));
            return false;
        }
        unknownFields(filter, at, FILTER_FIELDS);
        List<String> caps = strings(filter.get("caps"), join(at, "caps"));
        List<String> arches = strings(filter.get("arches"), join(at, "arches"));
        int[] minKernel = null;
        JsonNode kernelNode = filter.get("minKernel");
        if (kernelNode != null && !kernelNode.isNull()) {
            minKernel = kernelNode.isTextual() ? parseVersion(kernelNode.asText()) : null;
            if (minKernel == null) {
                problem(join(at, "minKernel"), "expected a kernel version such as \"5.8\","
                        + " found " + describe(kernelNode));
                return false;
            }
        }
        if (caps == null || arches == null) {
            return false;
        }
        boolean newEnough = minKernel == null || compare(kernel, minKernel) >= 0;
        boolean nativeArch = arches.stream().anyMatch(NATIVE_GO_ARCHES::contains);
        if (include) {
            // The sandbox drops every capability, so no capability condition ever holds.
            if (!caps.isEmpty()) {
                warn(at, "not applied: needs " + String.join(", ", caps)
                        + ", and a sandboxed process has no capabilities");
                return false;
            }
            if (!arches.isEmpty() && !nativeArch) {
                warn(at, "not applied: only for " + String.join(", ", arches)
                        + ", not amd64");
                return false;
            }
            if (!newEnough) {
                warn(at, "not applied: needs kernel " + kernelNode.asText() + " or newer");
                return false;
            }
            return true;
        }
        if (nativeArch) {
            warn(at, "not applied: excluded on amd64");
            return false;
        }
        if (minKernel != null && newEnough) {
            warn(at, "not applied: excluded on kernel " + kernelNode.asText() + " and newer");
            return false;
        }
        return true;
    }

    private void architectures(JsonNode seccomp, String at) {
        boolean listsNative = false;
        boolean listsAny = false;
        JsonNode list = seccomp.get("architectures");
        if (list != null && !list.isNull()) {
            List<String> arches = strings(list, join(at, "architectures"));
            if (arches != null) {
                for (int i = 0; i < arches.size(); i++) {
                    listsAny = true;
                    listsNative |= checkArch(arches.get(i), join(at, "architectures") + "["
                            + i + "]");
                }
            }
        }
        JsonNode map = seccomp.get("archMap");
        String mapAt = join(at, "archMap");
        if (map != null && !map.isNull()) {
            if (!map.isArray()) {
                problem(mapAt, "expected an array, found " + describe(map));
            } else {
                for (int i = 0; i < map.size(); i++) {
                    JsonNode entry = map.get(i);
                    String entryAt = mapAt + "[" + i + "]";
                    if (!entry.isObject()) {
                        problem(entryAt, "expected an object, found " + describe(entry));
                        continue;
                    }
                    unknownFields(entry, entryAt, Set.of("architecture", "subArchitectures"));
                    JsonNode arch = entry.get("architecture");
                    if (arch == null || !arch.isTextual()) {
                        problem(join(entryAt, "architecture"), arch == null ? "missing"
                                : "expected an architecture name, found " + describe(arch));
                    } else {
                        listsAny = true;
                        listsNative |= checkArch(arch.asText(), join(entryAt, "architecture"));
                    }
                    List<String> subs = strings(entry.get("subArchitectures"),
                            join(entryAt, "subArchitectures"));
                    if (subs != null) {
                        for (int s = 0; s < subs.size(); s++) {
                            checkArch(subs.get(s), join(entryAt, "subArchitectures") + "[" + s
                                    + "]");
                        }
                    }
                }
            }
        }
        if (listsAny && !listsNative) {
            warn(at.isEmpty() ? "architectures" : join(at, "architectures"), "does not list "
                    + NATIVE_SCMP_ARCH + "; the rules apply to this machine's architecture"
                    + " anyway (libseccomp always keeps the native one)");
        }
    }

    /** Whether {@code arch} is the native architecture; a problem when it is not a name. */
    private boolean checkArch(String arch, String at) {
        if (!SCMP_ARCHES.contains(arch)) {
            problem(at, "unknown architecture \"" + arch + "\"");
            return false;
        }
        return arch.equals(NATIVE_SCMP_ARCH) || arch.equals("SCMP_ARCH_NATIVE");
    }

    private void flags(JsonNode seccomp, String at) {
        JsonNode node = seccomp.get("flags");
        if (node == null || node.isNull()) {
            return;
        }
        List<String> flags = strings(node, join(at, "flags"));
        if (flags == null) {
            return;
        }
        for (int i = 0; i < flags.size(); i++) {
            String flagAt = join(at, "flags") + "[" + i + "]";
            if (!FLAGS.contains(flags.get(i))) {
                problem(flagAt, "unknown flag \"" + flags.get(i) + "\"");
            } else {
                warn(flagAt, flags.get(i) + " ignored: Stockade installs the filter with its"
                        + " own flags (none of these adds a restriction)");
            }
        }
    }

    /** Whether Stockade's extension object marks {@code field}'s action as a report. */
    private boolean extensionReport(JsonNode extension, String at, String field) {
        if (extension == null || extension.isNull()) {
            return false;
        }
        if (!extension.isObject()) {
            problem(at, "expected an object, found " + describe(extension));
            return false;
        }
        JsonNode value = extension.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isTextual() || !value.asText().equals("report")) {
            problem(join(at, field), "expected \"report\", found " + describe(value));
            return false;
        }
        return true;
    }

    /** The profile name Stockade wrote into its extension object, or null. */
    private String extensionName(JsonNode extension, String at) {
        if (extension == null || !extension.isObject() || !extension.has("name")) {
            return null;
        }
        JsonNode name = extension.get("name");
        if (!name.isTextual() || name.asText().isBlank()) {
            problem(join(at, "name"), "expected a profile name, found " + describe(name));
            return null;
        }
        return name.asText();
    }

    private String comment(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            problem(at, "expected a string, found " + describe(node));
            return null;
        }
        // A rule's reason is one line; a comment is free text.
        String text = node.asText().strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        return text.isEmpty() ? null : text;
    }

    private List<String> strings(JsonNode node, String at) {
        List<String> result = new ArrayList<>();
        if (node == null || node.isNull()) {
            return result;
        }
        if (!node.isArray()) {
            problem(at, "expected an array of strings, found " + describe(node));
            return null;
        }
        boolean ok = true;
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isTextual()) {
                problem(at + "[" + i + "]", "expected a string, found " + describe(node.get(i)));
                ok = false;
            } else {
                result.add(node.get(i).asText());
            }
        }
        return ok ? result : null;
    }

    /**
     * A JSON whole number 0..{@code max} ({@code max} -1: 0..2^64-1, the bits returned as a
     * long); null after a problem.
     */
    private Long unsigned(JsonNode node, String at, long max) {
        if (!node.isIntegralNumber()) {
            problem(at, "expected a whole number, found " + describe(node));
            return null;
        }
        BigInteger value = node.bigIntegerValue();
        BigInteger limit = max < 0 ? UINT64_MAX : BigInteger.valueOf(max);
        if (value.signum() < 0 || value.compareTo(limit) > 0) {
            problem(at, value + " is outside 0.." + limit);
            return null;
        }
        return value.longValue();
    }

    private void unknownFields(JsonNode object, String at, Set<String> known) {
        Iterator<String> names = object.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                warn(join(at, name), "unknown field, ignored");
            }
        }
    }

    private void problem(String at, String message) {
        problems.add(source + ": " + (at.isEmpty() ? "" : at + ": ") + message);
    }

    private void warn(String at, String message) {
        warnings.add(at + ": " + message);
    }

    private static String join(String at, String field) {
        return at.isEmpty() ? field : at + "." + field;
    }

    private static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        String type = switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "the string";
            case NUMBER -> "the number";
            case BOOLEAN -> "the boolean";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
        if (node.isValueNode() && !node.isNull()) {
            String text = node.toString();
            return type + " " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
        }
        return type;
    }

    private static final Pattern VERSION = Pattern.compile("^(\\d{1,6})\\.(\\d{1,6})");

    /** "6.1.0-13-amd64" gives {6, 1}; null when it does not start with major.minor. */
    static int[] parseVersion(String text) {
        Matcher m = VERSION.matcher(text);
        if (!m.find()) {
            return null;
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    private static int compare(int[] a, int[] b) {
        return a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }
}
