package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxUser;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Workspaces#temporary()}: a private directory, and a delete that survives whatever a
 * step leaves in it without touching anything outside.
 */
@Timeout(120)
class TemporaryWorkspaceTest {

    private static final int DEEPER_THAN_THE_OPEN_DEPTH = 150;

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private static Object uid(Path path) throws IOException {
        return Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static void mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    private static void chmod(Path path, String permissions) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    }

    @Test
    void aTemporaryWorkspaceIsAPrivateDirectoryOfTheCallerUnderTmpdir() throws IOException {
        try (TemporaryWorkspace ws = Workspaces.temporary()) {
            Path dir = ws.path();
            assertTrue(dir.isAbsolute());
            assertEquals(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath(),
                    dir.getParent());
            assertTrue(dir.getFileName().toString().startsWith(Workspaces.TEMPORARY_PREFIX));
            assertTrue(Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS));
            assertEquals(0700, mode(dir));
            assertEquals(SandboxUser.callerIsRoot() ? 0 : SandboxUser.hostUid(), uid(dir));
            try (var entries = Files.list(dir)) {
                assertEquals(0, entries.count());
            }
        }
    }

    @Test
    void closeDeletesWhatAStepLeavesAndNothingOutside(@TempDir Path outside) throws Exception {
        Path keptFile = Files.writeString(outside.resolve("target.txt"), "survives");
        Path keptDir = Files.createDirectory(outside.resolve("target-dir"));
        Files.writeString(keptDir.resolve("inside.txt"), "survives too");
        chmod(keptDir, "r-x------");
        Path dir;
        try (TemporaryWorkspace ws = Workspaces.temporary();
                ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dir = ws.path();
            Path readOnly = Files.createDirectories(dir.resolve("out/read-only"));
            Files.writeString(readOnly.resolve("file"), "x");
            Files.createDirectory(readOnly.resolve("nested"));
            chmod(readOnly.resolve("nested"), "r-x------");
            chmod(readOnly, "r-x------");
            Path locked = Files.createDirectories(dir.resolve("locked/inner"));
            Files.writeString(locked.resolve("file"), "x");
            chmod(locked, "---------");
            chmod(dir.resolve("locked"), "--x------");
            Files.createSymbolicLink(dir.resolve("link-to-file"), keptFile);
            Files.createSymbolicLink(dir.resolve("link-to-dir"), keptDir);
            Files.createSymbolicLink(dir.resolve("out/up"), Path.of("../.."));
            mkfifo(dir.resolve("fifo"));
            socket.bind(UnixDomainSocketAddress.of(dir.resolve("sock")));
            Path deep = dir.resolve("deep");
            for (int i = 0; i < DEEPER_THAN_THE_OPEN_DEPTH; i++) {
                deep = deep.resolve("d");
            }
            Files.createDirectories(deep);
            Files.writeString(deep.resolve("bottom"), "x");
            chmod(dir, "r-x------"); // the step may chmod its workspace itself
            assertFalse(ws.kept());
        }
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS));
        assertEquals("survives", Files.readString(keptFile));
        assertEquals("survives too", Files.readString(keptDir.resolve("inside.txt")));
        assertEquals(0500, mode(keptDir), "a link's target keeps its mode");
        assertTrue(Files.exists(outside), "the parent of out/up/.. is untouched");
        chmod(keptDir, "rwx------");
    }

    /**
     * A real step in a temporary workspace, as a build would use one: its output is collected,
     * then everything it left (a read-only tree, a link to the host's /etc, a FIFO) is deleted.
     */
    @Test
    void aStepsWorkspaceIsCollectedFromAndDeleted(@TempDir Path outside) throws Exception {
        Path dir;
        Path into = outside.resolve("into");
        try (TemporaryWorkspace ws = Workspaces.temporary()) {
            dir = ws.path();
            // No hand-over for a root caller: the workspace bind is idmapped to its owner.
            SandboxPolicy policy = SandboxPolicy.builder().workspace(dir).build();
            SandboxTesting.Output out = SandboxTesting.run(policy, "/bin/sh", "-c", String.join(
                    " && ", "mkdir -p out/ro", "echo built > out/app.txt", "touch out/ro/f",
                    "chmod 500 out/ro", "ln -s /etc out/etc", "mkfifo out/fifo", "chmod 500 ."));
            assertEquals(0, out.exitCode(), out.toString());
            CollectedOutputs collected = Outputs.collect(dir, List.of("out/*"), into);
            assertEquals(List.of(new CollectedOutputs.Collected("out/app.txt", 6)),
                    collected.collected());
            assertEquals(List.of("out/etc SYMLINK", "out/fifo FIFO"), collected.skipped()
                    .stream().map(e -> e.path() + " " + e.reason()).toList());
        }
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS));
        assertEquals("built\n", Files.readString(into.resolve("out/app.txt")));
        assertTrue(Files.isRegularFile(Path.of("/etc/passwd")), "the link's target survives");
    }

    @Test
    void keepLeavesItAndClosingTwiceIsOnce() throws IOException {
        TemporaryWorkspace ws = Workspaces.temporary().keep();
        Path file = Files.writeString(ws.path().resolve("result"), "kept");
        ws.close();
        ws.close();
        assertTrue(ws.kept());
        assertEquals("kept", Files.readString(file));
        Files.delete(file);
        Files.delete(ws.path());
    }

    @Test
    void aDirectoryPutInItsPlaceIsNotDeleted() throws IOException {
        TemporaryWorkspace ws = Workspaces.temporary();
        Path dir = ws.path();
        Path moved = dir.resolveSibling(dir.getFileName() + "-moved");
        Files.move(dir, moved);
        Files.createDirectory(dir);
        Path bystander = Files.writeString(dir.resolve("bystander"), "not the step's");
        IOException e = assertThrows(IOException.class, ws::close);
        assertTrue(e.getMessage().startsWith(dir + " is no longer the directory that was"
                + " created there (now DIRECTORY inode "), e.getMessage());
        assertEquals("not the step's", Files.readString(bystander));
        Files.delete(bystander);
        Files.delete(dir);
        Files.delete(moved);
    }

    @Test
    void aWorkspaceAlreadyGoneClosesQuietly() throws IOException {
        TemporaryWorkspace ws = Workspaces.temporary();
        Files.delete(ws.path());
        ws.close();
        assertFalse(Files.exists(ws.path()));
    }

    /** What is mounted inside is not the step's: the delete stops there and says so. */
    @Test
    void aMountPointInsideIsNotEntered(@TempDir Path outside) throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), "mounting needs root");
        Path precious = Files.writeString(outside.resolve("precious"), "mounted content");
        TemporaryWorkspace ws = Workspaces.temporary();
        Path mountPoint = Files.createDirectory(ws.path().resolve("mnt"));
        assertEquals(0, new ProcessBuilder("mount", "--bind", outside.toString(),
                mountPoint.toString()).inheritIO().start().waitFor());
        try {
            IOException e = assertThrows(IOException.class, ws::close);
            assertTrue(e.getMessage().contains("Invalid cross-device link"), e.getMessage());
            assertEquals("mounted content", Files.readString(precious));
        } finally {
            assertEquals(0, new ProcessBuilder("umount", mountPoint.toString()).inheritIO()
                    .start().waitFor());
        }
        Files.delete(mountPoint);
        Files.delete(ws.path());
    }
}
