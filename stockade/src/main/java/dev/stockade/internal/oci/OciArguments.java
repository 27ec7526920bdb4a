package dev.stockade.internal.oci;

import static dev.stockade.internal.oci.OciJson.describe;
import static dev.stockade.internal.oci.OciJson.join;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stockade.SeccompCondition;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An entry's {@code args} as argument conditions: {@code SCMP_CMP_*} operators, libseccomp's
 * operand order for {@code SCMP_CMP_MASKED_EQ}, and runc's reading of an argument compared more
 * than once (one rule per comparison, since libseccomp compares each argument once per rule).
 */
final class OciArguments {
    private static final Map<String, SeccompCondition.Operator> OPERATORS = Map.of(
            "SCMP_CMP_NE", SeccompCondition.Operator.NE,
            "SCMP_CMP_LT", SeccompCondition.Operator.LT,
            "SCMP_CMP_LE", SeccompCondition.Operator.LE,
            "SCMP_CMP_EQ", SeccompCondition.Operator.EQ,
            "SCMP_CMP_GE", SeccompCondition.Operator.GE,
            "SCMP_CMP_GT", SeccompCondition.Operator.GT,
            "SCMP_CMP_MASKED_EQ", SeccompCondition.Operator.MASKED_EQ);

    private static final Set<String> ARG_FIELDS = Set.of("index", "value", "valueTwo", "op");

    private final OciJson json;

    OciArguments(OciJson json) {
        this.json = json;
    }

    /**
     * The argument conditions as alternatives: one list when each argument is compared at most
     * once, else one single-condition list per comparison (runc's reading). Null after a
     * problem.
     */
    List<List<SeccompCondition>> conditions(JsonNode args, String at) {
        List<SeccompCondition> all = new ArrayList<>();
        if (args == null || args.isNull()) {
            return List.of(all);
        }
        if (!args.isArray()) {
            json.problem(at, "expected an array, found " + describe(args));
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
        json.warn(at, "compares one argument more than once; as runc does, each comparison"
                + " becomes a rule of its own (any of them matching is enough)");
        List<List<SeccompCondition>> alternatives = new ArrayList<>();
        for (SeccompCondition c : all) {
            alternatives.add(List.of(c));
        }
        return alternatives;
    }

    private SeccompCondition condition(JsonNode arg, String at) {
        if (!arg.isObject()) {
            json.problem(at, "expected an object, found " + describe(arg));
            return null;
        }
        json.unknownFields(arg, at, ARG_FIELDS);
        JsonNode indexNode = arg.get("index");
        JsonNode valueNode = arg.get("value");
        JsonNode valueTwoNode = arg.get("valueTwo");
        JsonNode opNode = arg.get("op");
        boolean ok = true;
        Long index = null;
        if (indexNode == null) {
            json.problem(join(at, "index"), "missing");
            ok = false;
        } else {
            index = json.unsigned(indexNode, join(at, "index"), 5);
            ok &= index != null;
        }
        Long value = null;
        if (valueNode == null) {
            json.problem(join(at, "value"), "missing");
            ok = false;
        } else {
            value = json.unsigned(valueNode, join(at, "value"), -1);
            ok &= value != null;
        }
        Long valueTwo = 0L;
        if (valueTwoNode != null && !valueTwoNode.isNull()) {
            valueTwo = json.unsigned(valueTwoNode, join(at, "valueTwo"), -1);
            ok &= valueTwo != null;
        }
        SeccompCondition.Operator op = null;
        if (opNode == null) {
            json.problem(join(at, "op"), "missing");
            ok = false;
        } else if (!opNode.isTextual()) {
            json.problem(join(at, "op"), "expected an operator name, found " + describe(opNode));
            ok = false;
        } else {
            op = OPERATORS.get(opNode.asText());
            if (op == null) {
                json.problem(join(at, "op"), "unknown operator \"" + opNode.asText() + "\""
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

}
