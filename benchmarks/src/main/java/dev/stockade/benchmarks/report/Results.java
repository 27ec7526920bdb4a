package dev.stockade.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The JMH results of one run, as JMH's JSON writes them ({@code -rf json}). */
final class Results {
    private final List<Row> rows = new ArrayList<>();

    void add(JsonNode array) {
        for (JsonNode n : array) {
            rows.add(new Row(n));
        }
    }

    /** The rows of one benchmark class (simple name), in the order JMH ran them. */
    List<Row> of(String benchmarkClass) {
        return rows.stream().filter(r -> r.benchmarkClass().equals(benchmarkClass)).toList();
    }

    Optional<Row> find(String benchmarkClass, String method) {
        return of(benchmarkClass).stream().filter(r -> r.method().equals(method)).findFirst();
    }

    /** One benchmark (with one set of parameters). */
    record Row(JsonNode node) {
        String benchmarkClass() {
            String[] parts = node.path("benchmark").asText().split("\\.");
            return parts.length < 2 ? "" : parts[parts.length - 2];
        }

        String method() {
            String b = node.path("benchmark").asText();
            return b.substring(b.lastIndexOf('.') + 1);
        }

        String param(String name) {
            return node.path("params").path(name).asText();
        }

        boolean hasParam(String name) {
            return node.path("params").has(name);
        }

        double score() {
            return node.path("primaryMetric").path("score").asDouble();
        }

        String unit() {
            return node.path("primaryMetric").path("scoreUnit").asText();
        }

        /** The score as a time in {@code unit} ("ns", "us", "ms", "s"), from JMH's "X/op". */
        double scoreIn(String unit) {
            return score() * factor(unit().replace("/op", ""), unit);
        }

        /** A percentile (50, 90, 99 ...) of a SampleTime or single-shot result, in microseconds. */
        double percentile(double p) {
            JsonNode v = node.path("primaryMetric").path("scorePercentiles")
                    .path(String.format(java.util.Locale.ROOT, "%.1f", p));
            if (v.isMissingNode()) {
                throw new IllegalStateException(node.path("benchmark").asText()
                        + ": no percentile " + p + " (not a SampleTime result?)");
            }
            return v.asDouble() * factor(unit().replace("/op", ""), "us");
        }

        /** Every sample of a SampleTime result as (value in us, count) pairs. */
        List<double[]> histogram() {
            List<double[]> out = new ArrayList<>();
            double f = factor(unit().replace("/op", ""), "us");
            for (JsonNode fork : node.path("primaryMetric").path("rawDataHistogram")) {
                for (JsonNode iteration : fork) {
                    for (JsonNode pair : iteration) {
                        out.add(new double[] {pair.get(0).asDouble() * f, pair.get(1).asDouble()});
                    }
                }
            }
            return out;
        }
    }

    static double factor(String from, String to) {
        return nanos(from) / nanos(to);
    }

    private static double nanos(String unit) {
        return switch (unit) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> throw new IllegalStateException("not a time unit: " + unit);
        };
    }
}
