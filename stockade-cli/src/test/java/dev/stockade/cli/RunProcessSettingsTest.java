package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.SandboxPolicy;
import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run}'s options for the command's process: {@code --address-space},
 * {@code --stack}, {@code --hostname}, {@code --chdir}, {@code --unset-env} and
 * {@code --kill-grace}, each seen from inside a real sandbox, against the default first.
 */
class RunProcessSettingsTest {

    @TempDir
    Path workspace;

    private Result sh(List<String> options, String script) throws Exception {
        return CliProcess.runShell(workspace, options, script);
    }

    private static void assertOk(String stdout, Result result) {
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(stdout, result.stdout(), result.toString());
        assertEquals("", result.stderr(), result.toString());
    }

    @Test
    void addressSpaceAndStackAreTheCommandsRlimits() throws Exception {
        // ulimit -v and -s are in KiB.
        assertOk("unlimited\n", sh(List.of(), "ulimit -v"));
        assertOk("65536 2048\n", sh(List.of("--address-space", "64m", "--stack", "2m"),
                "echo $(ulimit -v) $(ulimit -s)"));
        // The hard limit too: the command cannot raise it back.
        assertOk("65536 2048\n", sh(List.of("--address-space", "64m", "--stack", "2m"),
                "echo $(ulimit -H -v) $(ulimit -H -s)"));
    }

    @Test
    void hostnameIsTheOneGiven() throws Exception {
        assertOk(SandboxPolicy.DEFAULT_HOSTNAME + "\n", sh(List.of(), "hostname"));
        assertOk("build-7.ci.example\n", sh(List.of("--hostname", "build-7.ci.example"),
                "hostname"));
    }

    @Test
    void chdirIsTheWorkingDirectory() throws Exception {
        Path sub = Files.createDirectories(workspace.resolve("sub/dir"));
        assertOk(workspace + "\n", sh(List.of(), "pwd"));
        assertOk(sub + "\n", sh(List.of("--chdir", sub.toString()), "pwd"));
        assertOk(sub + "\n", sh(List.of("--chdir", "sub/dir"), "pwd"));
        assertOk("/usr/bin\n", sh(List.of("--chdir", "/usr/bin"), "pwd"));
        // The workspace is where it was: only the working directory moved.
        Files.writeString(workspace.resolve("marker"), "here\n");
        assertOk("here\n", sh(List.of("--chdir", "/"), "cat " + workspace.resolve("marker")));
    }

    @Test
    void aChdirMissingInTheSandboxFailsTheSetUp() throws Exception {
        Result missing = sh(List.of("--chdir", "no-such-dir"), "echo ran");
        assertEquals(125, missing.exitCode(), missing.toString());
        assertEquals("", missing.stdout());
        assertEquals(1, missing.stderrLines().size(), missing.toString());
        String line = missing.stderrLines().get(0);
        assertTrue(line.startsWith("stockade: ") && line.contains(
                workspace.resolve("no-such-dir").toString()), line);
        assertFalse(Files.exists(workspace.resolve("no-such-dir")));
    }

    @Test
    void unsetEnvRemovesTheVariable() throws Exception {
        String show = "echo ${HOME-unset} ${FOO-unset} ${BAR-unset}";
        Result all = sh(List.of("--env", "FOO=1", "--env", "BAR=2"), show);
        assertEquals(0, all.exitCode(), all.toString());
        assertTrue(all.stdout().endsWith(" 1 2\n") && !all.stdout().startsWith("unset"),
                all.toString());
        assertOk("unset 1 unset\n", sh(List.of("--env", "FOO=1", "--env", "BAR=2",
                "--unset-env", "HOME", "--unset-env", "BAR"), show));
        // env(1) lists exactly what the command got.
        Result env = CliProcess.run(workspace, "run", "--workspace", workspace.toString(),
                "--unset-env", "PATH", "--unset-env", "HOME", "--", "/usr/bin/env");
        assertEquals(0, env.exitCode(), env.toString());
        assertFalse(env.stdout().lines().anyMatch(l -> l.startsWith("PATH=")
                || l.startsWith("HOME=")), env.toString());
    }

    @Test
    void killGraceIsTheTimeBetweenSigtermAndSigkill() throws Exception {
        // At the timeout the command gets SIGTERM; its handler takes a second to write the
        // marker. With a grace of 5 s it gets there; with 0, SIGKILL comes first.
        String script = "trap 'sleep 1; echo graced > late; exit 0' TERM; sleep 1000 & wait";
        Result graced = sh(List.of("--timeout", "1s", "--kill-grace", "5s"), script);
        assertEquals(124, graced.exitCode(), graced.toString());
        assertEquals("graced\n", Files.readString(workspace.resolve("late")));

        Files.delete(workspace.resolve("late"));
        Result killed = sh(List.of("--timeout", "1s", "--kill-grace", "0"), script);
        assertEquals(124, killed.exitCode(), killed.toString());
        assertFalse(Files.exists(workspace.resolve("late")), killed.toString());
    }
}
