package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.CommitResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WorkspaceCommit#apply} on descriptors made here rather than passed by the helper: it
 * reads only a tmpfs directory as the upper layer, and commits only into a workspace directory
 * opened before (whose path still names it).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkspaceCommitTest {

    private static final Path SHM = Path.of("/dev/shm");

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    private static int openPath(Path p) throws NativeBridge.NativeException {
        return NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(p),
                SafeFiles.O_PATH | SafeFiles.O_NOFOLLOW, 0, 0);
    }

    private static CommitResult commit(int upper, int workspaceFd, Path workspace) {
        return WorkspaceCommit.apply(upper, workspaceFd, workspace, NativeBridge.getuid() != 0,
                1 << 20, List.of());
    }

    private static boolean shmIsTmpfs() throws Exception {
        if (!Files.isDirectory(SHM) || !Files.isWritable(SHM)) {
            return false;
        }
        int fd = openPath(SHM);
        try {
            return NativeBridge.fstatfsType(fd) == WorkspaceCommit.TMPFS_MAGIC;
        } finally {
            NativeBridge.close(fd);
        }
    }

    @Test
    void theUpperLayerMustBeATmpfsDirectory(@TempDir Path workspace) throws Exception {
        assumeTrue(shmIsTmpfs(), "needs a writable tmpfs at /dev/shm for the allowed case");
        Path layer = Files.createTempDirectory(SHM, "stockade-upper-");
        int ws = WorkspaceCommit.openWorkspace(workspace);
        try {
            Files.writeString(layer.resolve("a"), "x");
            // The allowed case: a tmpfs directory.
            int upper = openPath(layer);
            try {
                CommitResult c = commit(upper, ws, workspace);
                assertTrue(c.complete(), c::toString);
                assertEquals("x", Files.readString(workspace.resolve("a")));
            } finally {
                NativeBridge.close(upper);
            }
            Files.delete(workspace.resolve("a"));
            // A tmpfs file, and a directory on another filesystem (procfs): nothing is read.
            int file = openPath(layer.resolve("a"));
            int proc = openPath(Path.of("/proc"));
            try {
                assertEquals(Optional.of("the changes were not applied: the upper layer passed"
                        + " is not a tmpfs directory (REGULAR, filesystem type 0x1021994)"),
                        commit(file, ws, workspace).failure());
                assertEquals(Optional.of("the changes were not applied: the upper layer passed"
                        + " is not a tmpfs directory (DIRECTORY, filesystem type 0x9fa0)"),
                        commit(proc, ws, workspace).failure());
            } finally {
                NativeBridge.close(file);
                NativeBridge.close(proc);
            }
            try (var names = Files.list(workspace)) {
                assertEquals(0, names.count());
            }
        } finally {
            NativeBridge.close(ws);
            Files.deleteIfExists(layer.resolve("a"));
            Files.delete(layer);
        }
    }

    @Test
    void aWorkspaceNotOpenedAtTheStartIsNeverCommittedInto(@TempDir Path workspace)
            throws Exception {
        assumeTrue(shmIsTmpfs(), "needs a writable tmpfs at /dev/shm for the upper layer");
        Path layer = Files.createTempDirectory(SHM, "stockade-upper-");
        try {
            Files.write(layer.resolve("a"), "x".getBytes(StandardCharsets.UTF_8));
            int upper = openPath(layer);
            try {
                CommitResult c = commit(upper, -1, workspace);
                assertEquals(Optional.of("the changes were not applied: the workspace "
                        + workspace + " could not be opened when the sandbox started"),
                        c.failure());
                assertEquals(List.of("a"), c.notApplied());
                assertTrue(Files.notExists(workspace.resolve("a")));
                assertEquals(-1, WorkspaceCommit.openWorkspace(workspace.resolve("missing")));
            } finally {
                NativeBridge.close(upper);
            }
        } finally {
            Files.deleteIfExists(layer.resolve("a"));
            Files.delete(layer);
        }
    }
}
