package dev.stockade;

import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.CommitResult.Reason;
import dev.stockade.CommitResult.Skipped;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile step's changes cannot do to the commit (review of the transactional
 * workspace): make it apply half of a commit it refuses (a path over PATH_MAX), exhaust the
 * caller's heap (paths of almost PATH_MAX by the thousand), flood the result with long paths,
 * reach a directory put at the workspace's path after the step, or have set-group-ID taken off
 * a directory. The hard-link race on the names the commit makes is covered by its building
 * blocks (dev.stockade.internal.TreeWalkCallsTest: every change after an entry is made goes
 * through its descriptor) and by the review's race script.
 */
@Timeout(300)
class TransactionalCommitSafetyTest {

    private static final String NAME_255 = "D".repeat(255);

    @TempDir
    Path scratch;

    private Path workspace;

    private Path workspace() throws Exception {
        if (workspace == null) {
            workspace = Files.createDirectory(scratch.resolve("ws"));
        }
        return workspace;
    }

    private SandboxPolicy.Builder transactional() throws Exception {
        return SandboxPolicy.builder().workspace(workspace())
                .workspaceMode(WorkspaceMode.TRANSACTIONAL);
    }

    private Output python(SandboxPolicy policy, String... lines) throws Exception {
        return SandboxTesting.run(Sandbox.command("/usr/bin/python3", "-c",
                String.join("\n", lines)).policy(policy).directory(workspace()));
    }

    /** {@code deep/} and {@code levels} nested directories of 255-byte names, a file at the bottom. */
    private static String[] deepTree(int levels) {
        return new String[] {"import os", "open('a.txt','w').write('changed\\n')",
                "os.mkdir('deep'); os.chdir('deep')", "for i in range(" + levels + "):",
                "    os.mkdir('" + NAME_255 + "'); os.chdir('" + NAME_255 + "')",
                "open('f','w').write('x')"};
    }

    private static void removeTree(Path dir) throws Exception {
        // rm walks relative to directory descriptors: no path it uses is over PATH_MAX.
        assertEquals(0, new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor());
    }

    @Test
    void aChangeLongerThanPathMaxRefusesTheCommitAsAWhole() throws Exception {
        Files.writeString(workspace().resolve("a.txt"), "alpha\n");
        // The allowed case: deep/ and 15 levels (3,844 bytes) and f fit in PATH_MAX.
        Output fits = python(transactional().build(), deepTree(15));
        assertExitedZero(fits);
        CommitResult applied = fits.result().commit().orElseThrow();
        assertTrue(applied.complete(), applied::toString);
        assertEquals(List.of(2L, 16L), List.of(applied.filesWritten(),
                applied.directoriesCreated()));
        assertEquals("x", Files.readString(workspace().resolve("deep/" + (NAME_255 + "/")
                .repeat(15) + "f")));
        removeTree(workspace().resolve("deep"));
        Files.writeString(workspace().resolve("a.txt"), "alpha\n");
        Map<String, String> before = HostTree.snapshot(workspace());

        // 16 levels are 4,100 bytes: refused before anything is applied.
        Output out = python(transactional().build(), deepTree(17));
        assertExitedZero(out);
        CommitResult c = out.result().commit().orElseThrow();
        String failure = c.failure().orElseThrow();
        String prefix = "the changes were not applied: a path of the changes is longer than"
                + " PATH_MAX (4096 bytes with its NUL): ";
        assertEquals(prefix + "deep/" + (NAME_255 + "/").repeat(4).substring(0, 1019) + "...",
                failure);
        assertEquals(List.of(0L, 0L, 0L), List.of(c.filesWritten(), c.directoriesCreated(),
                c.deleted()));
        assertEquals(before, HostTree.snapshot(workspace()));
        // What was examined before the bound, in order: a.txt, deep, its 15 levels.
        assertEquals(17, c.notApplied().size(), c.notApplied()::toString);
        assertEquals(List.of("a.txt", "deep", "deep/" + NAME_255), c.notApplied().subList(0, 3));
        for (String listed : c.notApplied()) {
            assertTrue(listed.length() <= CommitResult.MAX_LISTED_PATH_BYTES + 3, listed);
        }
    }

    /**
     * 12,000 files whose paths are almost PATH_MAX (45 MB of path bytes) under a 32 MiB heap:
     * the commit keeps nothing per change, so it completes (the commit that kept every path
     * ran out of memory on the reaper thread).
     */
    @Test
    void theCallersHeapDoesNotGrowWithTheChanges() throws Exception {
        int files = 12_000;
        Process jvm = ChildJvm.start(Map.of(), List.of("-Xmx32m"), CommitHeapMain.class,
                workspace().toString(), String.valueOf(128L << 20), String.valueOf(files));
        byte[] stderr = jvm.getErrorStream().readAllBytes();
        String stdout = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(jvm.waitFor(240, TimeUnit.SECONDS));
        String err = new String(stderr, StandardCharsets.UTF_8);
        assertEquals(0, jvm.exitValue(), err);
        assertEquals("files=" + files + " dirs=15 complete=true failure=\n", stdout, err);
        Path bottom = workspace().resolve("deep/" + (NAME_255 + "/").repeat(14));
        try (var names = Files.list(bottom)) {
            assertEquals(files, names.count());
        }
        removeTree(workspace().resolve("deep"));
    }

