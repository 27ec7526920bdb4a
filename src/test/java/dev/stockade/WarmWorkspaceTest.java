package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.SpecException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A warm sandbox's view is made when it warms up, its protected paths resolved from the
 * workspace as it was then; its start must protect what a cold start at that moment would.
 * Each test first shows the unchanged workspace starts warm, then changes the workspace on the
 * host the way a build or a developer does between two steps (git init, a directory made
 * anew, a .git file naming another directory, a placeholder removed, a link planted, the
 * workspace itself replaced), and checks the next start protects the workspace as it is now:
 * cold, and read-only where it must be; the pool then warms for the workspace as it is.
 */
@Timeout(180)
class WarmWorkspaceTest {

    private static final String READ_ONLY = "Read-only file system";

    private record Run(boolean warm, int exit, String stdout, String stderr) {}

    private static Run run(SandboxBuilder builder) throws Exception {
        SandboxedProcess p = builder.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = readAsync(p.getInputStream());
        CompletableFuture<String> err = readAsync(p.getErrorStream());
        SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
        return new Run(p.warm(), r.exitCode(), out.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                err.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
    }

    private static SandboxPool readyPool(SandboxPolicy policy) throws Exception {
        SandboxPool pool = SandboxPool.create(policy, 1);
        assertTrue(pool.awaitReady(1, HANG_LIMIT), "pool not ready after " + HANG_LIMIT);
        return pool;
    }

    /** Writes {@code file} (relative to the workspace) inside; dash exits 2 on a failed {@code >}. */
    private static Run write(SandboxPool pool, Path workspace, String file) throws Exception {
        return run(pool.command("sh", "-c", "echo evil > " + file).directory(workspace));
    }

    private static void assertRefused(Run r, String file) {
        assertEquals(2, r.exit(), r::toString);
        assertTrue(r.stderr().endsWith("cannot create " + file + ": " + READ_ONLY + "\n"),
                r::toString);
    }

    @ParameterizedTest
    @EnumSource(WorkspaceMode.class)
    void aRepositoryMadeAfterTheWarmUpIsProtected(WorkspaceMode mode, @TempDir Path ws)
            throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).workspaceMode(mode).build();
        try (SandboxPool pool = readyPool(policy)) {
            // Unchanged (its missing protected paths covered by placeholders): warm, writable.
            Run allowed = write(pool, ws, "made.txt");
            assertTrue(allowed.warm(), allowed::toString);
            assertEquals(0, allowed.exit(), allowed::toString);
            assertEquals("evil\n", Files.readString(ws.resolve("made.txt")));
            assertTrue(pool.awaitReady(1, HANG_LIMIT));

            Files.createDirectories(ws.resolve(".git/hooks")); // git init, on the host
            Run refused = write(pool, ws, ".git/hooks/pre-commit");
            assertRefused(refused, ".git/hooks/pre-commit");
            assertFalse(Files.exists(ws.resolve(".git/hooks/pre-commit")));
            assertFalse(refused.warm(), "set up before .git existed");

            // The pool warms again for the workspace as it is: warm, and .git protected.
            assertTrue(pool.awaitReady(1, HANG_LIMIT));
            Run again = write(pool, ws, ".git/hooks/pre-commit");
            assertTrue(again.warm(), "set up after .git was made");
            assertRefused(again, ".git/hooks/pre-commit");
            assertFalse(Files.exists(ws.resolve(".git/hooks/pre-commit")));
        }
    }

    @ParameterizedTest
    @EnumSource(WorkspaceMode.class)
    void aProtectedDirectoryMadeAnewIsProtected(WorkspaceMode mode, @TempDir Path ws)
            throws Exception {
        Files.createDirectories(ws.resolve(".vscode"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).workspaceMode(mode).build();
        try (SandboxPool pool = readyPool(policy)) {
            // The warm sandbox's read-only mount is on the directory it found, wherever that
            // one goes now: a new .vscode at the path would be open to it.
            Files.move(ws.resolve(".vscode"), ws.resolve("old-vscode"));
            Files.createDirectory(ws.resolve(".vscode"));
            Run refused = write(pool, ws, ".vscode/tasks.json");
            assertRefused(refused, ".vscode/tasks.json");
            assertFalse(Files.exists(ws.resolve(".vscode/tasks.json")));
            assertFalse(refused.warm(), "set up for the .vscode renamed since");
        }
    }

    @ParameterizedTest
    @EnumSource(WorkspaceMode.class)
    void aGitFileNamingAnotherDirectoryIsFollowed(WorkspaceMode mode, @TempDir Path ws)
            throws Exception {
        Files.createDirectories(ws.resolve("repo-a/hooks"));
        Files.createDirectories(ws.resolve("repo-b/hooks"));
        Files.writeString(ws.resolve(".git"), "gitdir: repo-a\n");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).workspaceMode(mode).build();
        try (SandboxPool pool = readyPool(policy)) {
            // The same .git file (same inode), naming another repository now.
            Files.writeString(ws.resolve(".git"), "gitdir: repo-b\n");
            Run refused = write(pool, ws, "repo-b/hooks/pre-commit");
            assertRefused(refused, "repo-b/hooks/pre-commit");
            assertFalse(Files.exists(ws.resolve("repo-b/hooks/pre-commit")));
            assertFalse(refused.warm(), "set up for the gitdir named before");
        }
    }

    @Test
    void aPlaceholderRemovedOnTheHostIsCoveredAgain(@TempDir Path ws) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).build();
        try (SandboxPool pool = readyPool(policy)) {
            // The ready sandbox covers the empty .envrc its helper made in the workspace;
            // removing it there takes that mount away (a mount point unlinked from another
            // mount namespace is detached).
            Path envrc = ws.resolve(".envrc");
            assertTrue(Files.isRegularFile(envrc, LinkOption.NOFOLLOW_LINKS));
            Files.delete(envrc);
            Run refused = write(pool, ws, ".envrc");
            assertRefused(refused, ".envrc");
            assertFalse(refused.warm(), "its placeholder is gone");
        }
        // Every placeholder goes with the sandbox that made it, the pool's own included.
        assertFalse(Files.exists(ws.resolve(".envrc"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aLinkPlantedAfterTheWarmUpFailsTheStartAsAColdOneDoes(@TempDir Path ws,
            @TempDir Path elsewhere) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).build();
        try (SandboxPool pool = readyPool(policy)) {
            Files.createDirectory(ws.resolve("real-idea"));
            Run allowed = write(pool, ws, "real-idea/x");
            assertTrue(allowed.warm() && allowed.exit() == 0, allowed::toString);
            assertTrue(pool.awaitReady(1, HANG_LIMIT));

            // rm -rf .idea (the ready sandbox's placeholder); ln -s elsewhere .idea
            Files.delete(ws.resolve(".idea"));
            Files.createSymbolicLink(ws.resolve(".idea"), elsewhere);
            SpecException e = assertThrows(SpecException.class,
                    () -> write(pool, ws, ".idea/workspace.xml"));
            assertEquals("protected path .idea/: .idea is a symbolic link, which a read-only"
                    + " mount cannot cover; remove it, or leave the path unprotected"
                    + " (unprotect(\".idea/\"), --unprotect .idea/)", e.getMessage());
            assertFalse(Files.exists(elsewhere.resolve("workspace.xml")));
        }
    }

    @ParameterizedTest
    @EnumSource(WorkspaceMode.class)
    void aWorkspaceReplacedAfterTheWarmUpIsTheOneSeen(WorkspaceMode mode, @TempDir Path root)
            throws Exception {
        Path ws = Files.createDirectory(root.resolve("ws"));
        Files.writeString(ws.resolve("which"), "old\n");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).workspaceMode(mode).build();
        try (SandboxPool pool = readyPool(policy)) {
            Run allowed = run(pool.command("cat", "which").directory(ws));
            assertTrue(allowed.warm(), allowed::toString);
            assertEquals("old\n", allowed.stdout());
            assertTrue(pool.awaitReady(1, HANG_LIMIT));

            // A fresh checkout in place of the old one: rm -rf ws; git clone ... ws.
            Files.move(ws, root.resolve("ws-old"));
            Files.createDirectory(ws);
            Files.writeString(ws.resolve("which"), "new\n");
            Run seen = run(pool.command("cat", "which").directory(ws));
            assertEquals(0, seen.exit(), seen::toString);
            assertEquals("new\n", seen.stdout());
            assertFalse(seen.warm(), "set up with the old workspace bound");
        }
    }
}
