package dev.stockade.internal.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Access to the JSON tree of one OCI profile being read, and what is wrong with it: typed
 * values at a JSON path ({@code syscalls[3].args[0].value}), each mismatch recorded as a
 * problem naming the path (all of them are reported at once), and warnings for what is read
 * but does not apply.
 */
final class OciJson {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(
            BigInteger.ONE);

    private final String source;
    private final List<String> problems = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    /** @param source names the JSON in problems (a file name) */
    OciJson(String source) {
        this.source = source;
    }

    /** Every problem so far, each starting with the source and the JSON path. */
    List<String> problems() {
        return problems;
    }

    /** Every warning so far, each starting with the JSON path. */
    List<String> warnings() {
        return warnings;
    }

    /** A list of strings (empty when absent or null); null after a problem. */
    List<String> strings(JsonNode node, String at) {
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
    Long unsigned(JsonNode node, String at, long max) {
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

    /** A warning for each field of {@code object} not in {@code known}: other runtimes' own. */
    void unknownFields(JsonNode object, String at, Set<String> known) {
        Iterator<String> names = object.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                warn(join(at, name), "unknown field, ignored");
            }
        }
    }

    /** Records what is wrong at JSON path {@code at} ("" for the top level). */
    void problem(String at, String message) {
        problems.add(source + ": " + (at.isEmpty() ? "" : at + ": ") + message);
    }

    /** Records what at JSON path {@code at} is skipped or changed. */
    void warn(String at, String message) {
        warnings.add(at + ": " + message);
    }

    /** The path of {@code field} in the object at {@code at}. */
    static String join(String at, String field) {
        return at.isEmpty() ? field : at + "." + field;
    }

    /** A node for a message: its type, and a value's first 40 characters. */
    static String describe(JsonNode node) {
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
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
        if (node.isValueNode() && !node.isNull()) {
            String text = node.toString();
            return type + " " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
        }
        return type;
    }

}
