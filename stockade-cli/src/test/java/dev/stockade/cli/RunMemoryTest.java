package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.ProbeReport;
import dev.stockade.Sandbox;
import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run --memory}: the kill named on one line and in the report where the
 * sandbox gets a cgroup; where it cannot, the start refused with the way to get one, or with
 * {@code --memory-best-effort} the per-process bound and a note saying so.
 */
class RunMemoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ProbeReport probe;

    @TempDir
    Path workspace;

    @TempDir
    Path reports;

    @BeforeAll
    static void probe() throws Exception {
        probe = Sandbox.probe();
    }

    private Result python(List<String> options, String program) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(options);
        args.addAll(List.of("--", "python3", "-c", program));
        return CliProcess.run(workspace, args.toArray(String[]::new));
    }

    @Test
    void aMemoryKillIsNamedWithTheLimit() throws Exception {
        assumeTrue(probe.cgroupDelegation(), "no usable cgroup: " + probe.cgroupReason());
        Result fits = python(List.of("--memory", "128m"), "b = bytearray(32 << 20); print('ok')");
        assertEquals(0, fits.exitCode(), fits.toString());
        assertEquals("ok\n", fits.stdout());
        assertEquals("", fits.stderr());

        Path report = reports.resolve("memory.json");
        Result hog = python(List.of("--memory", "128m", "--report", report.toString()),
                "import time\nb = bytearray(512 << 20)\ntime.sleep(5)");
        assertEquals(137, hog.exitCode(), hog.toString());
        assertEquals(List.of("stockade: killed: memory limit 128 MiB reached"),
                hog.stderrLines());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals("MEMORY", json.get("limitHit").textValue(), json.toString());
        assertTrue(json.get("peakMemoryBytes").longValue() > 64L << 20, json.toString());
    }

    @Test
    void withoutACgroupTheStartIsRefusedUnlessBestEffort() throws Exception {
        assumeTrue(!probe.cgroupDelegation(), "a cgroup is usable here: the refusal cannot"
                + " happen");
        Result refused = python(List.of("--memory", "128m"), "print('ran')");
        assertEquals(125, refused.exitCode(), refused.toString());
        assertEquals("", refused.stdout());
        assertEquals(1, refused.stderrLines().size(), refused.toString());
        assertTrue(refused.stderr().contains("systemd-run --user --scope -p Delegate=yes"),
                refused.toString());

        Path report = reports.resolve("best-effort.json");
        Result bestEffort = python(List.of("--memory", "256m", "--memory-best-effort",
                "--report", report.toString()), "print('ran')");
        assertEquals(0, bestEffort.exitCode(), bestEffort.toString());
        assertEquals("ran\n", bestEffort.stdout());
        assertEquals(1, bestEffort.stderrLines().size(), bestEffort.toString());
        assertTrue(bestEffort.stderrLines().get(0).startsWith("stockade: note: memory "),
                bestEffort.toString());
        assertTrue(bestEffort.stderr().contains("RLIMIT_DATA"), bestEffort.toString());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(1, json.get("notes").size(), json.toString());
    }
}
