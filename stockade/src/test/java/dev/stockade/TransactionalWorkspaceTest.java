package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertContains;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.CommitResult.Reason;
import dev.stockade.CommitResult.Skipped;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.SandboxUser;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transactional workspace: the step's writes, renames and deletions reach the workspace only
 * when committed, as a copy that follows no symbolic link; a failed, killed or timed-out step
 * leaves it exactly as it was (the whole tree: types, modes, owners, contents, link targets).
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(300)
class TransactionalWorkspaceTest {

    /**
     * Changes of every kind the upper layer records: a new file, an appended one, a chmod, a
     * rename of a file and of a lower directory (EXDEV in the overlay, mv copies and deletes), a
     * deleted file and directory (whiteouts), a directory deleted and made again (opaque), a
     * directory replaced by a file and a file by a directory, a link replaced, a name with a
     * newline, a hard link (two files after the commit), an empty directory, a mode-0 file.
     */
    private static final String CHANGES = String.join("\n",
            "set -e",
            "echo new > new.txt",
            "echo more >> a.txt",
            "chmod 600 sub/b.txt",
            "mv sub/b.txt sub/b-renamed.txt",
            "mv tree moved-tree",
            "rm gone.txt",
            "rm -r doomed",
            "rm -r opaque && mkdir opaque && echo only > opaque/only.txt",
            "rm -r dir-to-file && echo now-a-file > dir-to-file",
            "rm file-to-dir && mkdir file-to-dir && echo inside > file-to-dir/x",
            "rm link && ln -s new.txt link",
            "echo nl > \"$(printf 'new\\nline')\"",
            "ln new.txt hard.txt",
            "mkdir -p empty/deeper",
            "echo secret > zero && chmod 000 zero",
            "");

    @TempDir
    Path workspace;

    @TempDir
    Path scratch;

    private void plant(Path root) throws Exception {
        Files.setPosixFilePermissions(root, Files.getPosixFilePermissions(workspace));
        Files.writeString(root.resolve("a.txt"), "alpha\n");
        Files.writeString(root.resolve("gone.txt"), "gone\n");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/b.txt"), "beta\n");
        Files.createDirectories(root.resolve("tree/deep"));
        Files.writeString(root.resolve("tree/deep/c.txt"), "gamma\n");
        Files.createDirectories(root.resolve("doomed/inner"));
        Files.writeString(root.resolve("doomed/inner/d.txt"), "delta\n");
        Files.createDirectories(root.resolve("opaque"));
        Files.writeString(root.resolve("opaque/old.txt"), "old\n");
        Files.createDirectories(root.resolve("dir-to-file"));
        Files.writeString(root.resolve("dir-to-file/e.txt"), "epsilon\n");
        Files.writeString(root.resolve("file-to-dir"), "file\n");
        Files.createSymbolicLink(root.resolve("link"), Path.of("a.txt"));
        Files.copy(Path.of("/bin/true"), root.resolve("tool"));
        Files.setPosixFilePermissions(root.resolve("tool"),
                PosixFilePermissions.fromString("rwxr-x---"));
    }

    private SandboxPolicy.Builder transactional() {
        return SandboxPolicy.builder().workspace(workspace)
                .workspaceMode(WorkspaceMode.TRANSACTIONAL);
    }

    private Output step(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(Sandbox.command("/bin/bash", "-c", script).policy(policy)
                .directory(workspace));
    }

    @Test
    void aStepThatFailsLeavesTheWorkspaceExactlyAsItWas() throws Exception {
        plant(workspace);
        Map<String, String> before = HostTree.snapshot(workspace);
        Output out = step(transactional().build(), CHANGES + "\nls -a >/dev/null\nexit 1");
        assertEquals(1, out.exitCode(), out::toString);
        assertEquals(before, HostTree.snapshot(workspace));
        assertTrue(out.result().commit().isEmpty());
        assertTrue(out.result().limitHit().isEmpty());
    }

