package dev.stockade;

import java.util.List;
import java.util.Objects;

/**
 * What {@link Outputs} copied out of a workspace and what it left there, and why.
 *
 * @param collected the regular files copied, in the order they were copied (directories in
 *     name order, depth first)
 * @param skipped the entries a glob matched (or that stood where a glob had to look) that were
 *     not copied, at most {@link #MAX_SKIPPED_LISTED}
 * @param skippedNotListed how many more entries were skipped than {@code skipped} lists
 */
public record CollectedOutputs(List<Collected> collected, List<Skipped> skipped,
        long skippedNotListed) {

    /**
     * At most this many skipped entries are listed; the rest are only counted, so a step
     * cannot make the result (and a report of it) arbitrarily large with a million FIFOs.
     */
    public static final int MAX_SKIPPED_LISTED = 1000;

    /**
     * Copies the lists; {@code skippedNotListed} must not be negative.
     *
     * @param collected the regular files copied, in the order they were copied
     * @param skipped the entries not copied that are listed
     * @param skippedNotListed how many more entries were skipped than {@code skipped} lists
     * @throws NullPointerException when a list or an element of one is {@code null}
     * @throws IllegalArgumentException when {@code skippedNotListed} is negative
     */
    public CollectedOutputs {
        collected = List.copyOf(collected);
        skipped = List.copyOf(skipped);
        if (skippedNotListed < 0) {
            throw new IllegalArgumentException("skippedNotListed must be >= 0");
        }
    }

    /**
     * How many files were copied.
     *
     * @return the size of {@link #collected()}
     */
    public long fileCount() {
        return collected.size();
    }

    /**
     * How many bytes were copied, over all files.
     *
     * @return the sum of the {@link Collected#bytes()} of {@link #collected()}
     */
    public long byteCount() {
        return collected.stream().mapToLong(Collected::bytes).sum();
    }

    /**
     * How many entries were skipped, listed or not.
     *
     * @return the size of {@link #skipped()} plus {@link #skippedNotListed()}
     */
    public long skippedCount() {
        return skipped.size() + skippedNotListed;
    }

    /**
     * One file copied.
     *
     * @param path its path relative to the workspace, which is also where it is under the
     *     destination ({@code out/a.txt})
     * @param bytes how many bytes were copied
     */
    public record Collected(String path, long bytes) {
        /**
         * Checks the fields.
         *
         * @param path its path relative to the workspace
         * @param bytes how many bytes were copied
         * @throws NullPointerException when {@code path} is {@code null}
         * @throws IllegalArgumentException when {@code bytes} is negative
         */
        public Collected {
            Objects.requireNonNull(path, "path");
            if (bytes < 0) {
                throw new IllegalArgumentException("bytes must be >= 0");
            }
        }
    }

    /**
     * One entry not copied.
     *
     * @param path its path relative to the workspace
     * @param reason why it was not copied
     * @param detail the particulars, to follow {@link Reason#description()} in a message
     *     ({@code "to /etc/passwd, not followed"}, the size and what is left of the bound, the
     *     errno)
     */
    public record Skipped(String path, Reason reason, String detail) {
        /**
         * Checks the fields.
         *
         * @param path its path relative to the workspace
         * @param reason why it was not copied
         * @param detail the particulars that follow the reason's description in a message
         * @throws NullPointerException when any of them is {@code null}
         */
        public Skipped {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /** Why an entry was not copied. None of these is ever opened for reading. */
    public enum Reason {
        /** A symbolic link: never followed, wherever it points (it stays in the workspace). */
        SYMLINK("symbolic link"),
        /** A FIFO: opening it could block, reading it reads whoever writes it. */
        FIFO("FIFO"),
        /** A UNIX socket: not a file's content. */
        SOCKET("socket"),
        /** A character or block device node. */
        DEVICE("device"),
        /**
         * The kernel refused the lookup as leaving the workspace (EXDEV from
         * {@code openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV)}): a mount point inside the
         * workspace (another filesystem's content), or a directory moved out during the walk.
         */
        ESCAPES_WORKSPACE("outside the workspace"),
        /** Copying it would have gone over the byte bound; it was not read (or not kept). */
        OVER_BYTE_LIMIT("over the byte limit"),
        /** The file bound was reached before it. */
        OVER_FILE_LIMIT("over the file limit"),
        /** It could not be opened or read (permissions, a name too long). */
        UNREADABLE("unreadable"),
        /**
         * It changed between being examined and being opened (another inode, another type,
         * a directory on its path replaced by a symbolic link).
         */
        CHANGED("changed during collection"),
        /** The destination already has an entry at that path; it is never replaced. */
        ALREADY_EXISTS("already in the destination"),
        /** Its name's bytes are no text in this JVM's file name charset. */
        UNREPRESENTABLE_NAME("name not representable");

        private final String description;

        Reason(String description) {
            this.description = description;
        }

        /**
         * A short phrase for messages, which {@link Skipped#detail()} follows.
         *
         * @return the phrase, lower case: {@code "symbolic link"}, {@code "over the byte limit"}
         */
        public String description() {
            return description;
        }
    }
}
