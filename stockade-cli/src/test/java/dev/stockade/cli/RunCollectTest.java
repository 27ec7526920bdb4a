package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.Outputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run --collect GLOB --into DIR}: a real step leaves a hostile {@code out/},
 * the CLI copies only the regular file and names every other entry on stderr and in the
 * report; the options are checked before anything runs.
 */
class RunCollectTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The entries, made by the command itself inside the sandbox. */
    private static final String HOSTILE_STEP = String.join(" && ",
            "mkdir out", "printf 'hi\\n' > out/a.txt", "ln -s /etc/passwd out/link",
            "ln -s ../.. out/sub", "mkfifo out/fifo", "truncate -s 1G out/big",
            "/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('out/sock')\"");

    @TempDir
    Path workspace;

    @TempDir
    Path outside;

    @Test
    void onlyTheRegularFileIsCollectedAndEveryOtherEntryIsNamed() throws Exception {
        Path into = outside.resolve("into");
        Path report = outside.resolve("report.json");
        CliProcess.Result result = CliProcess.run(workspace, "run", "--workspace",
                workspace.toString(), "--collect", "out/**", "--into", into.toString(),
                "--report", report.toString(), "--", "/bin/sh", "-c", HOSTILE_STEP);
        assertEquals(0, result.exitCode(), result.toString());
        long left = Outputs.DEFAULT_MAX_BYTES - 3;
        assertEquals(List.of(
                "stockade: not collected: out/big (over the byte limit: 1073741824 bytes, "
                        + left + " of " + Outputs.DEFAULT_MAX_BYTES + " left)",
                "stockade: not collected: out/fifo (FIFO: not opened)",
                "stockade: not collected: out/link (symbolic link: to /etc/passwd, not followed)",
                "stockade: not collected: out/sock (socket: not opened)",
                "stockade: not collected: out/sub (symbolic link: to ../.., not followed)",
                "stockade: collected 1 file (3 bytes) into " + into + "; 5 not collected"),
                result.stderrLines());
        try (Stream<Path> copied = Files.walk(into)) {
            assertEquals(List.of(into, into.resolve("out"), into.resolve("out/a.txt")),
                    copied.sorted().toList());
        }
        assertEquals("hi\n", Files.readString(into.resolve("out/a.txt")));

        JsonNode collected = JSON.readTree(report.toFile()).get("collected");
        assertEquals(into.toString(), collected.get("into").textValue());
        assertEquals("[{\"path\":\"out/a.txt\",\"bytes\":3}]", collected.get("files").toString());
        List<String> skipped = new ArrayList<>();
        for (JsonNode entry : collected.get("skipped")) {
            skipped.add(entry.get("path").textValue() + " " + entry.get("reason").textValue());
        }
        assertEquals(List.of("out/big OVER_BYTE_LIMIT", "out/fifo FIFO", "out/link SYMLINK",
                "out/sock SOCKET", "out/sub SYMLINK"), skipped);
        assertEquals("to /etc/passwd, not followed",
                collected.get("skipped").get(2).get("detail").textValue());
        assertEquals(0, collected.get("skippedNotListed").longValue());
        assertTrue(collected.get("error").isNull());
    }

    @Test
    void withoutCollectTheReportSaysNull() throws Exception {
        Path report = outside.resolve("report.json");
        CliProcess.Result result = CliProcess.run(workspace, "run", "--workspace",
                workspace.toString(), "--report", report.toString(), "--", "true");
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(JSON.readTree(report.toFile()).get("collected").isNull());
    }

    private void assertUsageError(String line, String... options) {
        List<String> args = new ArrayList<>(List.of("run", "--workspace",
                workspace.toString()));
        args.addAll(List.of(options));
        args.addAll(List.of("--", "true"));
        CommandLineErrorsTest.Outcome outcome = CommandLineErrorsTest.execute(
                args.toArray(String[]::new));
        assertEquals(2, outcome.exitCode(), outcome.toString());
        assertEquals(List.of("stockade: " + line, "Try 'stockade run --help'"),
                outcome.stderrLines());
    }

    @Test
    void collectAndIntoComeTogetherAndAreCheckedBeforeAnythingRuns() throws Exception {
        Path into = outside.resolve("into");
        assertUsageError("--into needs --collect GLOB: what to copy into " + into,
                "--into", into.toString());
        assertUsageError("--collect needs --into DIR: where to copy what GLOB matches",
                "--collect", "out/**");
        assertUsageError("output glob ../x has a '..' component: globs name paths inside the"
                + " workspace, normalized (out/**, not ./out/** or out/../x)",
                "--collect", "../x", "--into", into.toString());
        assertUsageError("--into " + workspace.resolve("out") + " overlaps " + workspace
                + ", which the command can write: it could plant links there; collect into a"
                + " directory outside the workspace and writable binds",
                "--collect", "out/**", "--into", workspace.resolve("out").toString());
        Path alias = outside.resolve("alias");
        Files.createSymbolicLink(alias, workspace);
        assertUsageError("--into " + alias.resolve("x") + " overlaps " + workspace
                + ", which the command can write: it could plant links there; collect into a"
                + " directory outside the workspace and writable binds",
                "--collect", "out/**", "--into", alias.resolve("x").toString());
        assertTrue(!Files.exists(into), "nothing created");
    }

    @Test
    void helpDescribesTheOptions() {
        CommandLineErrorsTest.Outcome help = CommandLineErrorsTest.execute("run", "--help");
        assertEquals(0, help.exitCode());
        String text = help.stdout().replaceAll("\\s+", " ");
        assertTrue(text.contains("--collect=GLOB After COMMAND, copy the workspace's regular"
                + " files matching GLOB"), text);
        assertTrue(text.contains("--into=DIR Where --collect copies to"), text);
    }
}
