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
 * Runs the JMH benchmarks (any JMH command-line options are accepted) and then prints each
 * spawn benchmark as a ratio to the plain ProcessBuilder baseline measured in the same run —
 * ratios, not absolute times, are what compare across machines.
 */
public final class RunBenchmarks {
    private static final String BASELINE = "processBuilder";

    private RunBenchmarks() {}

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        Options options = new OptionsBuilder().parent(new CommandLineOptions(args))
                .include(SpawnBenchmark.class.getSimpleName()).build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, Double> scores = new TreeMap<>();
        for (RunResult result : results) {
            String label = result.getParams().getBenchmark();
            scores.put(label.substring(label.lastIndexOf('.') + 1),
                    result.getPrimaryResult().getScore());
        }
        Double baseline = scores.get(BASELINE);
        if (baseline == null) {
            System.out.println("No " + BASELINE + " result in this run: no ratios to report.");
            return;
        }
        System.out.printf("%nSpawn cost relative to ProcessBuilder (same run, /bin/true):%n");
        for (Map.Entry<String, Double> e : scores.entrySet()) {
            System.out.printf("  %-24s %10.1f us  x%.2f%n", e.getKey(), e.getValue(),
                    e.getValue() / baseline);
        }
    }
}
