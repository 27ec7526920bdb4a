package dev.stockade.benchmarks.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The renderer on a small checked-in JMH result (src/test/resources/fixture), so it cannot rot. */
class ReportTest {
    private static final List<String> FIXTURE = List.of("jmh.json", "cli-cpu.json", "run.json",
            "namespace-cost.json", "build-steps.json");
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

    @TempDir
    Path dir;

    private String render() throws IOException {
        Path results = Files.createDirectories(dir.resolve("results"));
        for (String name : FIXTURE) {
            try (InputStream in = getClass().getResourceAsStream("/fixture/" + name)) {
                Files.copy(in, results.resolve(name));
            }
        }
        Report.render(results, dir.resolve("docs"), "HISTORY LINE\n");
        return Files.readString(dir.resolve("docs/benchmarks.md"));
    }

    @Test
    void goalsAreMeasuredAgainstTheSameRunsBaselines() throws IOException {
        String md = render();
        assertTrue(md.contains("| warm (pre-started) sandbox, full default policy, p50 | ≤ 1.0× "
                + "ProcessBuilder | 0.90× | met |\n"), md);
        // ProcessBuilder's p50 1000 us; the namespaces add 200 us, 700 us with the network
        assertTrue(md.contains("| cold spawn, full default policy, p50 | ≤ 1.5× ProcessBuilder | "
                + "2.00× (the namespaces alone: 1.20×, 1.70× with the network) | **not met** |\n"),
                md);
        assertTrue(md.contains("a fork and exec of `/bin/true` takes 800 us; in new user, mount, "
                + "pid, ipc, uts and cgroup namespaces +200 us more, with a network namespace too "
                + "+700 us more."), md);
        assertTrue(md.contains("| cold spawn vs bwrap (typical config), p50 | ≥ 3× faster | 3.50× "
                + "faster | met |\n"), md);
        assertTrue(md.contains("| `stockade run -- /bin/true` (JDK 17) | ≤ 150 ms wall, ≤ 0.3 s CPU "
                + "| 660 ms wall, 0.25 s CPU; the JVM alone 50 ms, `run --version` 240 ms | **not met** |\n"),
                md);
        assertTrue(md.contains("| `stockade run -- /bin/true` (JDK 25) | ≤ 150 ms wall, ≤ 0.3 s CPU "
                + "| 140 ms wall, 0.20 s CPU | met |\n"), md);
        // each javac pair 2% apart although the builds drift by 20%; make's pairs 4%
        assertTrue(md.contains("| real build step: javac | ≤ 3% over the same outside | +2.0% | met |\n"),
                md);
        assertTrue(md.contains("| real build step: make | ≤ 3% over the same outside | +4.0% | **not met** |\n"),
                md);
        assertTrue(md.contains("| `javac` | 1000 | 1020 | +2.0% |\n"), md);
        assertTrue(md.contains("| spawns/s with 1, 2, 8 threads (default policy) | scales to the cores "
                + "(2): 2 and 8 threads ≥ 0.9 × 2 × 1 thread | 400, 760, 800 /s (1.90×, 2.00×) | met |\n"),
                md);
    }

    @Test
    void tablesHoldPercentilesRatiosAndPerCallCosts() throws IOException {
        String md = render();
        assertTrue(md.contains("| `stockadeDefaultCold` | 2000 | 2500 | 4000 | 2.00× |\n"), md);
        assertTrue(md.contains("| `processBuilder` | 1000 | 1200 | 2000 | 1.00× |\n"), md);
        // (21 - 1) ms / 200000 calls = 100 ns outside; (43 - 3) / 200000 = 200 ns inside
        assertTrue(md.contains("| `getppid` | 100 | 200 | +100 ns |\n"), md);
        assertTrue(md.contains("## Set-up breakdown of a cold spawn\n\nFrom `SandboxResult"
                + ".setupTimings()` (`SetupBreakdown`: medians per step over the spawns of `/bin/true`)."
                + "\n\nNot measured in this run.\n\n"), md);
        assertTrue(md.contains("| `stockadeRun` | JDK 25 | 140.0 | 0.200 |\n"), md);
        assertTrue(md.contains("| `jvmAlone` | JDK 17 | 50.0 | — |\n"), md);
        assertTrue(md.contains("- bwrap note\n"), md);
        assertTrue(md.endsWith("## History: before/after runs of past issues\n\nHISTORY LINE\n"), md);
    }

    @Test
    void plotsAreWrittenAsPngsAndLinked() throws IOException {
        String md = render();
        for (String png : List.of("spawn-latency.png", "spawn-distribution.png", "spawn-ratios.png",
                "throughput.png")) {
            Path file = dir.resolve("docs/benchmarks").resolve(png);
            byte[] head = new byte[4];
            try (InputStream in = Files.newInputStream(file)) {
                assertEquals(4, in.read(head));
            }
            assertEquals(new String(PNG_MAGIC, java.nio.charset.StandardCharsets.ISO_8859_1),
                    new String(head, java.nio.charset.StandardCharsets.ISO_8859_1), png);
            assertTrue(md.contains("(benchmarks/" + png + ")"), png);
        }
    }
}
