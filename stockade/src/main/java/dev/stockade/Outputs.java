package dev.stockade;

import dev.stockade.internal.OutputCollector;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Copies a step's declared outputs out of its workspace, safely against whatever the step left
 * there. The globs use {@link java.nio.file.FileSystem#getPathMatcher glob syntax} on paths
 * relative to the workspace ({@code "out/**"}, {@code "*.jar"}, {@code "build/{libs,docs}/*"}).
 *
 * <p>Only regular files are copied. The walk starts from an open descriptor of the workspace
 * and looks every entry up with {@code openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_XDEV)} and {@code O_NOFOLLOW}: a symbolic link is reported, never followed (a link
 * to {@code /etc/passwd}, a directory link {@code out/sub -> ../..} alike), a mount point is not
 * entered, and nothing outside the workspace is read. Each entry is first examined through an
 * {@code O_PATH} descriptor (FIFOs, sockets and devices are reported without being opened),
 * then a regular file is opened {@code O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY} and must
 * still be the same regular file (device and inode) to be read. A file whose size would pass
 * the byte bound is skipped without being read, so a sparse 1 GiB file costs nothing.
 *
 * <p>Files are created under the destination at their workspace-relative path, with
 * {@code O_CREAT | O_EXCL | O_NOFOLLOW} (an existing entry is never replaced nor written
 * through) and the source's permission bits masked with 0755 (no set-id bit, no write for
 * others). The destination must not lie inside the workspace, nor the workspace inside it.
 *
 * <p>Instances are immutable: {@link #maxFiles(long)} and {@link #maxBytes(long)} return copies.
 */
public final class Outputs {

    /** How many files a collection copies at most unless {@link #maxFiles(long)} says otherwise. */
    public static final long DEFAULT_MAX_FILES = 10_000;

    /**
     * How many bytes a collection copies at most, over all files, unless
     * {@link #maxBytes(long)} says otherwise: 512 MiB.
     */
    public static final long DEFAULT_MAX_BYTES = 512L * 1024 * 1024;

    private final List<String> globs;
    private final long maxFiles;
    private final long maxBytes;

    private Outputs(List<String> globs, long maxFiles, long maxBytes) {
        this.globs = globs;
        this.maxFiles = maxFiles;
        this.maxBytes = maxBytes;
    }

    /**
     * Copies what {@code globs} match in {@code workspace} into {@code into}, with the default
     * bounds: {@code Outputs.matching(globs).collect(workspace, into)}.
     *
     * @param workspace the step's workspace, whose content is read
     * @param globs the outputs, glob patterns relative to the workspace; at least one
     * @param into the destination directory, created when missing
     * @return what was copied and what was skipped
     * @throws IllegalArgumentException when there is no glob, a glob is empty, absolute, has
     *     an empty, {@code .} or {@code ..} component or bad syntax, or when {@code into} and
     *     {@code workspace} overlap
     * @throws IOException when the workspace cannot be opened or the destination not written
     *     (an entry that cannot be copied is skipped and listed, not thrown)
     */
    public static CollectedOutputs collect(Path workspace, List<String> globs, Path into)
            throws IOException {
        return matching(globs).collect(workspace, into);
    }

    /**
     * A collection of what {@code globs} match, with the default bounds
     * ({@link #DEFAULT_MAX_FILES}, {@link #DEFAULT_MAX_BYTES}).
     *
     * @param globs glob patterns relative to the workspace ({@code "out/**"}); at least one
     * @return the collection, to {@link #collect(Path, Path) collect} with
     * @throws IllegalArgumentException when there is no glob, or a glob is empty, absolute,
     *     has an empty, {@code .} or {@code ..} component ({@code out//x}, {@code ./out}), or is
     *     not valid glob syntax
     * @throws NullPointerException when {@code globs} or one of them is {@code null}
     */
    public static Outputs matching(String... globs) {
        return matching(List.of(globs));
    }

    /**
     * As {@link #matching(String...)}, the globs given as a list (copied).
     *
     * @param globs glob patterns relative to the workspace ({@code "out/**"}); at least one
     * @return the collection, to {@link #collect(Path, Path) collect} with
     * @throws IllegalArgumentException when there is no glob, or a glob is empty, absolute,
     *     has an empty, {@code .} or {@code ..} component, or is not valid glob syntax
     * @throws NullPointerException when {@code globs} or one of them is {@code null}
     */
    public static Outputs matching(List<String> globs) {
        List<String> copy = List.copyOf(globs);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("no output glob given");
        }
        for (String glob : copy) {
            checkGlob(glob);
        }
        return new Outputs(copy, DEFAULT_MAX_FILES, DEFAULT_MAX_BYTES);
    }

    /**
     * The same collection copying at most {@code files} files (1 or more); further matching
     * files are skipped with {@link CollectedOutputs.Reason#OVER_FILE_LIMIT}.
     *
     * @param files the most files to copy; {@link #DEFAULT_MAX_FILES} unless set
     * @return a copy of this collection with that bound
     * @throws IllegalArgumentException when {@code files} is less than 1
     */
    public Outputs maxFiles(long files) {
        if (files < 1) {
            throw new IllegalArgumentException("maxFiles must be at least 1, got " + files);
        }
        return new Outputs(globs, files, maxBytes);
    }

    /**
     * The same collection copying at most {@code bytes} bytes over all files (0 or more); a
     * file that would pass the bound is skipped with
     * {@link CollectedOutputs.Reason#OVER_BYTE_LIMIT}, smaller ones after it are still copied.
     *
     * @param bytes the most bytes to copy over all files; {@link #DEFAULT_MAX_BYTES} unless set
     * @return a copy of this collection with that bound
     * @throws IllegalArgumentException when {@code bytes} is negative
     */
    public Outputs maxBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0, got " + bytes);
        }
        return new Outputs(globs, maxFiles, bytes);
    }

    /**
     * The globs this collection copies.
     *
     * @return the globs as given, in their order; unmodifiable and never empty
     */
    public List<String> globs() {
        return globs;
    }

    /**
     * The file bound.
     *
     * @return the most files a collection copies, 1 or more ({@link #DEFAULT_MAX_FILES}
     *     unless {@link #maxFiles(long)} set it)
     */
    public long maxFiles() {
        return maxFiles;
    }

    /**
     * The byte bound.
     *
     * @return the most bytes a collection copies over all files, 0 or more
     *     ({@link #DEFAULT_MAX_BYTES} unless {@link #maxBytes(long)} set it)
     */
    public long maxBytes() {
        return maxBytes;
    }

    /**
     * Copies what the globs match in {@code workspace} into {@code into} (created when missing).
     *
     * @param workspace the step's workspace, whose content is read
     * @param into the destination directory, created when missing
     * @return what was copied and what was skipped (an entry that cannot be copied is skipped
     *     and listed there, not thrown)
     * @throws NullPointerException when {@code workspace} or {@code into} is {@code null}
     * @throws IllegalArgumentException when {@code into} lies inside {@code workspace} or
     *     {@code workspace} inside {@code into}
     * @throws IOException when the workspace cannot be opened or the destination not written
     */
    public CollectedOutputs collect(Path workspace, Path into) throws IOException {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(into, "into");
        return OutputCollector.collect(workspace, globs, maxFiles, maxBytes, into);
    }

    private static void checkGlob(String glob) {
        Objects.requireNonNull(glob, "glob");
        if (glob.isEmpty()) {
            throw new IllegalArgumentException("empty output glob");
        }
        if (glob.startsWith("/")) {
            throw new IllegalArgumentException("output glob " + glob + " is absolute: globs"
                    + " are relative to the workspace (out/**)");
        }
        for (String component : glob.split("/", -1)) {
            if (component.equals("..") || component.equals(".") || component.isEmpty()) {
                throw new IllegalArgumentException("output glob " + glob + " has a '"
                        + component + "' component: globs name paths inside the workspace,"
                        + " normalized (out/**, not ./out/** or out/../x)");
            }
        }
        // Bad syntax (an unclosed '[' or '{') is an IllegalArgumentException here, once.
        FileSystems.getDefault().getPathMatcher("glob:" + glob);
    }
}