    @Test
    void aStepThatSucceedsLeavesExactlyItsChanges() throws Exception {
        plant(workspace);
        Path expected = Files.createDirectory(scratch.resolve("expected"));
        plant(expected);
        assertEquals(0, SandboxTesting.runOnHost(new ProcessBuilder("/bin/bash", "-c", CHANGES)
                .directory(expected.toFile())).exitCode());
        // The sandbox saw the changes while it ran.
        Output out = step(transactional().build(), CHANGES + "\ncat opaque/only.txt; ls opaque");
        assertExitedZero(out);
        assertEquals("only\nonly.txt\n", out.stdout());
        assertEquals("0", mode(workspace.resolve("zero")));
        assertEquals(HostTree.snapshot(readable(expected)), HostTree.snapshot(readable(workspace)));
        CommitResult c = out.result().commit().orElseThrow();
        assertTrue(c.complete(), c::toString);
        assertEquals(List.of(), c.skipped());
        // new.txt, a.txt, b-renamed.txt, moved-tree/deep/c.txt, only.txt, dir-to-file, x,
        // "new\nline", hard.txt, zero
        assertEquals(10, c.filesWritten(), c::toString);
        assertEquals(1, Files.getAttribute(workspace.resolve("new.txt"), "unix:nlink"));
    }

    /** The step's mode-0 file made readable (to its owner) for the snapshot. */
    private static Path readable(Path root) throws Exception {
        Files.setPosixFilePermissions(root.resolve("zero"), PosixFilePermissions.fromString(
                "rw-------"));
        return root;
    }

