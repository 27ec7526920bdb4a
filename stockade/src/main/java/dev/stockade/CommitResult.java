package dev.stockade;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's commit applied to
 * the host directory, what it left out and why.
 *
 * <p>The commit goes into the workspace directory held open since the sandbox started; when
 * the workspace's path names another directory by then (renamed, replaced, mounted over) or
 * none, nothing is applied. Every directory on the way is opened from its parent's descriptor
 * without following any symbolic link or crossing a mount point (a link the step or anyone
 * made, in the workspace or in the changes, is created as a link, never followed). Files and
 * links are written under a temporary name and renamed into place. After an entry is made it
 * is changed only through its own descriptor, never by its name again: a file's owner, mode and
 * time are set on the descriptor it was created as, before the rename; a new directory's on the
 * descriptor opened right after {@code mkdirat} (which must be a directory this process owns);
 * a link's on an {@code O_PATH} descriptor that must be a link this process owns with one name;
 * an existing directory's on the descriptor it was opened as (the inode examined). So a name
 * swapped meanwhile (say, for a hard link to another user's file) is never what is chowned,
 * chmodded or timed. Regular files keep their mode without the set-user-ID and set-group-ID
 * bits; a new directory gets the mode the step gave it (set-group-ID included), an existing one
 * keeps its own set-id bits; modification times are kept; a root caller's new entries get the
 * workspace directory's owner (as a direct workspace's writes do); extended attributes and ACLs
 * are not carried, and hard links become separate files. FIFOs, sockets and device nodes are
 * not carried ({@link #skipped()}), nor anything at a protected path.
 *
 * <p>The changes are checked in full before anything is applied: more bytes than the quota
 * (sparse files and hard links count their full size for each name), more entries than the
 * upper layer's inodes, more than 256 directory levels, or a path longer than PATH_MAX (4096
 * bytes with its NUL, relative to the workspace) refuse the commit as a whole
 * ({@link #failure()}, nothing applied, {@link #notApplied()} the changes examined before).
 * The commit keeps nothing per change (descriptors and names along the current path only), so
 * its memory does not grow with what the step wrote. Once applying has begun, the first change
 * that fails stops it; what was applied stays (a commit is not atomic as a whole, each file and
 * link is).
 *
 * @param filesWritten regular files written (new or replaced)
 * @param bytesWritten their bytes
 * @param directoriesCreated directories made
 * @param symlinksCreated symbolic links made (new or replaced)
 * @param deleted entries removed (a deleted directory counts once)
 * @param skipped entries not carried, in the order met, at most {@link #MAX_LISTED}
 * @param failure why the commit stopped; empty when it completed
 * @param notApplied when it stopped: the changes not applied, in the order they would have
 *     been (the one that failed first), at most {@link #MAX_LISTED}; when it was refused as a
 *     whole, the changes examined before the refusal
 */
public record CommitResult(long filesWritten, long bytesWritten, long directoriesCreated,
        long symlinksCreated, long deleted, List<Skipped> skipped, Optional<String> failure,
        List<String> notApplied) {

    /** At most this many skipped or not applied entries are listed. */
    public static final int MAX_LISTED = 1000;

    /**
     * A listed path (in {@link #skipped()}, {@link #notApplied()} and {@link #failure()}) longer
     * than this many bytes is cut there and ends in {@code "..."}.
     */
    public static final int MAX_LISTED_PATH_BYTES = 1024;

    /**
     * A commit's result; the lists are copied.
     *
     * @param filesWritten regular files written
     * @param bytesWritten their bytes
     * @param directoriesCreated directories made
     * @param symlinksCreated symbolic links made
     * @param deleted entries removed
     * @param skipped entries not carried
     * @param failure why the commit stopped, or empty
     * @param notApplied the changes not applied when it stopped
     */
    public CommitResult {
        skipped = List.copyOf(skipped);
        Objects.requireNonNull(failure, "failure");
        notApplied = List.copyOf(notApplied);
    }

    /**
     * {@return whether every change (but the skipped entries) was applied} The same as an empty
     * {@link #failure()}.
     */
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
     * @param path relative to the workspace (its name's bytes as text; cut at
     *     {@link #MAX_LISTED_PATH_BYTES})
     * @param reason why
     */
    public record Skipped(String path, Reason reason) {
        /**
         * An entry not carried; neither field may be {@code null}.
         *
         * @param path relative to the workspace
         * @param reason why it was not carried
         */
        public Skipped {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
