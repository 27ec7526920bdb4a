package dev.stockade;

import static dev.stockade.testing.SandboxTesting.assertContains;
import static dev.stockade.testing.SandboxTesting.children;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a clear, typed error, and nothing is left running. */
@Timeout(120)
class BadInputTest {

    @Test
    void missingCommandByPath() {
        List<ProcessHandle> before = children();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("/nonexistent/command", "arg").start());
        assertEquals(SetupStep.EXECVE, e.step());
        assertEquals(2, e.errno());
        assertEquals(127, e.exitCode());
        // A path is not searched: no PATH in the message.
        assertEquals("command not found: /nonexistent/command", e.getMessage());
        assertEquals("sandbox set-up failed at step 'execve': No such file or directory"
                + " (errno 2): /nonexistent/command", e.setupError().message());
        assertEquals(before, children(), "the helper has been reaped");
    }

    @Test
    void missingCommandOnThePath() {
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("stockade-no-such-command").start());
        assertEquals(SetupStep.EXECVE, e.step());
        assertEquals(2, e.errno());
        assertEquals(127, e.exitCode());
        assertEquals("command not found: stockade-no-such-command (PATH="
                + SandboxPolicy.defaults().environment().get("PATH") + ")", e.getMessage());
    }

    @Test
    void missingCommandNamesTheSandboxsOwnPath() {
        SandboxBuilder b = Sandbox.command("stockade-no-such-command");
        b.environment().put("PATH", "/opt/tools/bin:/usr/bin");
        SandboxSetupException e = assertThrows(SandboxSetupException.class, b::start);
        assertEquals(127, e.exitCode());
        assertEquals("command not found: stockade-no-such-command (PATH=/opt/tools/bin:/usr/bin)",
                e.getMessage());
    }

    @Test
    void missingCommandInAWarmSandbox() throws Exception {
        try (SandboxPool pool = SandboxPool.create(SandboxPolicy.defaults(), 1)) {
            assertTrue(pool.awaitReady(1, SandboxTesting.HANG_LIMIT), "pool not ready");
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> pool.command("stockade-no-such-command").start());
            assertEquals(127, e.exitCode());
            assertEquals(SetupStep.EXECVE, e.step());
            assertEquals("command not found: stockade-no-such-command (PATH="
                    + SandboxPolicy.defaults().environment().get("PATH") + ")", e.getMessage());
        }
    }

    @Test
    void nonExecutableFile(@TempDir Path workspace) throws Exception {
        Path script = workspace.resolve("script.sh");
        Files.writeString(script, "#!/bin/sh\necho should not run\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        // Allowed case: the same file runs once it is executable.
        Path runnable = workspace.resolve("runnable.sh");
        Files.writeString(runnable, "#!/bin/sh\necho ran\n");
        Files.setPosixFilePermissions(runnable, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals("ran\n", SandboxTesting.run(policy, runnable.toString()).stdout());

        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command(script.toString()).policy(policy).start());
        assertEquals(SetupStep.EXECVE, e.step());
        assertEquals(13, e.errno());
        assertEquals(126, e.exitCode());
        assertContains(e.getMessage(), "Permission denied (errno 13)");
    }

    @Test
    void missingWorkingDirectoryInside() {
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").directory(Path.of("/nonexistent-dir")).start());
        assertEquals(2, e.errno());
        assertEquals(125, e.exitCode());
        assertContains(e.getMessage(), "/nonexistent-dir");
    }

    @Test
    void bindSourceRemovedAfterBuildFailsAtTheBindStep(@TempDir Path dir) throws Exception {
        Path source = Files.createDirectory(dir.resolve("gone"));
        SandboxPolicy policy = SandboxPolicy.builder().bind(source, Path.of("/tmp/gone")).build();
        Files.delete(source);
        List<ProcessHandle> before = children();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").policy(policy).start());
        assertEquals(2, e.errno());
        assertEquals(125, e.exitCode());
        assertContains(e.getMessage(), source.toString());
        assertEquals(before, children());
    }

    @Test
    void workspaceThatDoesNotExist(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-workspace");
        List<ProcessHandle> before = children();
        PolicyException e = assertThrows(PolicyException.class,
                () -> SandboxPolicy.builder().workspace(missing).build());
        assertEquals(List.of("workspace " + missing + " does not exist"), e.problems());
        assertEquals(before, children(), "nothing started");
    }

    @Test
    void bindSourceThatDoesNotExist(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-source");
        PolicyException e = assertThrows(PolicyException.class,
                () -> SandboxPolicy.builder().bindReadOnly(missing, Path.of("/tmp/x")).build());
        assertEquals(List.of("bind source " + missing + " does not exist"), e.problems());
    }

    @Test
    void negativeLimit() {
        PolicyException e = assertThrows(PolicyException.class, () -> SandboxPolicy.builder()
                .limits(Limits.builder().openFiles(-5).build()).build());
        assertEquals(List.of("limit openFiles is negative (-5)"), e.problems());
        assertEquals("invalid sandbox policy: limit openFiles is negative (-5)", e.getMessage());
    }

    @Test
    void emptyCommand() {
        assertThrows(IndexOutOfBoundsException.class, () -> Sandbox.command().start());
    }

    @Test
    void nulInAnArgument() {
        List<ProcessHandle> before = children();
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> Sandbox.command("echo", "a\0b").start());
        assertContains(e.getMessage(), "NUL");
        assertEquals(before, children(), "nothing started");
    }

    @Test
    void relativeWorkingDirectoryWithoutAWorkspace() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sandbox.command("true").directory(Path.of("relative")).start());
        assertEquals("the relative working directory relative needs a policy with a workspace"
                + " to be taken in", e.getMessage());
    }
}
