package dev.stockade;

import dev.stockade.internal.TreeDeleter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Workspaces for a step: {@link #temporary()} makes a fresh private directory that is deleted
 * when the step is done.
 */
public final class Workspaces {

    /** The prefix of a temporary workspace's name under {@code java.io.tmpdir}. */
    public static final String TEMPORARY_PREFIX = "stockade-workspace-";

    private Workspaces() {}

    /**
     * A new empty directory under {@code java.io.tmpdir}, mode 0700, owned by the caller, for
     * one step; {@link TemporaryWorkspace#close()} deletes it. A root caller's is owned by root:
     * the sandbox writes it through the idmapped bind a root caller's workspace gets, so nothing
     * needs a chown, and nobody but root and the sandbox can enter it.
     *
     * @return the workspace, named {@link #TEMPORARY_PREFIX} and a random suffix; the caller
     *     closes it
     * @throws IOException when the directory cannot be created
     */
    public static TemporaryWorkspace temporary() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
        Path dir = Files.createTempDirectory(tmp, TEMPORARY_PREFIX,
                PosixFilePermissions.asFileAttribute(ownerOnly));
        // The umask only takes bits away; a umask that takes the owner's would leave a
        // directory the sandbox cannot use.
        Files.setPosixFilePermissions(dir, ownerOnly);
        return new TemporaryWorkspace(dir, TreeDeleter.identity(dir));
    }
}
