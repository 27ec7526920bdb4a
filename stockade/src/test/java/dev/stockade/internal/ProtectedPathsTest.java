package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walk of the protected paths through a workspace, for each shape it can have. Not pure: a
 * {@code .git} file is read through the natives (openat2, without blocking on a FIFO).
 */
class ProtectedPathsTest {
    private static final int RO = Protocol.MOUNT_READONLY;
    private static final int CREATE = Protocol.MOUNT_CREATE;
    private static final int DIR = Protocol.MOUNT_DIRECTORY;
    private static final int PIN = 0;

    @TempDir
    Path dir;
    Path ws;

    @BeforeEach
    void workspace() throws Exception {
        ws = dir.toRealPath();
    }

    /**
     * The default list with the repository narrowed to its hooks and config, as a policy that
     * lets a step commit would have it: {@code unprotect(".git/")},
     * {@code protect(".git/hooks/", ".git/config")}.
     */
    private static final List<String> HOOKS_AND_CONFIG = List.of(".gitmodules", ".envrc",
            ".vscode/", ".idea/", ".git/hooks/", ".git/config");

    private List<SandboxSpec.MountSpec> walk() throws SpecException {
        return ProtectedPaths.resolve(ws, SandboxPolicy.DEFAULT_PROTECTED_PATHS);
    }

    private List<SandboxSpec.MountSpec> walkHooksAndConfig() throws SpecException {
        return ProtectedPaths.resolve(ws, HOOKS_AND_CONFIG);
    }

