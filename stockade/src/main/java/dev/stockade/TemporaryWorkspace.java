package dev.stockade;

import dev.stockade.internal.TreeDeleter;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A private directory for one step, deleted by {@link #close()} unless {@link #keep()} was
 * called. Made by {@link Workspaces#temporary()}; use it as the policy's workspace:
 *
 * <pre>{@code
 * try (TemporaryWorkspace ws = Workspaces.temporary()) {
 *     SandboxPolicy policy = SandboxPolicy.builder().workspace(ws.path()).build();
 *     ... run the step, then Outputs.collect(ws.path(), List.of("out/**"), outputs) ...
 * }
 * }</pre>
 *
 * <p>Deleting is safe against whatever the step left: symbolic links are removed, never
 * followed (what they point to survives); FIFOs, sockets and device nodes are removed without
 * being opened; directories the step made read-only or unreadable are given mode 0700 first
 * (never through a link); a mount point inside is not entered; a tree of any depth is deleted
 * with a bounded number of open descriptors. If the path no longer names the directory that
 * was created (another inode), nothing is deleted.
 *
 * <p>Not thread-safe; close it after the step's sandbox has exited.
 */
public final class TemporaryWorkspace implements AutoCloseable {

    private final Path path;
    private final TreeDeleter.Identity identity;
    private boolean kept;
    private boolean closed;

    TemporaryWorkspace(Path path, TreeDeleter.Identity identity) {
        this.path = path;
        this.identity = identity;
    }

    /**
     * The directory, to give the policy as its workspace.
     *
     * @return the directory's absolute path, under {@code java.io.tmpdir} and named with
     *     {@link Workspaces#TEMPORARY_PREFIX}; it still names it after {@link #close()}, when
     *     the directory is gone unless kept
     */
    public Path path() {
        return path;
    }

    /**
     * Leaves the directory and its content in place at {@link #close()} (to look at what a
     * failed step left); deleting it is then the caller's business.
     *
     * @return this workspace
     */
    public TemporaryWorkspace keep() {
        kept = true;
        return this;
    }

    /**
     * Whether {@link #close()} leaves the directory in place.
     *
     * @return {@code true} when {@link #keep()} was called
     */
    public boolean kept() {
        return kept;
    }

    /**
     * Deletes the directory and everything in it, unless kept; a second call does nothing.
     *
     * @throws IOException when something in it cannot be deleted (what could be is gone), or
     *     the path names another directory than the one created
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (!kept) {
            TreeDeleter.delete(path, identity);
        }
    }
}
