package dev.stockade.internal.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.policy.ProfileRules;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Writes a profile ({@link ProfileRules}) as OCI runtime-spec seccomp JSON, which runc, crun,
 * podman and Docker read, and which {@link OciReader} reads back to equal rules.
 *
 * <p>Consecutive rules with the same action, conditions and reason share one
 * {@code syscalls[]} entry (the reason is its {@code comment}); the order of the rules is
 * kept. Architectures: {@code SCMP_ARCH_X86_64} only, with no sub-architectures, so other
 * runtimes kill x86 and x32 calls as Stockade does.
 *
 * <p>Stockade's {@code report} action has no equivalent a runtime applies without an agent
 * ({@code SCMP_ACT_NOTIFY} makes runc and crun require a listener socket). So
 * {@code report(errno)} is written as {@code SCMP_ACT_ERRNO} with that errno, and
 * {@code report(0)} (allow and record) as {@code SCMP_ACT_LOG}, with
 * {@code "x-stockade": {"action": "report"}} on the entry ({@code "defaultAction"} at the top
 * level). Other runtimes ignore the unknown field and enforce the same denial without the
 * record; Stockade reads it back as {@code report}. The top-level {@code "x-stockade"} also
 * carries the profile's name, so that reading the JSON back gives an equal profile.
 */
final class OciWriter {
    /** Stockade's own field, on an entry or at the top level; other runtimes ignore it. */
    static final String EXTENSION = "x-stockade";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    private OciWriter() {}

    static String write(ProfileRules profile) {
        ObjectNode root = MAPPER.createObjectNode();
        writeAction(root, profile.defaultAction(), "defaultAction", "defaultErrnoRet");
        if (profile.defaultAction().isReport() || profile.name() != null) {
            ObjectNode extension = root.putObject(EXTENSION);
            if (profile.name() != null) {
                extension.put("name", profile.name());
            }
            if (profile.defaultAction().isReport()) {
                extension.put("defaultAction", "report");
            }
        }
        root.putArray("architectures").add(OciApplicability.NATIVE_SCMP_ARCH);
        ObjectNode arch = root.putArray("archMap").addObject();
        arch.put("architecture", OciApplicability.NATIVE_SCMP_ARCH);
        arch.putArray("subArchitectures");
        ArrayNode syscalls = root.putArray("syscalls");
        for (List<SeccompRule> group : groups(profile.rules())) {
            SeccompRule first = group.get(0);
            ObjectNode entry = syscalls.addObject();
            ArrayNode names = entry.putArray("names");
            for (SeccompRule rule : group) {
                names.add(rule.syscall());
            }
            writeAction(entry, first.action(), "action", "errnoRet");
            ArrayNode args = entry.putArray("args");
            for (SeccompCondition c : first.conditions()) {
                ObjectNode arg = args.addObject();
                arg.put("index", c.argument());
                if (c.operator() == SeccompCondition.Operator.MASKED_EQ) {
                    arg.put("value", unsigned(c.mask()));
                    arg.put("valueTwo", unsigned(c.value()));
                } else {
                    arg.put("value", unsigned(c.value()));
                    arg.put("valueTwo", 0);
                }
                arg.put("op", "SCMP_CMP_" + (c.operator() == SeccompCondition.Operator.MASKED_EQ
                        ? "MASKED_EQ" : c.operator().name()));
            }
            if (first.reason() != null) {
                entry.put("comment", first.reason());
            }
            if (first.action().isReport()) {
                entry.putObject(EXTENSION).put("action", "report");
            }
        }
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing OCI seccomp JSON: " + e.getMessage(), e);
        }
    }

    /** Runs of consecutive rules that differ only in the system call. */
    private static List<List<SeccompRule>> groups(List<SeccompRule> rules) {
        List<List<SeccompRule>> groups = new ArrayList<>();
        List<SeccompRule> current = null;
        for (SeccompRule rule : rules) {
            if (current != null && sameButName(current.get(0), rule)) {
                current.add(rule);
            } else {
                current = new ArrayList<>();
                current.add(rule);
                groups.add(current);
            }
        }
        return groups;
    }

    private static boolean sameButName(SeccompRule a, SeccompRule b) {
        return a.action().equals(b.action()) && a.conditions().equals(b.conditions())
                && Objects.equals(a.reason(), b.reason());
    }

    private static void writeAction(ObjectNode node, SeccompAction action, String field,
            String errnoField) {
        switch (action.kind()) {
            case ALLOW -> node.put(field, "SCMP_ACT_ALLOW");
            case ERRNO -> {
                node.put(field, "SCMP_ACT_ERRNO");
                node.put(errnoField, action.errno());
            }
            case KILL_PROCESS -> node.put(field, "SCMP_ACT_KILL_PROCESS");
            case KILL_THREAD -> node.put(field, "SCMP_ACT_KILL_THREAD");
            case TRAP -> node.put(field, "SCMP_ACT_TRAP");
            case LOG -> node.put(field, "SCMP_ACT_LOG");
            case REPORT -> {
                if (action.errno() == 0) {
                    node.put(field, "SCMP_ACT_LOG");
                } else {
                    node.put(field, "SCMP_ACT_ERRNO");
                    node.put(errnoField, action.errno());
                }
            }
        }
    }

    /** The 64-bit pattern as the unsigned number OCI JSON holds (uint64). */
    private static BigInteger unsigned(long bits) {
        return new BigInteger(Long.toUnsignedString(bits));
    }
}
