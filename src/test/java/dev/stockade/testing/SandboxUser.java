package dev.stockade.testing;

import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host user a sandbox runs as: the caller itself, or uid/gid 65534 when the caller is root
 * (a root caller's command never acts as host root, not even through a writable bind). Tests
 * that let the command write a directory they created hand it to that user first.
 */
public final class SandboxUser {
    /** The host uid and gid of a root caller's sandbox. */
    public static final int ROOT_CALLER_HOST_ID = 65534;

    private SandboxUser() {}

    public static boolean callerIsRoot() {
        NativeLoader.ensureLoaded();
        return NativeBridge.getuid() == 0;
    }

    /** The host uid files written by the sandbox belong to. */
    public static int hostUid() {
        return callerIsRoot() ? ROOT_CALLER_HOST_ID : NativeBridge.getuid();
    }

    /** The host gid files written by the sandbox belong to. */
    public static int hostGid() {
        return callerIsRoot() ? ROOT_CALLER_HOST_ID : NativeBridge.getgid();
    }

    /**
     * Makes {@code dir} (created by this test, so owned by the caller) the sandbox's host
     * user's, as a user running Stockade as root must do for a workspace; a no-op for an
     * unprivileged caller, who owns it already. Returns {@code dir}.
     */
    public static Path owns(Path dir) throws IOException {
        if (callerIsRoot()) {
            Files.setAttribute(dir, "unix:uid", ROOT_CALLER_HOST_ID);
            Files.setAttribute(dir, "unix:gid", ROOT_CALLER_HOST_ID);
        }
        return dir;
    }
}