    /** Expected PROTECTs: pairs of a path relative to the workspace and flags. */
    private List<SandboxSpec.MountSpec> expect(Object... pathsAndFlags) {
        List<SandboxSpec.MountSpec> specs = new ArrayList<>();
        for (int i = 0; i < pathsAndFlags.length; i += 2) {
            String p = ws.resolve((String) pathsAndFlags[i]).toString();
            specs.add(new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT,
                    (Integer) pathsAndFlags[i + 1], 0, p, p));
        }
        return specs;
    }

    @Test
    void theRepositoryIsReadOnlyAsAWhole() throws Exception {
        Files.createDirectories(ws.resolve(".git/hooks"));
        Files.writeString(ws.resolve(".git/config"), "[core]\n");
        Files.createDirectory(ws.resolve(".idea"));
        assertEquals(expect(".git", RO, ".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR), walk());
    }

    @Test
    void withoutGitNothingUnderItIsProtected() throws Exception {
        List<SandboxSpec.MountSpec> expected = expect(".gitmodules", RO | CREATE,
                ".envrc", RO | CREATE, ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR);
        assertEquals(expected, walk());
        assertEquals(expected, walkHooksAndConfig());
    }

    @Test
    void hooksAndConfigAloneWithTheirDirectoryPinned() throws Exception {
        Files.createDirectories(ws.resolve(".git/hooks"));
        Files.writeString(ws.resolve(".git/config"), "[core]\n");
        Files.createDirectory(ws.resolve(".idea"));
        assertEquals(expect(".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR, ".git", PIN,
                ".git/hooks", RO | CREATE | DIR, ".git/config", RO | CREATE),
                walkHooksAndConfig());
    }

    @Test
    void missingLeavesAreMadeUncreatable() throws Exception {
        Files.createDirectory(ws.resolve(".git"));
        assertEquals(expect(".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR, ".git", PIN,
                ".git/hooks", RO | CREATE | DIR, ".git/config", RO | CREATE),
                walkHooksAndConfig());
    }

    @Test
    void gitdirFileInsideTheWorkspace() throws Exception {
        Files.createDirectories(ws.resolve("modules/lib.git/hooks"));
        Files.writeString(ws.resolve(".git"), "gitdir: modules/lib.git\n");
        assertEquals(expect(".git", RO, "modules", PIN, "modules/lib.git", RO | CREATE | DIR,
                ".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR), walk());
        assertEquals(expect(".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR, ".git", RO,
                "modules", PIN, "modules/lib.git", PIN,
                "modules/lib.git/hooks", RO | CREATE | DIR, "modules/lib.git/config",
                RO | CREATE), walkHooksAndConfig());
    }

    @Test
    void gitdirIsReadAsGitReadsIt() throws Exception {
        Files.createDirectories(ws.resolve("modules/lib.git"));
        List<SandboxSpec.MountSpec> followed = expect(".git", RO, "modules", PIN,
                "modules/lib.git", RO | CREATE | DIR, ".gitmodules", RO | CREATE,
                ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR);
        Files.writeString(ws.resolve(".git"), "gitdir: modules/lib.git\r\n");
        assertEquals(followed, walk());
        Files.writeString(ws.resolve(".git"), "gitdir: modules/lib.git");
        assertEquals(followed, walk());
        // git takes everything after "gitdir: " but the line end: a leading space is part of
        // the name, which names nothing here, and "gitdir:" without its space is no gitdir.
        List<SandboxSpec.MountSpec> notFollowed = expect(".git", RO, ".gitmodules", RO | CREATE,
                ".envrc", RO | CREATE, ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR);
        Files.writeString(ws.resolve(".git"), "gitdir:  modules/lib.git\n");
        assertEquals(notFollowed, walk());
        Files.writeString(ws.resolve(".git"), "gitdir:modules/lib.git\n");
        assertEquals(notFollowed, walk());
    }

    @Test
    void aGitdirThroughASymlinkFailsTheStart() throws Exception {
        Files.createDirectories(ws.resolve("real/lib.git"));
        Files.createSymbolicLink(ws.resolve("modules"), ws.resolve("real"));
        Files.writeString(ws.resolve(".git"), "gitdir: modules/lib.git\n");
        assertEquals("protected path .git: .git names " + ws.resolve("modules/lib.git")
                + ", which goes through a symbolic link (it is " + ws.resolve("real/lib.git")
                + "); remove the link, or leave the repository unprotected"
                + " (unprotect(\".git/\"), --unprotect .git/)",
                assertThrows(SpecException.class, this::walk).getMessage());
    }

    @Test
    void gitdirFileOutsideTheWorkspaceOrNamingItself() throws Exception {
        Files.writeString(ws.resolve(".git"), "gitdir: /srv/repos/x.git/worktrees/ws\n");
        List<SandboxSpec.MountSpec> outside = expect(".git", RO, ".gitmodules", RO | CREATE,
                ".envrc", RO | CREATE, ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR);
        assertEquals(outside, walk());
        Files.writeString(ws.resolve(".git"), "gitdir: ../" + ws.getFileName() + "/.git\n");
        assertEquals(outside, walk());
        Files.writeString(ws.resolve(".git"), "not a gitdir line\n");
        assertEquals(outside, walk());
    }

    @Test
    void aSymlinkedGitFailsTheStart() throws Exception {
        Files.createDirectories(ws.resolve("real-git/hooks"));
        Files.createSymbolicLink(ws.resolve(".git"), ws.resolve("real-git"));
        assertEquals("protected path .git/: .git is a symbolic link, which a read-only"
                + " mount cannot cover; remove it, or leave the path unprotected"
                + " (unprotect(\".git/\"), --unprotect .git/)",
                assertThrows(SpecException.class, this::walk).getMessage());
        assertEquals("protected path .git/hooks/: .git is a symbolic link, which a read-only"
                + " mount cannot cover; remove it, or leave the path unprotected"
                + " (unprotect(\".git/hooks/\"), --unprotect .git/hooks/)",
                assertThrows(SpecException.class, this::walkHooksAndConfig).getMessage());
    }

    @Test
    void aSymlinkedLeafFailsTheStart() throws Exception {
        Files.createSymbolicLink(ws.resolve(".envrc"), Path.of("/etc/passwd"));
        assertEquals("protected path .envrc: .envrc is a symbolic link, which a read-only"
                + " mount cannot cover; remove it, or leave the path unprotected"
                + " (unprotect(\".envrc\"), --unprotect .envrc)",
                assertThrows(SpecException.class, this::walk).getMessage());
    }

    @Test
    void whatLiesUnderAReadOnlyPathIsCoveredByIt() throws Exception {
        Files.createDirectories(ws.resolve(".git/hooks"));
        assertEquals(expect(".git", RO, ".envrc", RO | CREATE),
                ProtectedPaths.resolve(ws, List.of(".git/hooks/", ".git/", ".git/config",
                        ".envrc")));
    }

    private WorkspaceFingerprint fingerprint() throws SpecException {
        return ProtectedPaths.walk(ws, SandboxPolicy.DEFAULT_PROTECTED_PATHS).fingerprint();
    }

    @Test
    void theFingerprintIsEqualForTheSameFilesOnly() throws Exception {
        Files.createDirectories(ws.resolve(".vscode"));
        WorkspaceFingerprint before = fingerprint();
        Files.writeString(ws.resolve("unprotected.txt"), "x");
        Files.writeString(ws.resolve(".vscode/tasks.json"), "{}"); // inside, not the path
        assertEquals(before, fingerprint());

        Files.createDirectory(ws.resolve(".git"));
        WorkspaceFingerprint withGit = fingerprint();
        assertNotEquals(before, withGit);
        // The same path, another directory: not the one a mount made before covers.
        Files.move(ws.resolve(".git"), ws.resolve("old-git"));
        Files.createDirectory(ws.resolve(".git"));
        assertNotEquals(withGit, fingerprint());
    }

    @Test
    void theFingerprintHeldTakesWhatTheHelperPutAtEachCreatePath() throws Exception {
        WorkspaceFingerprint resolved = fingerprint();
        DescriptorSet held = new DescriptorSet();
        try {
            assertEquals(resolved, resolved.hold(held)); // nothing made meanwhile
            held.closeAll();
            Files.writeString(ws.resolve(".envrc"), ""); // the helper's placeholder
            WorkspaceFingerprint set = resolved.hold(held);
            assertNotEquals(resolved, set);
            assertEquals(set, fingerprint()); // a later walk finds it so
            // Removed and made again: held, the old one keeps its inode number from the new.
            Files.delete(ws.resolve(".envrc"));
            Files.writeString(ws.resolve(".envrc"), "");
            assertNotEquals(set, fingerprint());
        } finally {
            held.closeAll();
        }
    }

    @Test
    void aPathChangedBeforeItIsHeldNeverMatches() throws Exception {
        Files.createDirectory(ws.resolve(".git"));
        WorkspaceFingerprint resolved = fingerprint();
        Files.move(ws.resolve(".git"), ws.resolve("old-git"));
        Files.createDirectory(ws.resolve(".git"));
        DescriptorSet held = new DescriptorSet();
        try {
            WorkspaceFingerprint set = resolved.hold(held);
            assertNotEquals(resolved, set);
            assertNotEquals(fingerprint(), set); // the spec's .git is not this one
        } finally {
            held.closeAll();
        }
    }

    @Test
    void theFingerprintKnowsTheWorkspaceItself() throws Exception {
        Path inner = Files.createDirectory(ws.resolve("inner"));
        WorkspaceFingerprint before = ProtectedPaths.walk(inner, List.of(".envrc"))
                .fingerprint();
        Files.move(inner, ws.resolve("inner-old"));
        Files.createDirectory(inner);
        assertNotEquals(before, ProtectedPaths.walk(inner, List.of(".envrc")).fingerprint());
    }
}
