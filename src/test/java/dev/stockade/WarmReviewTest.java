package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the warm-sandbox fingerprint (WorkspaceFingerprint): ways the workspace can be
 * changed so that the fingerprint a start takes equals the one a ready sandbox was set up
 * with, while its view no longer protects what a cold start at that moment would.
 */
@Timeout(180)
class WarmReviewTest {

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

    /**
     * A read-only mount is on a dentry; the fingerprint keys an inode. A second name for the
     * same regular file (a hard link) put at the path after the warm-up leaves the waiting
     * sandbox's mount on the old name (or detached, the old name unlinked) while the path shows
     * the same device and inode: the fingerprints are equal and the warm start gets the file
     * writable. A cold start at that moment covers it.
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
            // A cold start now covers it.
            Run cold = run(Sandbox.command("sh", "-c", "echo evil > .envrc").policy(policy)
                    .directory(ws));
            assertFalse(cold.warm(), cold::toString);
            assertRefused(cold, ".envrc");
            Run refused = write(pool, ws, ".envrc");
            assertRefused(refused, ".envrc");
            assertEquals("export SAFE=1\n", Files.readString(envrc));
        }
    }

    /**
     * The same, done by a hostile step: a step that started before the workspace had a
     * repository may make .git (git init must work) and, as it is not a mount point in its own
     * sandbox, rename it. It makes a .git file, waits for the pool to warm up with it protected,
     * then puts a hard link of it in its place. The next step starts warm with .git writable
     * (and can point it at a repository of its own, whose config the host's git then runs).
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

            // A cold start now covers it.
            Run cold = run(Sandbox.command("sh", "-c", "echo evil > .git").policy(policy)
                    .directory(ws));
            assertFalse(cold.warm(), cold::toString);
            assertRefused(cold, ".git");
            Run refused = write(pool, ws, ".git");
            assertRefused(refused, ".git");
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
     * Now that every protected leaf is sent with CREATE, hold() takes each of them "as it is
     * now" and never compares it with what the walk found. A protected directory that existed
     * and is replaced on the host after the waiting sandbox's helper mounted it but before the
     * JVM holds it (mv .vscode old; mkdir .vscode: the mount goes with the old one) is keyed
     * as the new one, which the start's walk then sees too: equal fingerprints, a warm start
     * with the new .vscode writable. Races the JVM's hold() (the swap is made as soon as the
     * mount shows in the sandbox's mountinfo), so tried a few times.
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
