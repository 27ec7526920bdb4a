package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.SandboxPolicy;
import dev.stockade.testing.Pure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The walk of the protected paths through a workspace, for each shape it can have. */
@Pure
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

    private List<SandboxSpec.MountSpec> walk() throws SpecException {
        return ProtectedPaths.resolve(ws, SandboxPolicy.DEFAULT_PROTECTED_PATHS);
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
    void gitDirectoryWithHooksAndConfig() throws Exception {
        Files.createDirectories(ws.resolve(".git/hooks"));
        Files.writeString(ws.resolve(".git/config"), "[core]\n");
        Files.createDirectory(ws.resolve(".idea"));
        assertEquals(expect(".git", PIN, ".git/hooks", RO, ".git/config", RO,
                ".gitmodules", RO | CREATE, ".envrc", RO | CREATE, ".vscode", RO | CREATE | DIR,
                ".idea", RO), walk());
    }

    @Test
    void withoutGitNothingUnderItIsProtected() throws Exception {
        assertEquals(expect(".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR), walk());
    }

    @Test
    void missingLeavesAreMadeUncreatable() throws Exception {
        Files.createDirectory(ws.resolve(".git"));
        assertEquals(expect(".git", PIN, ".git/hooks", RO | CREATE | DIR,
                ".git/config", RO | CREATE, ".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR), walk());
    }

    @Test
    void gitdirFileInsideTheWorkspace() throws Exception {
        Files.createDirectories(ws.resolve("modules/lib.git/hooks"));
        Files.writeString(ws.resolve(".git"), "gitdir: modules/lib.git\n");
        assertEquals(expect(".git", RO, "modules", PIN, "modules/lib.git", PIN,
                "modules/lib.git/hooks", RO, "modules/lib.git/config", RO | CREATE,
                ".gitmodules", RO | CREATE, ".envrc", RO | CREATE,
                ".vscode", RO | CREATE | DIR, ".idea", RO | CREATE | DIR), walk());
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
        assertEquals("protected path .git/hooks/: .git is a symbolic link, which a read-only"
                + " mount cannot cover; remove it, or leave the path unprotected"
                + " (unprotect(\".git/hooks/\"), --unprotect .git/hooks/)",
                assertThrows(SpecException.class, this::walk).getMessage());
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
}