    @Test
    void listedPathsAreCutAtTheBound() throws Exception {
        // The allowed case: a short path is listed whole.
        Output shortPath = python(transactional().build(), "import os", "os.mkfifo('p')");
        assertExitedZero(shortPath);
        assertEquals(List.of(new Skipped("p", Reason.FIFO)),
                shortPath.result().commit().orElseThrow().skipped());

        // 5 levels of 255 bytes and a FIFO: 1,281 bytes, listed as its first 1,024 and "...".
        Output out = python(transactional().build(), "import os",
                "for i in range(5):", "    os.mkdir('" + NAME_255 + "'); os.chdir('"
                        + NAME_255 + "')", "os.mkfifo('p')");
        assertExitedZero(out);
        CommitResult c = out.result().commit().orElseThrow();
        assertTrue(c.complete(), c::toString);
        String whole = (NAME_255 + "/").repeat(5) + "p";
        assertEquals(List.of(new Skipped(whole.substring(0, CommitResult.MAX_LISTED_PATH_BYTES)
                + "...", Reason.FIFO)), c.skipped());
        removeTree(workspace().resolve(NAME_255));
    }

    /**
     * A manual commit goes into the directory the step saw: when the workspace's path names
     * another directory by then (here the workspace was renamed and a new one made in its
     * place), nothing is applied to either.
     */
    @Test
    void aCommitGoesIntoTheDirectoryTheStepSawOrNowhere() throws Exception {
        SandboxPolicy policy = transactional().commitOn(CommitOn.MANUAL).build();
        String script = "echo new > new.txt; rm gone.txt";
        // The allowed case: the path still names it.
        Files.writeString(workspace().resolve("gone.txt"), "gone\n");
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", script).policy(policy)
                .directory(workspace()).start()) {
            assertEquals(0, p.waitFor());
            assertTrue(p.commit().complete());
        }
        assertEquals("new\n", Files.readString(workspace().resolve("new.txt")));
        assertFalse(Files.exists(workspace().resolve("gone.txt")));

        Files.delete(workspace().resolve("new.txt"));
        Files.writeString(workspace().resolve("gone.txt"), "gone\n");
        Path moved = scratch.resolve("moved");
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", script).policy(policy)
                .directory(workspace()).start()) {
            assertEquals(0, p.waitFor());
            Files.move(workspace(), moved);
            Files.createDirectory(workspace());
            Files.writeString(workspace().resolve("gone.txt"), "another's\n");
            Map<String, String> other = HostTree.snapshot(workspace());
            Map<String, String> saw = HostTree.snapshot(moved);
            CommitResult c = p.commit();
            String failure = c.failure().orElseThrow();
            assertTrue(failure.startsWith("the changes were not applied: the workspace "
                    + workspace() + " is not the directory the step saw any more (inode "),
                    failure);
            assertEquals(List.of("gone.txt", "new.txt"), c.notApplied());
            assertEquals(0, c.filesWritten() + c.deleted());
            assertEquals(other, HostTree.snapshot(workspace()));
            assertEquals(saw, HostTree.snapshot(moved));
        }
    }

    /**
     * Set-id bits are taken off files only: a new directory keeps the set-group-ID the step gave
     * it, an existing one keeps its own set-id bits and takes the step's permission bits.
     */
    @Test
    void directoriesKeepSetGroupIdFilesDoNot() throws Exception {
        Path shared = Files.createDirectory(workspace().resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxr-x"));
        setMode(shared, 02775);
        Output out = SandboxTesting.run(Sandbox.command("/bin/sh", "-c", String.join("; ",
                "echo x > shared/x", "chmod 750 shared", "mkdir made", "chmod 2770 made",
                "cp /bin/true tool", "chmod 2755 tool")).policy(transactional()
                        .allowSetIdFiles(true).build()).directory(workspace()));
        assertExitedZero(out);
        assertTrue(out.result().commit().orElseThrow().complete());
        assertEquals("2750", mode(shared));
        assertEquals("x\n", Files.readString(shared.resolve("x")));
        assertEquals("2770", mode(workspace().resolve("made")));
        assertEquals("755", mode(workspace().resolve("tool")));
    }

    private static void setMode(Path p, int mode) throws Exception {
        assertEquals(0, new ProcessBuilder("chmod", Integer.toOctalString(mode), p.toString())
                .start().waitFor());
    }

    private static String mode(Path p) throws Exception {
        return Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode",
                LinkOption.NOFOLLOW_LINKS) & 07777);
    }
}
