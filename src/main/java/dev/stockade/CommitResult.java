package dev.stockade;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's commit applied to
 * the host directory, what it left out and why.
 *
 * <p>Every destination is resolved from a descriptor of the workspace without following any
 * symbolic link or crossing a mount point (a link the step or anyone made, in the workspace or
 * in the changes, is created as a link, never followed); files and links are written under a
 * temporary name and renamed into place; modes are kept without the set-user-ID and
 * set-group-ID bits; modification times are kept; a root caller's new entries get the
 * workspace directory's owner (as a direct workspace's writes do); extended attributes and ACLs
 * are not carried, and hard links become separate files. FIFOs, sockets and device
 * nodes are not carried ({@link #skipped()}), nor anything at a protected path. The changes are
 * checked in full before anything is applied: more bytes than the quota (sparse files and hard
 * links count their full size for each name) or more entries than the upper layer's inodes
 * refuse the commit as a whole ({@link #failure()}, nothing applied).
 *
 * @param filesWritten regular files written (new or replaced)
 * @param bytesWritten their bytes
 * @param directoriesCreated directories made
 * @param symlinksCreated symbolic links made (new or replaced)
 * @param deleted entries removed (a deleted directory counts once)
 * @param skipped entries not carried, in the order met
 * @param failure why the commit stopped; empty when it completed
 * @param notApplied when it stopped: the changes not applied, in the order they would have
 *     been (the one that failed first), at most {@link #MAX_LISTED}
 */
public record CommitResult(long filesWritten, long bytesWritten, long directoriesCreated,
        long symlinksCreated, long deleted, List<Skipped> skipped, Optional<String> failure,
        List<String> notApplied) {

    /** At most this many skipped or not applied entries are listed. */
    public static final int MAX_LISTED = 1000;

    /** Copies the lists. */
    public CommitResult {
        skipped = List.copyOf(skipped);
        Objects.requireNonNull(failure, "failure");
        notApplied = List.copyOf(notApplied);
    }

    /** Whether every change (but the skipped entries) was applied. */
    public boolean complete() {
        return failure.isEmpty();
    }

    /** Why an entry of the changes was not carried to the workspace. */
    public enum Reason {
        /** A FIFO: opening one could block the commit, and it is no build output. */
        FIFO,
        /** A UNIX socket. */
        SOCKET,
        /** A device node (other than the overlay's whiteouts). */
        DEVICE,
        /** At or under one of {@link SandboxPolicy#protectedPaths()}. */
        PROTECTED
    }

    /**
     * One entry not carried.
     *
     * @param path relative to the workspace (its name's bytes as text)
     * @param reason why
     */
    public record Skipped(String path, Reason reason) {
        /** Checks the fields. */
        public Skipped {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
