package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.FsProbe;
import dev.stockade.testing.SandboxTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a mount lands in the view is checked at {@code build()}, against the host as it is
 * then: a mount point is made only in the view's root or a tmpfs, never inside a host tree the
 * view shows, never through a symbolic link, and a directory is mounted only on a directory.
 * Each refusal is one problem saying what to do instead; the allowed cases run.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class MountPlacementTest {

    private static final long SIZE = 1 << 20;

    @TempDir
    Path workspace;

    private static List<String> problems(SandboxPolicy.Builder b) {
        return assertThrows(PolicyException.class, b::build).problems();
    }

    @Test
    void mountPointsInTheRootATmpfsOrAnExistingDirectoryAreAllowed() throws Exception {
        Files.createDirectory(workspace.resolve("cache"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .tmpfs(Path.of("/opt-made/deep"), SIZE)      // made in the view's root
                .tmpfs(Path.of("/tmp/made/here"), SIZE)      // made in the /tmp tmpfs
                .tmpfs(workspace.resolve("cache"), SIZE)      // exists in the workspace
                .build();
        FsProbe.Result r = FsProbe.run(policy, "list /opt-made", "list /tmp/made",
                "list " + workspace.resolve("cache"));
        r.expect("list /opt-made", "ok deep");
        r.expect("list /tmp/made", "ok here");
        r.expect("list " + workspace.resolve("cache"), "ok "); // empty
        assertFalse(Files.exists(Path.of("/opt-made")), "nothing was made on the host");
    }

    @Test
    void aMountPointMissingInAHostTreeIsRefused() {
        Path missing = workspace.resolve("not-there");
        assertEquals(List.of("mount target " + missing + " does not exist in " + workspace
                + ", a host directory the view shows, and is not made there (that would change"
                + " the host): make " + missing + " on the host, or mount somewhere else (tmpfs "
                + missing + " (" + SIZE + " bytes))"),
                problems(SandboxPolicy.builder().workspace(workspace).tmpfs(missing, SIZE)));
        assertEquals(List.of("mount target /usr/stockade-not-there does not exist in /usr, a host"
                + " directory the view shows, and is not made there (that would change the host):"
                + " make /usr/stockade-not-there on the host, or mount somewhere else (tmpfs"
                + " /usr/stockade-not-there (" + SIZE + " bytes))"),
                problems(SandboxPolicy.builder().tmpfs(Path.of("/usr/stockade-not-there"), SIZE)));
        assertFalse(Files.exists(missing));
    }

    @Test
    void aMountThroughALinkOfTheViewOrOfTheHostIsRefused(@TempDir Path elsewhere)
            throws Exception {
        // /bin is the view's merged-/usr link where the host has one; /lib64 likewise.
        Path link = Files.isSymbolicLink(Path.of("/bin")) ? Path.of("/bin") : Path.of("/lib64");
        String to = Files.readSymbolicLink(link).toString();
        Path target = link.resolve("x");
        assertEquals(List.of("mount target " + target + " goes through the view's symbolic link "
                + link + " -> " + to + ", which is never followed: give "
                + link.getParent().resolve(to).resolve("x").normalize() + " (tmpfs " + target
                + " (" + SIZE + " bytes))"),
                problems(SandboxPolicy.builder().tmpfs(target, SIZE)));

        Path planted = workspace.resolve("out");
        Files.createSymbolicLink(planted, elsewhere);
        Path through = planted.resolve("sub");
        assertEquals(List.of("mount target " + through + " goes through the symbolic link "
                + planted + " in " + workspace + ", which is never followed (tmpfs " + through
                + " (" + SIZE + " bytes))"),
                problems(SandboxPolicy.builder().workspace(workspace).tmpfs(through, SIZE)));
    }

    @Test
    void aMountInsideProcIsRefused() {
        assertEquals(List.of("mount target /proc/sys is inside /proc, the sandbox's own procfs,"
                + " where nothing can be mounted (tmpfs /proc/sys (" + SIZE + " bytes))"),
                problems(SandboxPolicy.builder().tmpfs(Path.of("/proc/sys"), SIZE)));
    }

    @Test
    void aDirectoryGoesOnADirectoryAndAFileOnAFile(@TempDir Path source) throws Exception {
        Path file = Files.writeString(workspace.resolve("file"), "x");
        Path dir = Files.createDirectory(workspace.resolve("dir"));
        Path sourceFile = Files.writeString(source.resolve("data"), "y");
        // The allowed case: a file on a file.
        SandboxPolicy ok = SandboxPolicy.builder().workspace(workspace)
                .bindReadOnly(sourceFile, file).build();
        FsProbe.run(ok, "read " + file).expect("read " + file, "ok 1 "
                + dev.stockade.testing.HostTree.sha256(sourceFile));

        assertEquals(List.of("mount target " + file + " is not a directory in " + workspace
                + ", but tmpfs " + file + " (" + SIZE + " bytes) needs a directory",
                "mount target " + dir + " is a directory in " + workspace + ", but bind-ro "
                        + sourceFile + " -> " + dir + " needs a file"),
                problems(SandboxPolicy.builder().workspace(workspace).tmpfs(file, SIZE)
                        .bindReadOnly(sourceFile, dir)));
    }

    @Test
    void aLinkIsNotMadeInsideAHostTree() throws Exception {
        Path existing = Files.createDirectory(workspace.resolve("existing"));
        assertEquals(List.of("symbolic link " + existing + " would replace " + existing + " in "
                + workspace + ": a link is made only in the view's root or a tmpfs (symlink "
                + existing + " -> elsewhere)"),
                problems(SandboxPolicy.builder().workspace(workspace)
                        .mount(Mount.symlink(existing, "elsewhere"))));
    }
}
