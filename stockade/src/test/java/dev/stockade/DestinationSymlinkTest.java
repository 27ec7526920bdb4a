package dev.stockade;

import org.junit.jupiter.api.Tag;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.SpecException;
import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostGit;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A symbolic link the workspace holds (the previous step's doing) at a mount's destination or
 * on the way to it does not redirect the mount (the runc CVE-2021-30465 class): the start
 * fails, naming the step, and nothing on the host changes.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class DestinationSymlinkTest {

    /** ELOOP: what openat2(RESOLVE_NO_SYMLINKS) answers for a link on the way. */
    private static final int ELOOP = 40;

    @TempDir
    Path workspace;

    @TempDir
    Path source;

    private SandboxSetupException startFails(SandboxPolicy policy) {
        return assertThrows(SandboxSetupException.class,
                () -> SandboxTesting.run(policy, "/bin/true"));
    }

    @Test
    void aLinkAtABindDestinationIsNotFollowed() throws Exception {
        Files.writeString(source.resolve("data"), "bound\n");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path out = workspace.resolve("out");
        // The allowed case: with out a directory, the bind lands there.
        Files.createDirectory(out);
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .bindReadOnly(source, out).build();
        FsProbe.run(policy, "read " + out.resolve("data")).expect("read " + out.resolve("data"),
                "ok 6 " + HostTree.sha256(source.resolve("data")));

        // build() refuses the link where it sees it ...
        Files.delete(out);
        Files.createSymbolicLink(out, Path.of("/"));
        PolicyException refused = assertThrows(PolicyException.class,
                () -> policy.toBuilder().build());
        assertEquals(List.of("mount target " + out + " goes through the symbolic link " + out
                + " in " + workspace + ", which is never followed (bind-ro " + source + " -> "
                + out + ")"), refused.problems());
        // ... and a policy built before the link was planted fails at the bind, not through it.
        Map<String, String> before = HostTree.snapshot(workspace);
        Map<String, String> sourceBefore = HostTree.snapshot(source);
        SandboxSetupException e = startFails(policy);
        assertEquals(SetupStep.BIND, e.step(), e.toString());
        assertEquals(ELOOP, e.errno(), e.toString());
        assertTrue(e.detail().contains(out.toString()), e.toString());
        assertEquals(before, HostTree.snapshot(workspace));
        assertEquals(sourceBefore, HostTree.snapshot(source));
        assertFalse(Files.exists(Path.of("/data")), "nothing reached the host's /");
    }

    @Test
    void aLinkOnTheWayToATmpfsDoesNotMakeDirectoriesOnTheHost(@TempDir Path other)
            throws Exception {
        // /other is a writable bind of a host directory; the workspace's link points into it.
        // Followed, creating the tmpfs's missing mount point would make other/new on the host.
        Path otherInside = Path.of("/other");
        Path link = workspace.resolve("out");
        // The allowed case: out a directory of the workspace with new in it.
        Files.createDirectories(link.resolve("new"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .bind(other, otherInside).tmpfs(link.resolve("new"), 1 << 20).build();
        assertEquals(0, SandboxTesting.run(policy, "/bin/true").exitCode());

        // A missing mount point is never made inside a host bind (it would create other/sub on
        // the host): build() says so.
        PolicyException insideBind = assertThrows(PolicyException.class,
                () -> SandboxPolicy.builder().workspace(workspace).bind(other, otherInside)
                        .tmpfs(otherInside.resolve("sub"), 1 << 20).build());
        assertEquals(List.of("mount target /other/sub does not exist in /other (host " + other
                + "), a host directory the view shows, and is not made there (that would change"
                + " the host): make " + other.resolve("sub") + " on the host, or mount somewhere"
                + " else (tmpfs /other/sub (1048576 bytes))"), insideBind.problems());

        // The step replaced out with a link into /other after the policy was built: the start
        // fails at the tmpfs and makes nothing on the host.
        Files.delete(link.resolve("new"));
        Files.delete(link);
        Files.createSymbolicLink(link, otherInside);
        SandboxSetupException e = startFails(policy);
        assertEquals(SetupStep.TMPFS, e.step(), e.toString());
        assertEquals(ELOOP, e.errno(), e.toString());
        assertEquals(Map.of("", HostTree.describe(other)), HostTree.snapshot(other),
                "nothing was created on the host");
        assertTrue(Files.isSymbolicLink(link));
    }

    @Test
    void aMissingDestinationIsMadeInTheView() throws Exception {
        Files.writeString(source.resolve("data"), "bound\n");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxr-xr-x"));
        SandboxPolicy policy = SandboxPolicy.builder()
                .bindReadOnly(source, Path.of("/opt-jdk/deep/jdk")).build();
        FsProbe.Result r = FsProbe.run(policy, "read /opt-jdk/deep/jdk/data", "list /opt-jdk");
        r.expect("read /opt-jdk/deep/jdk/data", "ok 6 "
                + HostTree.sha256(source.resolve("data")));
        r.expect("list /opt-jdk", "ok deep");
        assertFalse(Files.exists(Path.of("/opt-jdk")));
    }

    @Test
    void aLinkAtAProtectedPathIsRefused(@TempDir Path elsewhere) throws Exception {
        HostGit.initWithCommit(workspace);
        Path hooks = workspace.resolve(".git/hooks");
        // The step replaced .git/hooks with a link to a directory of its choice.
        for (Path f : Files.list(hooks).toList()) {
            Files.delete(f);
        }
        Files.delete(hooks);
        Files.createSymbolicLink(hooks, elsewhere);
        Map<String, String> before = HostTree.snapshot(workspace);
        // A step that commits has the repository writable but its hooks and config.
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).unprotect(".git/")
                .protect(".git/hooks/", ".git/config").build();
        SpecException e = assertThrows(SpecException.class,
                () -> SandboxTesting.run(policy, "/bin/sh", "-c",
                        "echo evil > .git/hooks/pre-commit"));
        assertTrue(e.getMessage().contains(".git/hooks is a symbolic link"), e.toString());
        assertEquals(before, HostTree.snapshot(workspace));
        assertEquals(Map.of("", HostTree.describe(elsewhere)), HostTree.snapshot(elsewhere));

        // .git/config as a link to a file of the step's choice: the same.
        Files.delete(hooks);
        Path config = workspace.resolve(".git/config");
        Files.move(config, elsewhere.resolve("config"));
        Files.createSymbolicLink(config, elsewhere.resolve("config"));
        SpecException c = assertThrows(SpecException.class,
                () -> SandboxTesting.run(policy, "/bin/true"));
        assertTrue(c.getMessage().contains(".git/config is a symbolic link"), c.toString());
    }
}
