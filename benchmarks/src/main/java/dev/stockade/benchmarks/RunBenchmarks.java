package dev.stockade.benchmarks;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH benchmarks (any JMH command-line options are accepted; with none, both
 * benchmarks) and then prints what compares across machines, from baselines measured in the
 * same run: each spawn benchmark as a ratio to the plain ProcessBuilder spawn, and the cost of
 * one denied system call per kind of denial, from the difference between a step making many
 * calls and the same step making one.
 */
public final class RunBenchmarks {
    private static final String SPAWN_BASELINE = "processBuilder";

    private RunBenchmarks() {}

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions given = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(given);
        if (given.getIncludes().isEmpty()) {
            builder.include(SpawnBenchmark.class.getSimpleName())
                    .include(DeniedCallBenchmark.class.getSimpleName());
        }
        Options options = builder.build();
        Collection<RunResult> results = new Runner(options).run();
        printSpawnRatios(results);
        printDeniedCallCosts(results);
    }

    private static String method(RunResult result) {
        String label = result.getParams().getBenchmark();
        return label.substring(label.lastIndexOf('.') + 1);
    }

    private static void printSpawnRatios(Collection<RunResult> results) {
        Map<String, Double> scores = new TreeMap<>();
        for (RunResult result : results) {
            if (result.getParams().getBenchmark().contains(SpawnBenchmark.class.getSimpleName())) {
                scores.put(method(result), result.getPrimaryResult().getScore());
            }
        }
        Double baseline = scores.get(SPAWN_BASELINE);
        if (baseline == null) {
            return;
        }
        System.out.printf("%nSpawn cost relative to ProcessBuilder (same run, /bin/true):%n");
        for (Map.Entry<String, Double> e : scores.entrySet()) {
            System.out.printf("  %-24s %10.1f us  x%.2f%n", e.getKey(), e.getValue(),
                    e.getValue() / baseline);
        }
    }

    private static void printDeniedCallCosts(Collection<RunResult> results) {
        // denial -> calls -> milliseconds per step
        Map<String, TreeMap<Integer, Double>> steps = new TreeMap<>();
        for (RunResult result : results) {
            if (!result.getParams().getBenchmark()
                    .contains(DeniedCallBenchmark.class.getSimpleName())) {
                continue;
            }
            steps.computeIfAbsent(result.getParams().getParam("denial"), k -> new TreeMap<>())
                    .put(Integer.parseInt(result.getParams().getParam("calls")),
                            result.getPrimaryResult().getScore());
        }
        if (steps.isEmpty()) {
            return;
        }
        System.out.printf("%nCost of one denied ptrace call (same run: (t(N) - t(1)) / (N - 1)):%n");
        for (Map.Entry<String, TreeMap<Integer, Double>> e : steps.entrySet()) {
            TreeMap<Integer, Double> byCalls = e.getValue();
            if (byCalls.size() < 2) {
                continue;
            }
            int few = byCalls.firstKey();
            int many = byCalls.lastKey();
            double perCallUs = (byCalls.get(many) - byCalls.get(few)) * 1000.0 / (many - few);
            System.out.printf("  %-8s %8.2f us per call%n", e.getKey(), perCallUs);
        }
    }
}
