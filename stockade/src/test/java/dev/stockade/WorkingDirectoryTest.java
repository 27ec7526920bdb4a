package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.children;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SandboxBuilder.directory(): a relative directory is taken in the workspace (cold and warm);
 * one outside the sandbox's view is refused before anything starts, saying what the view holds.
 */
@Timeout(120)
class WorkingDirectoryTest {

    @Test
    void aRelativeDirectoryIsTakenInTheWorkspace(@TempDir Path workspace) throws Exception {
        Files.createDirectories(workspace.resolve("sub/dir"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        Output out = run(Sandbox.command("pwd").policy(policy).directory(Path.of("sub/dir")));
        assertEquals(0, out.exitCode(), out::toString);
        assertEquals(workspace.resolve("sub/dir") + "\n", out.stdout());
    }

    @Test
    void aRelativeDirectoryStartsWarmToo(@TempDir Path workspace) throws Exception {
        Files.createDirectories(workspace.resolve("sub"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        try (SandboxPool pool = SandboxPool.create(policy, 1)) {
            assertTrue(pool.awaitReady(1, HANG_LIMIT), "pool not ready");
            try (SandboxedProcess p = pool.command("pwd").directory(Path.of("sub")).start()) {
                assertTrue(p.warm(), "started cold");
                p.getOutputStream().close();
                assertEquals(workspace.resolve("sub") + "\n", new String(
                        p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                assertEquals(0, p.waitFor());
            }
        }
    }

    @Test
    void absoluteDirectoriesInTheViewAndOnTheWayToAMountWork() throws Exception {
        SandboxPolicy policy = SandboxPolicy.defaults();
        assertEquals("/tmp\n", run(Sandbox.command("pwd").policy(policy)
                .directory(Path.of("/tmp"))).stdout());
        // /var is not in the view, but /var/tmp is: the way to it is there.
        assertEquals("/var\n", run(Sandbox.command("pwd").policy(policy)
                .directory(Path.of("/var"))).stdout());
    }

    @Test
    void aDirectoryOutsideTheViewIsRefusedBeforeAnythingStarts(@TempDir Path workspace) {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        List<ProcessHandle> before = children();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").policy(policy).directory(Path.of("/srv/x"))
                        .start());
        assertEquals(before, children(), "nothing started");
        String view = "workspace " + workspace + ", home " + policy.home() + ", mounts ";
        assertTrue(e.getMessage().startsWith("the working directory /srv/x is outside the"
                + " sandbox's view (" + view), e.getMessage());
        assertTrue(e.getMessage().contains(", /tmp, /run, /var/tmp, /proc, /dev)"),
                e.getMessage());
        assertEquals(SetupStep.CHDIR, e.step());
        assertEquals(2, e.errno());
        assertEquals(SandboxSetupException.EXIT_SETUP, e.exitCode());
    }

    @Test
    void aRelativeDirectoryLeavingTheViewIsRefused(@TempDir Path workspace) {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        Path outside = workspace.resolve("../../../srv").normalize();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").policy(policy)
                        .directory(workspace.relativize(outside)).start());
        assertTrue(e.getMessage().startsWith("the working directory " + outside
                + " is outside the sandbox's view (workspace " + workspace), e.getMessage());
    }
}