    @Test
    void aManualCommitAppliesTheChangesWhenTheCallerAsks() throws Exception {
        plant(workspace);
        Map<String, String> before = HostTree.snapshot(workspace);
        Path expected = Files.createDirectory(scratch.resolve("expected"));
        plant(expected);
        assertEquals(0, SandboxTesting.runOnHost(new ProcessBuilder("/bin/bash", "-c", CHANGES)
                .directory(expected.toFile())).exitCode());
        SandboxPolicy policy = transactional().commitOn(CommitOn.MANUAL).build();
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c", CHANGES + "exit 3")
                .policy(policy).directory(workspace).start()) {
            assertEquals(3, p.waitFor());
            assertEquals(before, HostTree.snapshot(workspace), "nothing before commit()");
            assertTrue(p.result().commit().isEmpty());
            CommitResult c = p.commit();
            assertTrue(c.complete(), c::toString);
            assertSame(c, p.commit());
        }
        assertEquals("0", mode(workspace.resolve("zero")));
        assertEquals(HostTree.snapshot(readable(expected)), HostTree.snapshot(readable(workspace)));
    }

    @Test
    void discardedChangesCannotBeCommittedLater() throws Exception {
        plant(workspace);
        Map<String, String> before = HostTree.snapshot(workspace);
        SandboxPolicy policy = transactional().commitOn(CommitOn.MANUAL).build();
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c", CHANGES)
                .policy(policy).directory(workspace).start()) {
            assertEquals(0, p.waitFor());
            p.discard();
            IllegalStateException e = assertThrows(IllegalStateException.class, p::commit);
            assertEquals("commit(): the changes were discarded", e.getMessage());
        }
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void aKilledOrTimedOutStepLeavesTheWorkspaceUntouched() throws Exception {
        plant(workspace);
        Map<String, String> before = HostTree.snapshot(workspace);
        SandboxPolicy policy = transactional().build();
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c",
                CHANGES + "echo ready; exec sleep 1000").policy(policy).directory(workspace)
                .start()) {
            byte[] ready = p.getInputStream().readNBytes(6);
            assertEquals("ready\n", new String(ready));
            p.destroyForcibly();
            SandboxResult r = p.result();
            assertTrue(r.killed(), r::toString);
            assertTrue(r.commit().isEmpty());
        }
        assertEquals(before, HostTree.snapshot(workspace));

        Output timedOut = step(transactional().timeout(Duration.ofSeconds(2)).build(),
                CHANGES + "exec sleep 1000");
        assertTrue(timedOut.result().timedOut(), timedOut::toString);
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void writingPastTheQuotaIsEnospcInsideAndADiskLimitHit() throws Exception {
        Files.writeString(workspace.resolve("keep.txt"), "keep\n");
        Map<String, String> before = HostTree.snapshot(workspace);
        SandboxPolicy policy = transactional().workspaceQuota(1024 * 1024).build();
        // The allowed case first: half the quota fits, and is committed.
        Output fits = step(policy, "head -c 524288 /dev/zero > half.bin");
        assertExitedZero(fits);
        assertEquals(524288, Files.size(workspace.resolve("half.bin")));
        assertTrue(fits.result().limitHit().isEmpty(), fits::toString);
        Files.delete(workspace.resolve("half.bin"));

        Output out = step(policy, "head -c 2097152 /dev/zero > big.bin");
        assertEquals(1, out.exitCode(), out::toString);
        assertContains(out.stderr(), "head: error writing 'standard output': No space left on"
                + " device");
        assertEquals(LimitHit.DISK, out.result().limitHit().orElseThrow(), out::toString);
        assertEquals(before, HostTree.snapshot(workspace));

        // A step that ignores the failed write and exits 0 is not committed on its word.
        Output ignored = step(policy, "head -c 2097152 /dev/zero > big.bin; echo x > x.txt;"
                + " exit 0");
        assertExitedZero(ignored);
        assertEquals(LimitHit.DISK, ignored.result().limitHit().orElseThrow());
        assertTrue(ignored.result().commit().isEmpty());
        assertEquals(before, HostTree.snapshot(workspace));
    }

    /**
     * The quota filled and a process OOM-killed in one step that still exits 0: the result
     * names MEMORY (it killed), and the full upper layer still keeps the commit back.
     */
    @Test
    void aFullQuotaKeepsTheCommitBackWhenAnotherLimitIsTheOneNamed() throws Exception {
        ProbeReport probe = Sandbox.probe();
        assumeTrue(probe.cgroupDelegation(), "no usable cgroup: " + probe.cgroupReason());
        Map<String, String> before = HostTree.snapshot(workspace);
        SandboxPolicy policy = transactional().workspaceQuota(1024 * 1024)
                .limits(Limits.builder().memoryBytes(128L << 20).build()).build();
        Output out = step(policy, "head -c 2097152 /dev/zero > big.bin; echo x > x.txt;"
                + " python3 -c 'b = bytearray(1 << 30)'; exit 0");
        assertExitedZero(out);
        assertEquals(LimitHit.MEMORY, out.result().limitHit().orElseThrow(), out::toString);
        assertTrue(out.result().commit().isEmpty(), out::toString);
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void runningOutOfTheQuotasInodesIsADiskLimitHitToo() throws Exception {
        Map<String, String> before = HostTree.snapshot(workspace);
        // 1 MiB: the floor of 1024 inodes (the root, upper and work directories take three).
        SandboxPolicy policy = transactional().workspaceQuota(1024 * 1024).build();
        Output out = step(policy, "for i in $(seq 1 1100); do : > f$i || exit 7; done");
        assertEquals(7, out.exitCode(), out::toString);
        assertContains(out.stderr(), "No space left on device");
        assertEquals(LimitHit.DISK, out.result().limitHit().orElseThrow(), out::toString);
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void aSparseFileLargerThanTheQuotaRefusesTheWholeCommit() throws Exception {
        Files.writeString(workspace.resolve("keep.txt"), "keep\n");
        Map<String, String> before = HostTree.snapshot(workspace);
        SandboxPolicy policy = transactional().workspaceQuota(1024 * 1024).build();
        Output out = step(policy, "echo a > a.txt && truncate -s 10G sparse && du -k sparse");
        assertExitedZero(out);
        assertEquals("0\tsparse\n", out.stdout(), "sparse in the upper tmpfs");
        CommitResult c = out.result().commit().orElseThrow();
        assertFalse(c.complete());
        assertEquals("the changes were not applied: sparse is 10737418240 bytes (sparse or"
                + " not), over the 1048576 bytes a commit writes (2 planned before it)",
                c.failure().orElseThrow());
        assertEquals(List.of("a.txt"), c.notApplied());
        assertEquals(0, c.filesWritten());
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void symbolicLinksTheStepMakesAreCommittedAsLinksNeverFollowed() throws Exception {
        Path outside = Files.createDirectory(scratch.resolve("outside"));
        Files.createDirectories(workspace.resolve("d"));
        Files.writeString(workspace.resolve("d/f.txt"), "f\n");
        Output out = step(transactional().build(), String.join("\n",
                "ln -s /etc x",
                "ln -s ../../outside y",
                "rm -r d && ln -s " + outside + " d",
                "echo pwned > x/passwd; echo \"x: $?\"",
                "echo pwned > y/file; echo \"y: $?\"",
                "echo pwned > d/file; echo \"d: $?\"",
                "exit 0"));
        assertExitedZero(out);
        // Inside, each link led into the read-only view or nowhere.
        assertContains(out.stdout(), "x: 1");
        assertContains(out.stdout(), "y: 1");
        assertContains(out.stdout(), "d: 1");
        assertTrue(out.result().commit().orElseThrow().complete());
        assertEquals(Path.of("/etc"), Files.readSymbolicLink(workspace.resolve("x")));
        assertEquals(Path.of("../../outside"), Files.readSymbolicLink(workspace.resolve("y")));
        assertEquals(outside, Files.readSymbolicLink(workspace.resolve("d")));
        assertEquals(List.of(), Files.list(outside).toList());
        assertFalse(Files.readString(Path.of("/etc/passwd")).contains("pwned"));
    }

    @Test
    void aLinkInTheWorkspaceIsReplacedNotFollowed() throws Exception {
        Path outside = Files.createDirectory(scratch.resolve("outside"));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.createSymbolicLink(workspace.resolve("esc"), outside);
        Output out = step(transactional().build(),
                "rm esc && mkdir esc && echo pwned > esc/f && ln -s /etc esc/etc");
        assertExitedZero(out);
        assertTrue(out.result().commit().orElseThrow().complete());
        assertTrue(Files.isDirectory(workspace.resolve("esc"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("pwned\n", Files.readString(workspace.resolve("esc/f")));
        assertEquals(List.of(), Files.list(outside).toList());
    }

    @Test
    void aLinkPlantedBeforeAManualCommitIsReplacedNotFollowed() throws Exception {
        Path outside = Files.createDirectory(scratch.resolve("outside"));
        Files.createDirectories(workspace.resolve("sub"));
        SandboxPolicy policy = transactional().commitOn(CommitOn.MANUAL).build();
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c",
                "echo a > a.txt && echo new > sub/new.txt && echo z > z.txt").policy(policy)
                .directory(workspace).start()) {
            assertEquals(0, p.waitFor());
            // Someone swaps the directory for a link to elsewhere before the commit.
            Files.delete(workspace.resolve("sub"));
            Files.createSymbolicLink(workspace.resolve("sub"), outside);
            CommitResult c = p.commit();
            assertTrue(c.complete(), c::toString);
            assertEquals(3, c.filesWritten());
            assertEquals(1, c.deleted(), "the link");
        }
        assertTrue(Files.isDirectory(workspace.resolve("sub"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("new\n", Files.readString(workspace.resolve("sub/new.txt")));
        assertEquals(List.of(), Files.list(outside).toList());
    }

    @Test
    void hardLinksOutOfTheWorkspaceFailAndInsideOnesBecomeCopies() throws Exception {
        Files.writeString(workspace.resolve("a.txt"), "alpha\n");
        Output out = step(transactional().build(),
                "ln /etc/hostname h 2>&1; echo \"outside: $?\"; ln a.txt b.txt && echo b >> b.txt");
        assertExitedZero(out);
        assertContains(out.stdout(), "Invalid cross-device link");
        assertContains(out.stdout(), "outside: 1");
        assertEquals("alpha\nb\n", Files.readString(workspace.resolve("a.txt")));
        assertEquals("alpha\nb\n", Files.readString(workspace.resolve("b.txt")));
        assertEquals(1, Files.getAttribute(workspace.resolve("a.txt"), "unix:nlink"));
        assertFalse(Files.exists(workspace.resolve("h")));
    }

    @Test
    void aFileHardLinkedOutOfTheWorkspaceIsReplacedNeverWrittenThrough() throws Exception {
        Path outside = Files.writeString(scratch.resolve("outside.txt"), "outside\n");
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.createLink(workspace.resolve("hl"), outside);
        Output out = step(transactional().build(), "echo changed > hl && cat hl");
        assertExitedZero(out);
        assertEquals("changed\n", out.stdout());
        assertTrue(out.result().commit().orElseThrow().complete());
        assertEquals("changed\n", Files.readString(workspace.resolve("hl")));
        assertEquals("outside\n", Files.readString(outside));
        assertEquals(1, Files.getAttribute(outside, "unix:nlink"));
    }

    @Test
    void changesDeeperThanTheBoundRefuseTheWholeCommit() throws Exception {
        Map<String, String> before = HostTree.snapshot(workspace);
        Output out = step(transactional().build(),
                "echo a > a.txt; for i in $(seq 1 300); do mkdir d && cd d || exit 9; done");
        assertExitedZero(out);
        CommitResult c = out.result().commit().orElseThrow();
        assertContains(c.failure().orElseThrow(), "the changes were not applied: the changes"
                + " are deeper than 256 directories at d/d/");
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void fifosAndSocketsAreSkippedAndSetIdBitsStripped() throws Exception {
        SandboxPolicy policy = transactional().allowSetIdFiles(true).build();
        Output out = step(policy, String.join("\n",
                "set -e",
                "mkfifo pipe",
                "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'",
                "cp /bin/true suid && chmod 6755 suid && stat -c %a suid",
                "mkdir sgid && chmod 2775 sgid",
                "mknod dev c 1 3 2>/dev/null && echo made-dev || echo no-dev",
                "mknod wh c 0 0 2>/dev/null && echo made-whiteout || echo no-whiteout"));
        assertExitedZero(out);
        assertEquals("6755\nno-dev\nno-whiteout\n", out.stdout(), "set-id inside the upper layer;"
                + " no device node, no whiteout of the step's own");
        CommitResult c = out.result().commit().orElseThrow();
        assertTrue(c.complete(), c::toString);
        assertEquals(List.of(new Skipped("pipe", Reason.FIFO), new Skipped("sock", Reason.SOCKET)),
                c.skipped());
        assertFalse(Files.exists(workspace.resolve("pipe"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(workspace.resolve("sock"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("755", mode(workspace.resolve("suid")));
        assertEquals("2775", mode(workspace.resolve("sgid")), "a directory keeps set-group-ID");
    }

    @Test
    void protectedPathsStayProtectedAndAreNeverCommitted() throws Exception {
        Files.createDirectories(workspace.resolve(".git"));
        Files.writeString(workspace.resolve(".git/config"), "[core]\n");
        Map<String, String> gitBefore = HostTree.snapshot(workspace.resolve(".git"));
        Output out = step(transactional().build(),
                "echo x > .git/config; echo \"git: $?\"; echo ok > ok.txt");
        assertExitedZero(out);
        assertContains(out.stdout(), "git: 1");
        assertTrue(out.result().commit().orElseThrow().complete());
        assertEquals(gitBefore, HostTree.snapshot(workspace.resolve(".git")));
        assertEquals("ok\n", Files.readString(workspace.resolve("ok.txt")));
    }

    @Test
    void aRootCallersNewEntriesBelongToTheWorkspacesOwner() throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), "only a root caller's commit changes owners");
        Files.writeString(workspace.resolve("old.txt"), "old\n");
        for (Path p : List.of(workspace, workspace.resolve("old.txt"))) {
            Files.setAttribute(p, "unix:uid", 4321, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", 4322, LinkOption.NOFOLLOW_LINKS);
        }
        Output out = step(transactional().build(),
                "echo new > new.txt && mkdir d && ln -s new.txt l && echo more >> old.txt");
        assertExitedZero(out);
        assertTrue(out.result().commit().orElseThrow().complete());
        for (String name : List.of("new.txt", "d", "l", "old.txt")) {
            Path p = workspace.resolve(name);
            assertEquals(List.of(4321, 4322), List.of(
                    Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                    Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)), name);
        }
        assertEquals("old\nmore\n", Files.readString(workspace.resolve("old.txt")));
    }

    @Test
    void aQuotaNeedsATransactionalWorkspace() {
        PolicyException e = assertThrows(PolicyException.class, () -> SandboxPolicy.builder()
                .workspace(workspace).workspaceQuota(1 << 20).build());
        assertEquals(List.of("workspaceQuota needs workspaceMode(TRANSACTIONAL): a direct"
                + " workspace is the host directory itself, whose writes cannot be bounded"),
                e.problems());
        PolicyException none = assertThrows(PolicyException.class, () -> SandboxPolicy.builder()
                .workspaceMode(WorkspaceMode.TRANSACTIONAL).build());
        assertEquals(List.of("workspaceMode(TRANSACTIONAL) needs a workspace"), none.problems());
        PolicyException pid = assertThrows(PolicyException.class, () -> transactional()
                .disable(Namespace.PID).build());
        assertEquals(List.of("workspaceMode(TRANSACTIONAL) needs the PID namespace: without it a"
                + " process of the step can outlive it and keep changing what is committed"),
                pid.problems());
        assertEquals(SandboxPolicy.DEFAULT_WORKSPACE_QUOTA_BYTES,
                transactional().build().workspaceQuotaBytes());
    }

    private static String mode(Path p) throws Exception {
        return Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode",
                LinkOption.NOFOLLOW_LINKS) & 07777);
    }
}
