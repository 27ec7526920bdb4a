package dev.stockade.testing;

import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The host user a sandbox runs as: the caller itself, or uid/gid 65534 when the caller is root
 * (a root caller's command never acts as host root). A root caller's writable binds are
 * idmapped to their source's owner, so the command writes a directory the test created as it
 * is; only with set-id files allowed are they plain binds, written as {@link #hostUid()}.
 */
public final class SandboxUser {
    /** The host uid and gid of a root caller's sandbox. */
    public static final int ROOT_CALLER_HOST_ID = 65534;

    private SandboxUser() {}

    public static boolean callerIsRoot() {
        NativeLoader.ensureLoaded();
        return NativeBridge.getuid() == 0;
    }

    /** The host uid files written by the sandbox through a plain (not idmapped) bind belong to. */
    public static int hostUid() {
        return callerIsRoot() ? ROOT_CALLER_HOST_ID : NativeBridge.getuid();
    }

    /** The host gid files written by the sandbox through a plain (not idmapped) bind belong to. */
    public static int hostGid() {
        return callerIsRoot() ? ROOT_CALLER_HOST_ID : NativeBridge.getgid();
    }

    /**
     * For a policy that allows set-id files, whose binds a root caller's command writes as host
     * uid 65534 (not idmapped: there is no set-id guard): makes {@code dir} (created by this
     * test, so root's) writable by anyone when the caller is root; a no-op otherwise. Returns
     * {@code dir}.
     */
    public static Path writableThroughPlainBinds(Path dir) throws IOException {
        if (callerIsRoot()) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        return dir;
    }
}
