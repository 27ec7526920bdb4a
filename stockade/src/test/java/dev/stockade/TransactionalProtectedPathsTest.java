package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protected paths of a transactional workspace: a missing one is made and covered inside the
 * overlay (pid 1, in the upper layer), never on the host, so the real workspace is only read
 * while the step runs; the step can still neither create nor replace any of them, and nothing
 * of them reaches the commit.
 */
@Timeout(300)
class TransactionalProtectedPathsTest {

    @TempDir
    Path workspace;

    private SandboxPolicy.Builder transactional() {
        return SandboxPolicy.builder().workspace(workspace)
                .workspaceMode(WorkspaceMode.TRANSACTIONAL).protect("sub/.envrc");
    }

    /** Every entry as HostTree records it, plus each directory's modification and change time. */
    private Map<String, String> hostState() throws IOException {
        Map<String, String> state = new TreeMap<>(HostTree.snapshot(workspace));
        for (Path dir : List.of(workspace, workspace.resolve("sub"))) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Map<String, Object> a = Files.readAttributes(dir, "unix:lastModifiedTime,ctime",
                    LinkOption.NOFOLLOW_LINKS);
            state.put("times of " + workspace.relativize(dir), a.get("lastModifiedTime") + " "
                    + a.get("ctime"));
        }
        return state;
    }

    /**
     * The reviewer's probe (review-tx finding 4), with a nested protected path too: while the
     * step runs the host workspace has exactly its own entries, times included, and a step
     * that fails leaves it so.
     */
    @Test
    void theRealWorkspaceIsNotWrittenWhileATransactionalStepRuns() throws Exception {
        Files.writeString(workspace.resolve("a.txt"), "alpha\n");
        Files.createDirectory(workspace.resolve("sub"));
        Map<String, String> before = hostState();
        String script = "ls -A; ls -A sub; echo ready; read x; exit 1";
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", script)
                .policy(transactional().build()).directory(workspace).start()) {
            InputStream out = p.getInputStream();
            String seen = new String(out.readNBytes(
                    ".envrc\n.gitmodules\n.idea\n.vscode\na.txt\nsub\n.envrc\nready\n".length()),
                    StandardCharsets.UTF_8);
            assertEquals(".envrc\n.gitmodules\n.idea\n.vscode\na.txt\nsub\n.envrc\nready\n", seen,
                    "inside, the placeholders are there");
            assertEquals(before, hostState(), "the host workspace while the step runs");
            try (OutputStream in = p.getOutputStream()) {
                in.write('\n');
            }
            assertTrue(p.waitFor(SandboxTesting.HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(1, p.exitValue());
            assertTrue(p.result().commit().isEmpty());
        }
        assertEquals(before, hostState(), "the host workspace after the failed step");
    }

    /**
     * First a file the step may write, then every way of making or replacing a missing
     * protected path (and the existing repository), each with its errno; then the commit:
     * complete, nothing skipped (the placeholders never reach it), only the step's own file
     * new on the host, the directory that held a nested placeholder with its old time.
     */
    @Test
    void theStepCannotCreateOrReplaceProtectedPathsAndTheCommitHasOnlyItsOwnChanges()
            throws Exception {
        Path git = Files.createDirectories(workspace.resolve(".git/hooks"));
        Files.writeString(workspace.resolve(".git/config"), "[core]\n");
        Files.createDirectory(workspace.resolve("sub"));
        Map<String, String> gitBefore = HostTree.snapshot(workspace.resolve(".git"));
        Object subTime = Files.getLastModifiedTime(workspace.resolve("sub"));
        Path ws = workspace;
        List<String> ops = List.of(
                "create " + ws.resolve("allowed"),
                "write " + ws.resolve(".envrc"),
                "write " + ws.resolve("sub/.envrc"),
                "write " + ws.resolve(".gitmodules"),
                "unlink " + ws.resolve(".envrc"),
                "rename " + ws.resolve("allowed") + " " + ws.resolve(".envrc"),
                "rename " + ws.resolve(".gitmodules") + " " + ws.resolve("gm"),
                "mkdir " + ws.resolve(".vscode/x"),
                "write " + ws.resolve(".vscode/tasks.json"),
                "rmdir " + ws.resolve(".vscode"),
                "symlink /tmp " + ws.resolve(".idea/workspace.xml"),
                "rename " + ws.resolve(".idea") + " " + ws.resolve("idea"),
                "write " + ws.resolve(".git/config"),
                "create " + ws.resolve(".git/hooks/pre-commit"),
                "rename " + ws.resolve(".git") + " " + ws.resolve("moved"),
                "rename " + ws.resolve("sub") + " " + ws.resolve("sub2"),
                "umount " + ws.resolve(".envrc"),
                "umount " + ws.resolve(".idea"),
                "lstat " + ws.resolve(".envrc"),
                "list " + ws.resolve(".idea"));
        FsProbe.Result r = FsProbe.run(transactional().build(), ops.toArray(String[]::new));
        r.expect(ops.get(0), "ok");
        List<String> expected = List.of("EROFS", "EROFS", "EROFS", "EBUSY", "EBUSY", "EBUSY",
                "EROFS", "EROFS", "EBUSY", "EROFS", "EBUSY", "EROFS", "EROFS", "EBUSY", "EBUSY",
                "EPERM", "EPERM");
        for (int i = 0; i < expected.size(); i++) {
            r.expect(ops.get(i + 1), expected.get(i));
        }
        assertTrue(r.get(ops.get(18)).startsWith("ok 100644 "), r.output().toString());
        r.expect(ops.get(19), "ok ");
        CommitResult c = r.output().result().commit().orElseThrow();
        assertTrue(c.complete(), c::toString);
        assertEquals(List.of(), c.skipped(), c::toString);
        assertEquals(1, c.filesWritten(), c::toString);
        try (var s = Files.list(workspace)) {
            assertEquals(List.of(".git", "allowed", "sub"),
                    s.map(x -> x.getFileName().toString()).sorted().toList());
        }
        try (var s = Files.list(workspace.resolve("sub"))) {
            assertEquals(0, s.count());
        }
        assertEquals(gitBefore, HostTree.snapshot(git.getParent()));
        assertEquals(subTime, Files.getLastModifiedTime(workspace.resolve("sub")),
                "the directory that held a placeholder keeps its time through the commit");
    }

    /**
     * A placeholder another sandbox left on the host (marked, empty: its monitor was killed,
     * or it is still running) is covered as it is, and a transactional step never removes it:
     * that is left to a direct sandbox (ProtectedPathsTest).
     */
    @Test
    void anotherSandboxsPlaceholderIsCoveredAndLeftAsItIs() throws Exception {
        Path envrc = Files.createFile(workspace.resolve(".envrc"));
        UserDefinedFileAttributeView xattrs = Files.getFileAttributeView(envrc,
                UserDefinedFileAttributeView.class);
        try {
            xattrs.write("stockade.placeholder", ByteBuffer.wrap("1".getBytes(
                    StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            assumeTrue(false, "no user extended attributes on the workspace's filesystem: " + e);
        }
        Map<String, String> before = hostState();
        FsProbe.Result r = FsProbe.run(transactional().build(),
                "create " + workspace.resolve("allowed"),
                "write " + envrc,
                "unlink " + envrc);
        r.expect("create " + workspace.resolve("allowed"), "ok");
        r.expect("write " + envrc, "EROFS");
        r.expect("unlink " + envrc, "EBUSY");
        CommitResult c = r.output().result().commit().orElseThrow();
        assertTrue(c.complete(), c::toString);
        assertEquals(List.of(), c.skipped(), c::toString);
        Files.delete(workspace.resolve("allowed"));
        Map<String, String> after = hostState();
        after.remove("times of ");
        before.remove("times of ");
        assertEquals(before, after, "the left-over placeholder is still there, unchanged");
        assertTrue(Files.exists(envrc, LinkOption.NOFOLLOW_LINKS));
    }
}
