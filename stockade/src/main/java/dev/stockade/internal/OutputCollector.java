package dev.stockade.internal;

import dev.stockade.CollectedOutputs;
import dev.stockade.CollectedOutputs.Collected;
import dev.stockade.CollectedOutputs.Reason;
import dev.stockade.CollectedOutputs.Skipped;
import dev.stockade.internal.NativeBridge.NativeException;
import dev.stockade.internal.SafeFiles.Kind;
import dev.stockade.internal.SafeFiles.Stat;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The walk behind {@link dev.stockade.Outputs}: see its class comment for the guarantees.
 *
 * <p>Every entry is looked up by its whole workspace-relative path from the workspace's own
 * descriptor, never from a descriptor of its directory: a directory the step (or anyone)
 * renames out of the workspace mid-walk is then simply not found, instead of being walked
 * where it went. Directories are listed and closed before their entries are looked at, so no
 * descriptors pile up with depth; depth is bounded by PATH_MAX (ENAMETOOLONG: unreadable).
 * Only directories a glob can match below are entered.
 */
public final class OutputCollector {

    private static final int COPY_BUFFER = 64 * 1024;
    private static final int CREATED_FILE_MODE_MASK = 0755;
    private static final int CREATED_FILE_MODE_MIN = 0600;
    private static final int CREATED_DIRECTORY_MODE = 0755;

    private final List<Glob> globs;
    private final long maxFiles;
    private final long maxBytes;
    private final int workspaceFd;
    private final int intoFd;
    private final List<Collected> collected = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private long skippedNotListed;
    private long bytes;

    private OutputCollector(List<Glob> globs, long maxFiles, long maxBytes, int workspaceFd,
            int intoFd) {
        this.globs = globs;
        this.maxFiles = maxFiles;
        this.maxBytes = maxBytes;
        this.workspaceFd = workspaceFd;
        this.intoFd = intoFd;
    }

