package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.ProbeReport;
import dev.stockade.Sandbox;
import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code stockade probe}: the table, the JSON, and the exit code against the library's verdict. */
class ProbeCommandTest {

    /** The probe looks at the current directory (idmapped mounts there): compare like with like. */
    private final Path dir = Path.of("").toAbsolutePath();

    @Test
    void jsonMatchesTheLibraryAndTheExitCodeMatchesTheVerdict() throws Exception {
        ProbeReport expected = Sandbox.probe();
        Result result = CliProcess.run(dir, "probe", "--json");
        assertEquals(expected.canRunDefaultPolicy() ? 0 : 1, result.exitCode(), result.toString());
        assertEquals("", result.stderr());

        JsonNode json = new ObjectMapper().readTree(result.stdout());
        assertEquals(expected.canRunDefaultPolicy(), json.get("canRunDefaultPolicy").booleanValue());
        JsonNode features = json.get("features");
        assertEquals(expected.features().size(), features.size(), json.toString());
        for (int i = 0; i < features.size(); i++) {
            ProbeReport.Feature feature = expected.features().get(i);
            JsonNode node = features.get(i);
            assertEquals(feature.name(), node.get("name").textValue());
            assertEquals(feature.available(), node.get("available").booleanValue());
            assertEquals(feature.detail(), node.get("detail").textValue());
        }
    }

    @Test
    void defaultPolicyCanRunOnTheTestMachine() throws Exception {
        // CI's machines (as root and as an unprivileged user) allow user namespaces and seccomp:
        // if this fails, every other sandbox test fails too, and this one says why first.
        Result result = CliProcess.run(dir, "probe");
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().endsWith("\nThe default policy can run on this machine.\n"), result.stdout());
    }

    @Test
    void tableIsAligned() throws Exception {
        ProbeReport expected = Sandbox.probe();
        Result result = CliProcess.run(dir, "probe");
        List<String> lines = result.stdout().lines().toList();
        int rows = expected.features().size() + 1;
        List<String> table = lines.subList(0, rows);
        assertTrue(table.get(0).startsWith("FEATURE "), table.get(0));
        int availableColumn = table.get(0).indexOf("AVAILABLE");
        int detailColumn = table.get(0).indexOf("DETAIL");
        assertTrue(availableColumn > 0 && detailColumn > availableColumn, table.get(0));
        List<String> names = new ArrayList<>();
        for (int i = 1; i < rows; i++) {
            String line = table.get(i);
            ProbeReport.Feature feature = expected.features().get(i - 1);
            names.add(line.substring(0, availableColumn).strip());
            String available = line.substring(availableColumn, Math.min(line.length(), detailColumn)).strip();
            assertEquals(feature.available() ? "yes" : "no", available, line);
            String detail = line.length() > detailColumn ? line.substring(detailColumn) : "";
            assertEquals(feature.detail() == null ? "" : feature.detail().strip(), detail, line);
        }
        assertEquals(expected.features().stream().map(ProbeReport.Feature::name).toList(), names);
        assertEquals("", lines.get(rows));
        assertFalse(result.stdout().isEmpty());
    }
}
