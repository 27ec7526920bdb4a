package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the CLI takes from its own command line and file system on the command's behalf:
 * arguments are literal ({@code @file} is not expanded), the home directory is never the
 * workspace by default, and {@code --report} never writes through a link the command planted.
 */
class RunInputSafetyTest {

    @TempDir
    Path workspace;

    @TempDir
    Path outside;

    @Test
    void atFileArgumentsArePassedLiterally() throws Exception {
        Path secret = Files.writeString(outside.resolve("secret"), "the-secret-content\n");
        Result echo = CliProcess.run(workspace, "run", "--workspace", workspace.toString(), "--",
                "echo", "@" + secret);
        assertEquals(0, echo.exitCode(), echo.toString());
        assertEquals("@" + secret + "\n", echo.stdout());

        // Options read from a file the sandbox could have written would widen the next run.
        Path options = Files.writeString(workspace.resolve("args"), "--net host\n");
        Result injected = CliProcess.run(workspace, "run", "--workspace", workspace.toString(),
                "@" + options, "true");
        assertEquals(127, injected.exitCode(), injected.toString());
        assertTrue(injected.stderr().contains("@" + options), injected.toString());
    }

    @Test
    void homeDirectoryIsNotTheDefaultWorkspace() throws Exception {
        Path home = Files.createDirectory(outside.resolve("home"));
        Path project = Files.createDirectory(home.resolve("project"));
        Map<String, String> env = Map.of("HOME", home.toString());

        Result inProject = CliProcess.run(project, env, "run", "--", "/bin/sh", "-c",
                "touch ok && pwd");
        assertEquals(0, inProject.exitCode(), inProject.toString());
        assertEquals(project + "\n", inProject.stdout());

        Result inHome = CliProcess.run(home, env, "run", "--", "touch", "planted");
        assertEquals(2, inHome.exitCode(), inHome.toString());
        assertEquals(List.of("stockade: the current directory " + home + " is your home"
                        + " directory: it would be the sandbox's writable workspace; cd to the"
                        + " project directory, or give --workspace DIR (--workspace " + home
                        + " if you really mean it)", "Try 'stockade run --help'"),
                inHome.stderrLines());
        assertFalse(Files.exists(home.resolve("planted")));

        Result inParent = CliProcess.run(outside, env, "run", "--", "true");
        assertEquals(2, inParent.exitCode(), inParent.toString());
        assertTrue(inParent.stderrLines().get(0).startsWith("stockade: the current directory "
                + outside.toRealPath() + " contains your home directory " + home),
                inParent.toString());

        Result root = CliProcess.run(Path.of("/"), env, "run", "--", "true");
        assertEquals(2, root.exitCode(), root.toString());
        assertTrue(root.stderrLines().get(0).startsWith("stockade: the current directory / "
                + "contains your home directory"), root.toString());

        Result explicit = CliProcess.run(home, env, "run", "--workspace", home.toString(), "--",
                "touch", "meant");
        assertEquals(0, explicit.exitCode(), explicit.toString());
        assertTrue(Files.exists(home.resolve("meant")));
    }

    @Test
    void reportReplacesALinkInsteadOfWritingThroughIt() throws Exception {
        Path victim = Files.writeString(outside.resolve("victim"), "precious\n");
        Path report = outside.resolve("report.json");
        Files.createSymbolicLink(report, victim);

        Result result = CliProcess.run(workspace, "run", "--workspace", workspace.toString(),
                "--report", report.toString(), "--", "true");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("precious\n", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(report));
        assertEquals(0, new ObjectMapper().readTree(report.toFile()).get("exitCode").intValue());
        try (var leftovers = Files.list(outside)) {
            assertEquals(List.of("report.json", "victim"),
                    leftovers.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void reportInsideAWritableBindIsRefused() throws Exception {
        Path victim = Files.writeString(outside.resolve("victim"), "precious\n");
        Path extra = Files.createDirectory(outside.resolve("extra"));
        // The command plants the link during this run; the next run's report would follow it.
        Result planting = CliProcess.run(workspace, "run", "--workspace", workspace.toString(),
                "--", "ln", "-s", victim.toString(), workspace.resolve("report.json").toString());
        assertEquals(0, planting.exitCode(), planting.toString());

        for (Path report : List.of(workspace.resolve("report.json"),
                workspace.resolve("sub/report.json"), extra.resolve("report.json"))) {
            Result refused = CliProcess.run(workspace, "run", "--workspace",
                    workspace.toString(), "--bind", extra.toString(), "--report",
                    report.toString(), "--", "true");
            assertEquals(2, refused.exitCode(), refused.toString());
            String line = refused.stderrLines().get(0);
            assertTrue(line.startsWith("stockade: report " + report + " lies in ")
                    && line.contains("which the command can write"), refused.toString());
        }
        assertEquals("precious\n", Files.readString(victim));
    }
}