    /**
     * Copies what {@code globs} (already checked by {@link dev.stockade.Outputs}) match.
     *
     * @throws IllegalArgumentException when {@code into} and {@code workspace} overlap
     */
    public static CollectedOutputs collect(Path workspace, List<String> globs, long maxFiles,
            long maxBytes, Path into) throws IOException {
        NativeLoader.ensureLoaded();
        Path ws = workspace.toAbsolutePath().normalize();
        Path destination = into.toAbsolutePath().normalize();
        refuseOverlap(ws, destination, workspace, into);
        Path realWorkspace = ws.toRealPath();
        // Checked before anything is created: a destination reached through a link must not
        // get even its directories made inside the workspace.
        refuseOverlap(realWorkspace, realOfExisting(destination), workspace, into);
        Files.createDirectories(destination);
        Path realInto = destination.toRealPath();
        refuseOverlap(realWorkspace, realInto, workspace, into);

        List<Glob> compiled = globs.stream().map(Glob::new).toList();
        int workspaceFd = NativeBridge.openat2(NativeBridge.AT_FDCWD,
                SafeFiles.bytes(realWorkspace), SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, 0);
        try {
            int intoFd = NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(realInto),
                    SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, 0);
            try {
                OutputCollector walk = new OutputCollector(compiled, maxFiles, maxBytes,
                        workspaceFd, intoFd);
                walk.directory(new byte[0], "", List.of());
                return new CollectedOutputs(walk.collected, walk.skipped,
                        walk.skippedNotListed);
            } finally {
                NativeBridge.close(intoFd);
            }
        } finally {
            NativeBridge.close(workspaceFd);
        }
    }

    /** {@code path} with its longest existing ancestor replaced by that ancestor's real path. */
    private static Path realOfExisting(Path path) throws IOException {
        Path existing = path;
        while (existing.getParent() != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing.toRealPath().resolve(existing.relativize(path));
    }

    private static void refuseOverlap(Path ws, Path destination, Path workspace, Path into) {
        if (destination.startsWith(ws) || ws.startsWith(destination)) {
            throw new IllegalArgumentException("output destination " + into
                    + (destination.startsWith(ws) ? " lies inside the workspace " + workspace
                            : " contains the workspace " + workspace)
                    + ": collect into a directory outside it");
        }
    }

    /** Walks the directory at {@code path} (bytes and text; both empty for the workspace). */
    private void directory(byte[] path, String text, List<String> components)
            throws IOException {
        List<byte[]> names;
        try {
            int fd = NativeBridge.openat2(workspaceFd, path.length == 0 ? SafeFiles.SELF : path,
                    SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY | SafeFiles.O_NOFOLLOW, 0,
                    SafeFiles.BENEATH);
            try {
                names = SafeFiles.names(fd);
            } finally {
                NativeBridge.close(fd);
            }
        } catch (NativeException e) {
            if (path.length == 0) {
                throw e; // the workspace itself: nothing can be collected
            }
            skipAfterLookup(text, e);
            return;
        }
        names.sort(Comparator.comparing(SafeFiles::show));
        for (byte[] name : names) {
            entry(SafeFiles.child(path, name), name, text, components);
        }
    }

    private void entry(byte[] path, byte[] name, String parentText, List<String> parent)
            throws IOException {
        String decoded = SafeFiles.decode(name);
        String shown = decoded != null ? decoded : SafeFiles.show(name);
        String text = parentText.isEmpty() ? shown : parentText + "/" + shown;
        List<String> components = new ArrayList<>(parent);
        components.add(shown);
        boolean matches = matches(text);
        boolean onTheWay = mayContainMatches(components);
        if (!matches && !onTheWay) {
            return;
        }
        if (decoded == null) {
            skip(text, Reason.UNREPRESENTABLE_NAME, "its name's bytes are not "
                    + SafeFiles.nameCharset().name() + " text");
            return;
        }
        Stat stat;
        byte[] linkTarget = null;
        try {
            int fd = NativeBridge.openat2(workspaceFd, path, SafeFiles.O_PATH
                    | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
            try {
                stat = Stat.of(fd);
                if (stat.kind() == Kind.SYMLINK) {
                    linkTarget = NativeBridge.readlinkat(fd, new byte[0]);
                }
            } finally {
                NativeBridge.close(fd);
            }
        } catch (NativeException e) {
            skipAfterLookup(text, e);
            return;
        }
        switch (stat.kind()) {
            case DIRECTORY -> {
                if (onTheWay) {
                    directory(path, text, components);
                }
            }
            case SYMLINK -> skip(text, Reason.SYMLINK, "to "
                    + SafeFiles.show(linkTarget) + ", not followed");
            case REGULAR -> {
                if (matches) {
                    copy(path, text, components, stat);
                }
            }
            case FIFO -> skipIf(matches, text, Reason.FIFO, "not opened");
            case SOCKET -> skipIf(matches, text, Reason.SOCKET, "not opened");
            case CHARACTER_DEVICE -> skipIf(matches, text, Reason.DEVICE,
                    "character device, not opened");
            case BLOCK_DEVICE -> skipIf(matches, text, Reason.DEVICE,
                    "block device, not opened");
            default -> throw new IllegalStateException(stat.kind().toString());
        }
    }

    private void copy(byte[] path, String text, List<String> components, Stat examined)
            throws IOException {
        if (collected.size() >= maxFiles) {
            skip(text, Reason.OVER_FILE_LIMIT, maxFiles + " files collected already");
            return;
        }
        if (overBytes(text, examined.size())) {
            return;
        }
        int in;
        try {
            in = NativeBridge.openat2(workspaceFd, path, SafeFiles.O_RDONLY
                    | SafeFiles.O_NONBLOCK | SafeFiles.O_NOFOLLOW | SafeFiles.O_NOCTTY, 0,
                    SafeFiles.BENEATH);
        } catch (NativeException e) {
            skipAfterLookup(text, e);
            return;
        }
        try (InputStream source = new FileInputStream(NativeBridge.newFileDescriptor(in))) {
            Stat opened = Stat.of(in);
            if (opened.kind() != Kind.REGULAR || !opened.sameFile(examined)) {
                skip(text, Reason.CHANGED, "was a regular file (inode " + examined.ino()
                        + "), opened as " + opened.kind() + " inode " + opened.ino());
                return;
            }
            if (overBytes(text, opened.size())) {
                return;
            }
            write(source, text, components, opened);
        }
    }

    /** Skips the file when {@code size} more bytes would pass the byte bound. */
    private boolean overBytes(String text, long size) {
        long left = maxBytes - bytes;
        if (size > left) {
            skip(text, Reason.OVER_BYTE_LIMIT, size + " bytes, " + left + " of " + maxBytes
                    + " left");
            return true;
        }
        return false;
    }

    private void write(InputStream source, String text, List<String> components, Stat opened)
            throws IOException {
        int parentFd = destinationDirectory(text, components);
        if (parentFd < 0) {
            return;
        }
        byte[] name = SafeFiles.bytes(components.get(components.size() - 1));
        try {
            int out;
            try {
                out = NativeBridge.openat2(parentFd, name, SafeFiles.O_WRONLY | SafeFiles.O_CREAT
                        | SafeFiles.O_EXCL | SafeFiles.O_NOFOLLOW, (opened.permissions()
                        & CREATED_FILE_MODE_MASK) | CREATED_FILE_MODE_MIN, SafeFiles.BENEATH);
            } catch (NativeException e) {
                if (e.errno() == SafeFiles.EEXIST) {
                    skip(text, Reason.ALREADY_EXISTS, "the destination has an entry there;"
                            + " not replaced");
                    return;
                }
                throw e;
            }
            long copied;
            try (OutputStream sink = new FileOutputStream(NativeBridge.newFileDescriptor(out))) {
                copied = transfer(source, sink, text, maxBytes - bytes);
            } catch (IOException | RuntimeException e) {
                NativeBridge.unlinkat(parentFd, name, 0);
                throw e;
            }
            if (copied < 0) {
                NativeBridge.unlinkat(parentFd, name, 0);
                return;
            }
            bytes += copied;
            collected.add(new Collected(text, copied));
        } finally {
            NativeBridge.close(parentFd);
        }
    }

    /**
     * Copies at most {@code left} bytes; -1 (and the entry skipped) when the source has more
     * (it grew after fstat) or cannot be read. A failure to write is thrown.
     */
    private long transfer(InputStream source, OutputStream sink, String text, long left)
            throws IOException {
        byte[] buffer = new byte[COPY_BUFFER];
        long copied = 0;
        while (true) {
            int n;
            try {
                n = source.read(buffer, 0, (int) Math.min(buffer.length, left - copied + 1));
            } catch (IOException e) {
                skip(text, Reason.UNREADABLE, String.valueOf(e.getMessage()));
                return -1;
            }
            if (n < 0) {
                return copied;
            }
            if (copied + n > left) {
                skip(text, Reason.OVER_BYTE_LIMIT, "grew past the " + left
                        + " bytes left of " + maxBytes + " while being copied");
                return -1;
            }
            sink.write(buffer, 0, n);
            copied += n;
        }
    }

    /**
     * The destination directory for {@code components}' parent, created as needed, each level
     * opened without following a link; -1 (and the entry skipped) when a non-directory is in
     * the way.
     */
    private int destinationDirectory(String text, List<String> components) throws IOException {
        int current = NativeBridge.duplicate(intoFd, 0);
        for (String component : components.subList(0, components.size() - 1)) {
            byte[] name = SafeFiles.bytes(component);
            try {
                try {
                    NativeBridge.mkdirat(current, name, CREATED_DIRECTORY_MODE);
                } catch (NativeException e) {
                    if (e.errno() != SafeFiles.EEXIST) {
                        throw e;
                    }
                }
                int next = NativeBridge.openat2(current, name, SafeFiles.O_PATH
                        | SafeFiles.O_DIRECTORY | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
                NativeBridge.close(current);
                current = next;
            } catch (NativeException e) {
                SafeFiles.closeQuietly(current, e);
                if (e.errno() == SafeFiles.ENOTDIR || e.errno() == SafeFiles.ELOOP) {
                    skip(text, Reason.ALREADY_EXISTS, "the destination has a non-directory at "
                            + component + "; not replaced");
                    return -1;
                }
                throw e;
            }
        }
        return current;
    }

    /** Skips an entry whose lookup or open failed, for the reason its errno gives. */
    private void skipAfterLookup(String text, NativeException e) {
        String message = Errno.message(e.errno());
        switch (e.errno()) {
            case SafeFiles.EXDEV -> skip(text, Reason.ESCAPES_WORKSPACE,
                    "the lookup leaves the workspace (a mount point, or moved out): " + message);
            case SafeFiles.ENOENT, SafeFiles.ELOOP, SafeFiles.ENOTDIR -> skip(text,
                    Reason.CHANGED, "no longer there as listed: " + message);
            default -> skip(text, Reason.UNREADABLE, Errno.name(e.errno()) + ": " + message);
        }
    }

    private void skipIf(boolean matches, String text, Reason reason, String detail) {
        if (matches) {
            skip(text, reason, detail);
        }
    }

    private void skip(String text, Reason reason, String detail) {
        if (skipped.size() < CollectedOutputs.MAX_SKIPPED_LISTED) {
            skipped.add(new Skipped(text, reason, detail));
        } else {
            skippedNotListed++;
        }
    }

    private boolean matches(String text) {
        Path relative = Path.of(text);
        for (Glob glob : globs) {
            if (glob.matcher.matches(relative)) {
                return true;
            }
        }
        return false;
    }

    private boolean mayContainMatches(List<String> directory) {
        for (Glob glob : globs) {
            if (glob.mayContainMatches(directory)) {
                return true;
            }
        }
        return false;
    }

    /** One glob: its matcher, and which directories can hold a path it matches. */
    private static final class Glob {
        private final PathMatcher matcher;
        private final List<String> components;
        private final int literal;
        private final boolean anyDepth;

        Glob(String glob) {
            matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            components = Arrays.asList(glob.split("/"));
            int k = 0;
            while (k < components.size() && !hasMeta(components.get(k))) {
                k++;
            }
            literal = k;
            anyDepth = glob.contains("**");
        }

        private static boolean hasMeta(String component) {
            for (char c : component.toCharArray()) {
                if ("*?[{\\".indexOf(c) >= 0) {
                    return true;
                }
            }
            return false;
        }

        /** Whether a path this glob matches can lie below {@code directory}. */
        boolean mayContainMatches(List<String> directory) {
            int common = Math.min(directory.size(), literal);
            for (int i = 0; i < common; i++) {
                if (!directory.get(i).equals(components.get(i))) {
                    return false;
                }
            }
            if (directory.size() < literal) {
                return true;
            }
            boolean wildcard = literal < components.size();
            return wildcard && (anyDepth || directory.size() < components.size());
        }
    }
}
