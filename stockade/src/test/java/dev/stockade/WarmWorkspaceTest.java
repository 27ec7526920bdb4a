package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.SpecException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * workspace itself replaced, a hard link put in a protected file's place), and checks the next
 * start protects the workspace as it is now: cold, and read-only where it must be; the pool
 * then warms for the workspace as it is. The pool's fingerprint of the workspace catches what
 * changes the paths or their files; pid 1's check of its own PROTECT mounts before the
 * command's fork catches a mount the host moved or detached while the path shows the same file.
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

    /**
     * A cold start now refuses to write {@code file}, and so does the pool's start, which is
     * cold too: the ready sandbox's pid 1 found its view stale.
     */
    private static void assertBothRefuse(SandboxPool pool, SandboxPolicy policy, Path ws,
            String file) throws Exception {
        Run cold = run(Sandbox.command("sh", "-c", "echo evil > " + file).policy(policy)
                .directory(ws));
        assertFalse(cold.warm(), cold::toString);
        assertRefused(cold, file);
        Run pooled = write(pool, ws, file);
        assertRefused(pooled, file);
        assertFalse(pooled.warm(), () -> "its view was stale: " + pooled);
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

    /**
     * A read-only mount is on a dentry; the fingerprint keys an inode. A second name for the
     * same regular file (a hard link) put at the path after the warm-up leaves the waiting
     * sandbox's mount on the old name (or detached, the old name unlinked) while the path shows
     * the same device and inode: the fingerprints are equal. pid 1 finds its mount gone from
     * the path before the command's fork, and the start is cold (review finding 1).
     */
    @Test
    void aProtectedFileRelinkedOnTheHostStaysReadOnly(@TempDir Path ws) throws Exception {
        Path envrc = ws.resolve(".envrc");
        Files.writeString(envrc, "export SAFE=1\n");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).build();
        try (SandboxPool pool = readyPool(policy)) {
            // Unchanged: warm, and .envrc read-only in it.
            Run allowed = write(pool, ws, "made.txt");
            assertTrue(allowed.warm(), allowed::toString);
            assertEquals(0, allowed.exit(), allowed::toString);
            assertTrue(pool.awaitReady(1, HANG_LIMIT));
            Run warmRefused = write(pool, ws, ".envrc");
            assertTrue(warmRefused.warm(), warmRefused::toString);
            assertRefused(warmRefused, ".envrc");
            assertTrue(pool.awaitReady(1, HANG_LIMIT));

            // ln .envrc keep; rm .envrc; mv keep .envrc: the same inode, a new dentry.
            Path keep = ws.resolve("keep");
            Files.createLink(keep, envrc);
            Files.delete(envrc);
            Files.move(keep, envrc);
            assertBothRefuse(pool, policy, ws, ".envrc");
            assertEquals("export SAFE=1\n", Files.readString(envrc));
        }
    }

    /**
     * The same, done by a hostile step: a step that started before the workspace had a
     * repository may make .git (git init must work) and, as it is not a mount point in its own
     * sandbox, rename it. It makes a .git file, waits for the pool to warm up with it protected,
     * then puts a hard link of it in its place. The next step would start warm with .git
     * writable (and could point it at a repository of its own, whose config the host's git
     * then runs); pid 1's check makes it cold (review finding 2).
     */
    @Test
    void aGitFileRelinkedByAConcurrentStepStaysReadOnly(@TempDir Path ws) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).build();
        Path git = ws.resolve(".git");
        SandboxedProcess hostile = Sandbox.command("sh", "-c",
                "printf 'gitdir: nowhere\\n' > .git && read go"
                        + " && ln .git .git.tmp && mv .git .git.moved && mv .git.tmp .git"
                        + " && echo swapped")
                .policy(policy).directory(ws).start();
        CompletableFuture<String> hostileOut = readAsync(hostile.getInputStream());
        CompletableFuture<String> hostileErr = readAsync(hostile.getErrorStream());
        long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
        while (!Files.isRegularFile(git, LinkOption.NOFOLLOW_LINKS)
                || Files.size(git) == 0) {
            assertTrue(System.nanoTime() < deadline, "the step made no .git");
            Thread.sleep(20);
        }
        try (SandboxPool pool = readyPool(policy)) {
            // Set up with .git there: warm, and .git read-only in it.
            Run warmRefused = write(pool, ws, ".git");
            assertTrue(warmRefused.warm(), warmRefused::toString);
            assertRefused(warmRefused, ".git");
            assertTrue(pool.awaitReady(1, HANG_LIMIT));

            try (OutputStream in = hostile.getOutputStream()) {
                in.write("go\n".getBytes(StandardCharsets.UTF_8));
            }
            SandboxResult h = hostile.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(0, h.exitCode(), () -> hostileErr.join());
            assertEquals("swapped\n", hostileOut.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));

            assertBothRefuse(pool, policy, ws, ".git");
            assertEquals("gitdir: nowhere\n", Files.readString(git));
        }
    }

    /** Every process below this JVM (its children's children too). */
    private static List<Long> descendants() {
        List<Long> all = new ArrayList<>();
        List<Long> todo = new ArrayList<>(List.of(ProcessHandle.current().pid()));
        while (!todo.isEmpty()) {
            long pid = todo.remove(todo.size() - 1);
            try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    String children = Files.readString(t.resolve("children")).trim();
                    if (!children.isEmpty()) {
                        for (String c : children.split(" ")) {
                            all.add(Long.parseLong(c));
                            todo.add(Long.parseLong(c));
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone meanwhile
            }
        }
        return all;
    }

    /** Whether some process below this JVM has a mount whose mount point ends with {@code suffix}. */
    private static boolean mounted(String suffix) {
        for (long pid : descendants()) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"))) {
                    String[] f = line.split(" ");
                    if (f.length > 4 && f[4].endsWith(suffix)) {
                        return true;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone meanwhile
            }
        }
        return false;
    }

    /**
     * hold() takes each protected leaf (all sent with CREATE) as it is right after READY. A
     * protected directory replaced on the host after the waiting sandbox's helper mounted it
     * but before the JVM holds it (mv .vscode old; mkdir .vscode: the mount goes with the old
     * one) is keyed as the new one, which the start's walk then sees too: equal fingerprints.
     * pid 1's check finds its mount gone from the path (review finding 3). Races the JVM's
     * hold() (the swap is made as soon as the mount shows in the sandbox's mountinfo), so tried
     * a few times.
     */
    @Test
    void aProtectedDirectoryReplacedWhileTheSandboxWarmsUpStaysReadOnly(@TempDir Path root)
            throws Exception {
        int hits = 0;
        int swapped = 0;
        List<String> seen = new ArrayList<>();
        for (int attempt = 0; attempt < 8; attempt++) {
            Path ws = Files.createDirectory(root.resolve("ws" + attempt));
            Path vscode = Files.createDirectory(ws.resolve(".vscode"));
            SandboxPolicy policy = SandboxPolicy.builder().workspace(ws).build();
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Boolean> swapper = CompletableFuture.supplyAsync(() -> {
                String suffix = ws + "/.vscode";
                while (!done.get()) {
                    if (mounted(suffix)) {
                        try {
                            Files.move(vscode, ws.resolve("old-vscode"));
                            Files.createDirectory(vscode);
                            return true;
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
                }
                return false;
            });
            try (SandboxPool pool = SandboxPool.create(policy, 1)) {
                assertTrue(pool.awaitReady(1, HANG_LIMIT), "pool not ready");
                done.set(true);
                boolean moved = swapper.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
                if (!moved) {
                    continue;
                }
                swapped++;
                // A cold start now covers the new .vscode.
                Run cold = run(Sandbox.command("sh", "-c", "echo evil > .vscode/tasks.json")
                        .policy(policy).directory(ws));
                assertRefused(cold, ".vscode/tasks.json");
                Run r = write(pool, ws, ".vscode/tasks.json");
                seen.add(r.toString());
                if (r.exit() == 0) {
                    hits++;
                }
            }
        }
        assertTrue(swapped > 0, "never swapped");
        assertEquals(0, hits, () -> "warm starts that wrote into the new .vscode: " + seen);
    }
}
