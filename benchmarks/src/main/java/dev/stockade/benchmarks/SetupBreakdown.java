package dev.stockade.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SetupStep;
import dev.stockade.SetupTimings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a cold spawn's set-up time goes, from {@link SetupTimings}: {@code rounds} spawns of
 * {@code /bin/true} per policy with {@code measureSetup(true)}, the median of each step and of
 * the total, written as JSON for the renderer ({@code SetupBreakdown OUT.json [ROUNDS]}).
 */
public final class SetupBreakdown {
    /**
     * Spawns per policy before the measured ones: the JIT compiles the Java side's part
     * (resolver, encoder) only after some hundred; with the 20 this once had, step resolve
     * measured the interpreter at about 2.5 times its compiled time.
     */
    static final int WARM_UP = 500;

    private SetupBreakdown() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("rounds", rounds);
        root.put("warmUp", WARM_UP);
        measure(root.putObject("defaultPolicy"), SandboxPolicy.defaults(), rounds);
        measure(root.putObject("hostNetwork"), Spawns.hostNetwork(), rounds);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
    }

    private static void measure(ObjectNode into, SandboxPolicy policy, int rounds)
            throws Exception {
        Map<SetupStep, List<Long>> byStep = new LinkedHashMap<>();
        List<Long> totals = new ArrayList<>();
        for (int i = 0; i < WARM_UP + rounds; i++) {
            SetupTimings t = Sandbox.command(Spawns.TRUE).policy(policy).measureSetup(true)
                    .start().result().setupTimings()
                    .orElseThrow(() -> new IllegalStateException("no timings although asked"));
            if (i < WARM_UP) {
                continue; // the JIT and the page cache
            }
            totals.add(t.total().toNanos());
            for (SetupTimings.Step s : t.steps()) {
                byStep.computeIfAbsent(s.step(), k -> new ArrayList<>()).add(s.time().toNanos());
            }
        }
        into.put("totalMedianNs", median(totals));
        ArrayNode steps = into.putArray("steps");
        for (Map.Entry<SetupStep, List<Long>> e : byStep.entrySet()) {
            steps.addObject().put("step", e.getKey().toString())
                    .put("medianNs", median(e.getValue()))
                    .put("seen", e.getValue().size());
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }

}
