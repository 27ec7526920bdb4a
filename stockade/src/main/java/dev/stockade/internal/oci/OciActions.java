package dev.stockade.internal.oci;

import static dev.stockade.internal.oci.OciJson.describe;
import static dev.stockade.internal.oci.OciJson.join;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stockade.SeccompAction;
import dev.stockade.internal.Errno;

/**
 * OCI actions ({@code SCMP_ACT_*} with {@code errnoRet}, or containers-common's errno names) as
 * Stockade's {@link SeccompAction}s: {@code SCMP_ACT_TRACE} fails the call with ENOSYS, which
 * is what the kernel does when no tracer is attached (there never is one in a sandbox);
 * {@code SCMP_ACT_NOTIFY} becomes {@code report}, since the sandbox's pid 1 is the only
 * listener there is; Stockade's own {@code "x-stockade": {"action": "report"}} marks an
 * exported report.
 */
final class OciActions {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private final OciJson json;

    OciActions(OciJson json) {
        this.json = json;
    }

    /** Whether Stockade's extension object marks {@code field}'s action as a report. */
    boolean extensionReport(JsonNode extension, String at, String field) {
        if (extension == null || extension.isNull()) {
            return false;
        }
        if (!extension.isObject()) {
            json.problem(at, "expected an object, found " + describe(extension));
            return false;
        }
        JsonNode value = extension.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isTextual() || !value.asText().equals("report")) {
            json.problem(join(at, field), "expected \"report\", found " + describe(value));
            return false;
        }
        return true;
    }

    /**
     * The action in field {@code field} with its errno ({@code errnoField} as a number, or
     * {@code errnoNameField} as a name, containers-common's spelling); null after a problem.
     */
    SeccompAction action(JsonNode object, String at, String field, String errnoField,
            String errnoNameField, boolean report) {
        JsonNode node = object.get(field);
        String fieldAt = join(at, field);
        if (node == null) {
            json.problem(at.isEmpty() ? field : fieldAt, "missing");
            return null;
        }
        if (!node.isTextual()) {
            json.problem(fieldAt, "expected an action name, found " + describe(node));
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
            json.problem(join(at, object.has(errnoField) ? errnoField : errnoNameField),
                    "only SCMP_ACT_ERRNO, SCMP_ACT_TRACE and SCMP_ACT_NOTIFY take"
                    + " an errno, not " + name);
            return null;
        }
        if (report && !name.equals("SCMP_ACT_ERRNO") && !name.equals("SCMP_ACT_LOG")) {
            json.problem(fieldAt, "a Stockade report action is written as SCMP_ACT_ERRNO or"
                    + " SCMP_ACT_LOG, not " + name);
            return null;
        }
        switch (name) {
            case "SCMP_ACT_ALLOW":
                return SeccompAction.ALLOW;
            case "SCMP_ACT_ERRNO": {
                int value = errno == null ? EPERM : errno;
                if (value == 0) {
                    json.problem(join(at, errnoField), "errno 0 would make the call return success"
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
                json.warn(fieldAt, "SCMP_ACT_TRACE: no tracer is ever attached in a sandbox, so the"
                        + " call fails with ENOSYS, as the kernel does without a tracer");
                return SeccompAction.errno(ENOSYS);
            case "SCMP_ACT_NOTIFY": {
                int value = errno == null ? EPERM : errno;
                json.warn(fieldAt, "SCMP_ACT_NOTIFY: Stockade has no seccomp agent; the call is"
                        + " denied with " + Errno.name(value) + " and recorded in the"
                        + " sandbox's report");
                return SeccompAction.report(value);
            }
            default:
                json.problem(fieldAt, "unknown action \"" + name + "\" (expected one of"
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
            Long value = json.unsigned(numberNode, join(at, numberField), SeccompAction.MAX_ERRNO);
            if (value == null) {
                return -1;
            }
            number = value.intValue();
        }
        JsonNode nameNode = object.get(nameField);
        if (nameNode != null && !nameNode.isNull()) {
            String nameAt = join(at, nameField);
            if (!nameNode.isTextual()) {
                json.problem(nameAt, "expected an errno name such as \"EPERM\", found "
                        + describe(nameNode));
                return -1;
            }
            int byName = Errno.number(nameNode.asText());
            if (byName < 0) {
                json.problem(nameAt, "unknown errno name \"" + nameNode.asText() + "\"");
                return -1;
            }
            if (number != null && number != byName) {
                json.problem(nameAt, "\"" + nameNode.asText() + "\" is errno " + byName + " but "
                        + numberField + " says " + number);
                return -1;
            }
            number = byName;
        }
        return number;
    }

}
