package dev.stockade.internal.oci;

import static dev.stockade.internal.oci.OciJson.describe;
import static dev.stockade.internal.oci.OciJson.join;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.PolicyException;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.SyscallNames;
import dev.stockade.internal.oci.OciSeccomp.Imported;
import dev.stockade.internal.policy.ProfileRules;
import dev.stockade.internal.policy.ProfileValidator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads OCI runtime-spec / Docker / containers-common seccomp JSON into a profile's plain data
 * ({@link ProfileRules}), the way runtimes built on libseccomp (runc, crun, podman) apply it
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
 *       already has a rule without conditions) is dropped with a warning;
 *   <li>a rule that would not hold as written ({@code RulePitfalls}, as
 *       {@link ProfileValidator} finds them) is kept with a warning and accepted
 *       ({@link ProfileRules#acceptedPitfalls()}).
 * </ul>
 *
 * Everything else that is wrong (not JSON, wrong types, unknown actions, operators or errno
 * names, out of range numbers) is an error naming the JSON path, all of them at once.
 *
 * <p>This class reads the profile's structure: the top level, its {@code syscalls[]} entries
 * and their names, and which rules libseccomp keeps. What applies here is decided by
 * {@link OciApplicability}, actions by {@link OciActions}, argument conditions by
 * {@link OciArguments}; typed JSON access and the problems and warnings are {@link OciJson}'s.
 */
final class OciReader {
    /** Far beyond any real profile (containers-common's is 16 KiB), far below trouble. */
    static final int MAX_CHARS = 4 * 1024 * 1024;

    private static final Set<String> TOP_LEVEL_FIELDS = Set.of("defaultAction",
            "defaultErrnoRet", "defaultErrno", "architectures", "archMap", "syscalls", "flags",
            "listenerPath", "listenerMetadata", OciWriter.EXTENSION);
    private static final Set<String> SYSCALL_FIELDS = Set.of("names", "name", "action",
            "errnoRet", "errno", "args", "comment", "includes", "excludes",
            OciWriter.EXTENSION);

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private final OciJson json;
    private final OciApplicability applicability;
    private final OciActions actions;
    private final OciArguments arguments;

    private OciReader(String source, String kernelRelease) {
        this.json = new OciJson(source);
        this.applicability = new OciApplicability(json, kernelRelease);
        this.actions = new OciActions(json);
        this.arguments = new OciArguments(json);
    }

    static Imported read(String json, String source) {
        return read(json, source, System.getProperty("os.version", ""));
    }

    /** With the kernel release given (for {@code minKernel}), so tests can pick one. */
    static Imported read(String json, String source, String kernelRelease) {
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
        OciReader reader = new OciReader(source, kernelRelease);
        ProfileRules profile = reader.profile(root);
        if (!reader.json.problems().isEmpty()) {
            throw new PolicyException(reader.json.problems());
        }
        return new Imported(profile, reader.json.warnings());
    }

    private ProfileRules profile(JsonNode root) {
        if (root == null || !root.isObject()) {
            json.problem("", "expected a JSON object, found " + describe(root));
            return null;
        }
        String at = "";
        JsonNode seccomp = root;
        // A whole OCI config.json: its linux.seccomp is the profile.
        if (!root.has("defaultAction") && root.path("linux").path("seccomp").isObject()) {
            seccomp = root.path("linux").path("seccomp");
            at = "linux.seccomp";
        }
        json.unknownFields(seccomp, at, TOP_LEVEL_FIELDS);
        JsonNode extension = seccomp.get(OciWriter.EXTENSION);
        boolean defaultIsReport = actions.extensionReport(extension,
                join(at, OciWriter.EXTENSION), "defaultAction");
        SeccompAction defaultAction = actions.action(seccomp, at, "defaultAction",
                "defaultErrnoRet", "defaultErrno", defaultIsReport);
        applicability.architectures(seccomp, at);
        applicability.flags(seccomp, at);
        for (String listener : List.of("listenerPath", "listenerMetadata")) {
            if (seccomp.has(listener)) {
                json.warn(join(at, listener), "ignored: Stockade has no seccomp agent;"
                        + " the sandbox's pid 1 answers SCMP_ACT_NOTIFY calls itself");
            }
        }
        String name = extensionName(extension, join(at, OciWriter.EXTENSION));
        JsonNode syscalls = seccomp.get("syscalls");
        String syscallsAt = join(at, "syscalls");
        List<Located> rules = new ArrayList<>();
        if (syscalls != null && !syscalls.isNull()) {
            if (!syscalls.isArray()) {
                json.problem(syscallsAt, "expected an array, found "
                        + describe(syscalls));
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
        List<SeccompRule> out = new ArrayList<>(kept.size());
        List<ProfileValidator.Sited<Located>> sited = new ArrayList<>(kept.size());
        for (Located located : kept) {
            out.add(located.rule());
            sited.add(new ProfileValidator.Sited<>(located.rule(), located));
        }
        // Other runtimes run rules that would not hold as written as they are, so the import
        // keeps them, tells the user what they do not guarantee, and accepts them. Every other
        // problem is the profile's, reported when it is used (SeccompProfile.problems()).
        Set<SeccompRule> accepted = new HashSet<>();
        String defaultAt = join(at, "defaultAction");
        for (ProfileValidator.Problem<Located> p : ProfileValidator.check(effectiveDefault,
                null, sited, site -> site == null ? defaultAt : site.at())) {
            if (p.severity() == ProfileValidator.Severity.PITFALL) {
                json.warn(p.site().at(), p.message());
                accepted.add(p.site().rule());
            }
        }
        return new ProfileRules(name, effectiveDefault, out, accepted);
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
                json.warn(located.at(), "skipped: " + first.at() + " already gives \""
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
            json.problem(at, "expected an object, found " + describe(entry));
            return rules;
        }
        json.unknownFields(entry, at, SYSCALL_FIELDS);
        List<String> names = names(entry, at);
        boolean report = actions.extensionReport(entry.get(OciWriter.EXTENSION),
                join(at, OciWriter.EXTENSION), "action");
        SeccompAction action = actions.action(entry, at, "action", "errnoRet", "errno", report);
        List<List<SeccompCondition>> alternatives = arguments.conditions(entry.get("args"),
                join(at, "args"));
        String reason = comment(entry.get("comment"), join(at, "comment"));
        boolean applies = applicability.applies(entry.get("includes"),
                join(at, "includes"), true)
                & applicability.applies(entry.get("excludes"), join(at, "excludes"),
                        false);
        if (action == null || names == null || alternatives == null || !applies) {
            return rules;
        }
        if (defaultAction != null && action.equals(defaultAction)) {
            json.warn(at, "skipped: its action " + action + " is the default action, so it has"
                    + " no effect (libseccomp refuses such rules)");
            return rules;
        }
        for (int n = 0; n < names.size(); n++) {
            String name = names.get(n);
            if (!SyscallNames.isKnown(name)) {
                json.warn(at + ".names[" + n + "]", "skipped: \"" + name + "\" is not a"
                        + " system call on x86_64");
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
            json.problem(at, "missing \"names\"");
            return null;
        }
        boolean ok = true;
        if (single != null) {
            if (!single.isTextual() || single.asText().isEmpty()) {
                json.problem(join(at, "name"), "expected a system call name, found "
                        + describe(single));
                ok = false;
            } else {
                names.add(single.asText());
            }
        }
        if (list != null) {
            if (!list.isArray()) {
                json.problem(join(at, "names"), "expected an array of names, found "
                        + describe(list));
                return null;
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode name = list.get(i);
                if (!name.isTextual() || name.asText().isEmpty()) {
                    json.problem(at + ".names[" + i + "]", "expected a system call name,"
                            + " found " + describe(name));
                    ok = false;
                } else {
                    names.add(name.asText());
                }
            }
        }
        if (ok && names.isEmpty()) {
            json.problem(join(at, "names"), "empty: an entry names at least one"
                    + " system call");
            return null;
        }
        return ok ? names : null;
    }

    /** The profile name Stockade wrote into its extension object, or null. */
    private String extensionName(JsonNode extension, String at) {
        if (extension == null || !extension.isObject() || !extension.has("name")) {
            return null;
        }
        JsonNode name = extension.get("name");
        if (!name.isTextual() || name.asText().isBlank()) {
            json.problem(join(at, "name"), "expected a profile name, found "
                    + describe(name));
            return null;
        }
        return name.asText();
    }

    private String comment(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            json.problem(at, "expected a string, found " + describe(node));
            return null;
        }
        // A rule's reason is one line; a comment is free text.
        String text = node.asText().strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        return text.isEmpty() ? null : text;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }
}
