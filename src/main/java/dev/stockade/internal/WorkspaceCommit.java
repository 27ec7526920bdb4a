package dev.stockade.internal;

import dev.stockade.CommitResult;
import dev.stockade.CommitResult.Reason;
import dev.stockade.CommitResult.Skipped;
import dev.stockade.internal.NativeBridge.NativeException;
import dev.stockade.internal.SafeFiles.Kind;
import dev.stockade.internal.SafeFiles.Stat;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Applies a transactional workspace's upper layer to the real workspace (see
 * {@link CommitResult} for the guarantees).
 *
 * <p>Why Java applies it and not the helper: the upper layer must outlive the sandbox for a
 * manual commit, and the helper ends with the sandbox; the helper passes the layer's directory
 * (an fd that keeps the detached tmpfs alive) with EXITED, and the walk is done here with one
 * system call per JNI entry, as {@link OutputCollector} and {@link TreeDeleter} do, in the
 * caller's own credentials: nothing runs with more rights than the caller has on its workspace.
 *
 * <p>The upper layer is read as overlayfs itself reads it (the mount forces redirect_dir,
 * metacopy and index off, so nothing else can be in it): a character device 0/0 is a whiteout
 * (the name was deleted), a directory whose {@code <prefix>opaque} xattr is {@code "y"} hides
 * everything the lower directory had, any other entry replaces the lower one. The prefix is the
 * one the mount used: {@code user.overlay.} where pid 1 made it (userxattr), else
 * {@code trusted.overlay.}; the other namespace is the step's own to write and means nothing.
 *
 * <p>Two passes: the whole layer is examined and bounded first (nothing is applied when it is
 * over a bound or too deep), then applied in walk order, parents before children. Every
 * destination is looked up by its whole path from the workspace's descriptor with
 * {@link SafeFiles#BENEATH}; a change that meets a symbolic link or a mount point on the way
 * stops the commit there (ELOOP, EXDEV), and the result lists what was not applied.
 */
public final class WorkspaceCommit {

    /** Directory levels examined at most: each holds a descriptor during the first pass. */
    static final int MAX_DEPTH = 256;

    private static final int COPY_BUFFER = 64 * 1024;
    private static final int SET_ID_BITS = 06000;
    private static final int OWNER_ALL = 0700;
    private static final int TEMPORARY_TRIES = 16;
    private static final String TEMPORARY = ".stockade-commit-";
    private static final byte[] SELF = {'.'};
    private static final byte[] OPAQUE = {'y'};

    /** One change, in walk order. */
    private record Change(byte[] path, Kind kind, boolean whiteout, boolean opaque, int mode,
            long size, long ino, long mtimeSec, long mtimeNsec, byte[] linkTarget,
            Set<ByteBuffer> children) {}

    private final int upperFd;
    private final byte[] xattrPrefix;
    private final long maxBytes;
    private final long maxEntries;
    private final List<byte[]> protectedPaths;
    private final List<Change> changes = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private final List<Change> directoriesToFinish = new ArrayList<>();
    private long plannedBytes;
    private long skippedTotal;
    private long filesWritten;
    private long bytesWritten;
    private long directoriesCreated;
    private long symlinksCreated;
    private long deleted;
    private long temporaries;
    private int workspaceFd = -1;
    private int ownerUid = -1;
    private int ownerGid = -1;

    private WorkspaceCommit(int upperFd, boolean userXattrs, long maxBytes, long maxEntries,
            List<String> protectedPaths) {
        this.upperFd = upperFd;
        this.xattrPrefix = SafeFiles.bytes(userXattrs ? "user.overlay." : "trusted.overlay.");
        this.maxBytes = maxBytes;
        this.maxEntries = maxEntries;
        this.protectedPaths = protectedPaths.stream().map(SafeFiles::bytes).toList();
    }

    /**
     * Applies the upper layer open at {@code upperFd} (not closed here) to {@code workspace}.
     *
     * @param userXattrs whether the overlay's own xattrs are {@code user.overlay.*}: it was
     *     made in the sandbox's user namespace (an unprivileged caller's)
     * @param quotaBytes the upper layer's size: the most bytes a commit writes
     * @param protectedPaths the policy's protected paths (relative; a trailing {@code /} for a
     *     directory): never changed
     */
    public static CommitResult apply(int upperFd, Path workspace, boolean userXattrs,
            long quotaBytes, List<String> protectedPaths) {
        long inodes = Math.max(quotaBytes / Protocol.TMPFS_BYTES_PER_INODE,
                Protocol.TMPFS_MIN_INODES);
        WorkspaceCommit c = new WorkspaceCommit(upperFd, userXattrs, quotaBytes, inodes,
                protectedPaths);
        return c.run(workspace);
    }

    private CommitResult run(Path workspace) {
        try {
            NativeLoader.ensureLoaded();
            int root = NativeBridge.openat2(upperFd, SELF, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
            try {
                examine(root, new byte[0], 0);
            } finally {
                NativeBridge.close(root);
            }
        } catch (IOException | RuntimeException e) {
            return result("the changes were not applied: " + e.getMessage(), 0, true);
        }
        int at = 0;
        try {
            workspaceFd = NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(workspace),
                    SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, NativeBridge.RESOLVE_NO_SYMLINKS);
            if (NativeBridge.getuid() == 0) {
                long[] st = NativeBridge.fstat(workspaceFd);
                ownerUid = (int) st[NativeBridge.STAT_UID];
                ownerGid = (int) st[NativeBridge.STAT_GID];
            }
            for (; at < changes.size(); at++) {
                applyOne(changes.get(at));
            }
            finishDirectories();
            return result(null, at, false);
        } catch (IOException | RuntimeException e) {
            String where = at < changes.size() ? SafeFiles.show(changes.get(at).path()) : "";
            try {
                finishDirectories();
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
            return result("stopped at " + where + ": " + e.getMessage(), at, false);
        } finally {
            SafeFiles.closeQuietly(workspaceFd, null);
        }
    }

    private CommitResult result(String failure, int stoppedAt, boolean nothingApplied) {
        List<String> notApplied = new ArrayList<>();
        if (failure != null) {
            List<Change> rest = nothingApplied ? changes : changes.subList(stoppedAt,
                    changes.size());
            for (Change c : rest) {
                if (notApplied.size() >= CommitResult.MAX_LISTED) {
                    break;
                }
                notApplied.add(SafeFiles.show(c.path()));
            }
        }
        return new CommitResult(filesWritten, bytesWritten, directoriesCreated, symlinksCreated,
                deleted, skipped, Optional.ofNullable(failure), notApplied);
    }

    // ---- first pass: the upper layer, examined and bounded ----

    private void examine(int dirFd, byte[] dirPath, int depth) throws IOException {
        if (depth >= MAX_DEPTH) {
            throw new IOException("the changes are deeper than " + MAX_DEPTH + " directories at "
                    + SafeFiles.show(dirPath));
        }
        List<byte[]> names = SafeFiles.names(dirFd);
        names.sort(Arrays::compareUnsigned);
        for (byte[] name : names) {
            byte[] path = SafeFiles.child(dirPath, name);
            if (changes.size() + skippedTotal >= maxEntries) {
                throw new IOException("more than " + maxEntries + " changed entries");
            }
            if (isProtected(path)) {
                skip(path, Reason.PROTECTED);
                continue;
            }
            examineEntry(dirFd, name, path, depth);
        }
    }

    private void examineEntry(int dirFd, byte[] name, byte[] path, int depth) throws IOException {
        int fd = NativeBridge.openat2(dirFd, name, SafeFiles.O_PATH | SafeFiles.O_NOFOLLOW, 0,
                SafeFiles.BENEATH);
        long[] st;
        byte[] link = null;
        try {
            st = NativeBridge.fstat(fd);
            if (Kind.of((int) st[NativeBridge.STAT_MODE]) == Kind.SYMLINK) {
                link = NativeBridge.readlinkat(fd, new byte[0]);
            }
        } finally {
            NativeBridge.close(fd);
        }
        int mode = (int) st[NativeBridge.STAT_MODE];
        Kind kind = Kind.of(mode);
        long size = st[NativeBridge.STAT_SIZE];
        long ino = st[NativeBridge.STAT_INO];
        long sec = st[NativeBridge.STAT_MTIME_SEC];
        long nsec = st[NativeBridge.STAT_MTIME_NSEC];
        int permissions = mode & 07777 & ~SET_ID_BITS;
        switch (kind) {
            case CHARACTER_DEVICE -> {
                if (st[NativeBridge.STAT_RDEV_MAJOR] == 0 && st[NativeBridge.STAT_RDEV_MINOR] == 0) {
                    changes.add(new Change(path, kind, true, false, 0, 0, ino, 0, 0, null, null));
                } else {
                    skip(path, Reason.DEVICE);
                }
            }
            case BLOCK_DEVICE -> skip(path, Reason.DEVICE);
            case FIFO -> skip(path, Reason.FIFO);
            case SOCKET -> skip(path, Reason.SOCKET);
            case SYMLINK -> changes.add(new Change(path, kind, false, false, 0, 0, ino, sec, nsec,
                    link, null));
            case REGULAR -> {
                if (size > maxBytes - plannedBytes) {
                    throw new IOException(SafeFiles.show(path) + " is " + size + " bytes (sparse"
                            + " or not), over the " + maxBytes + " bytes a commit writes ("
                            + plannedBytes + " planned before it)");
                }
                plannedBytes += size;
                changes.add(new Change(path, kind, false, false, permissions, size, ino, sec,
                        nsec, null, null));
            }
            case DIRECTORY -> {
                int dir = openUpperDirectory(dirFd, name, mode);
                try {
                    byte[] marker = NativeBridge.fgetxattr(dir, opaqueXattr());
                    boolean opaque = marker != null && Arrays.equals(marker, OPAQUE);
                    Set<ByteBuffer> children = null;
                    if (opaque) {
                        children = new HashSet<>();
                        for (byte[] child : SafeFiles.names(dir)) {
                            children.add(ByteBuffer.wrap(child));
                        }
                        NativeBridge.lseek(dir, 0, NativeBridge.SEEK_SET);
                    }
                    changes.add(new Change(path, kind, false, opaque, permissions, 0, ino, sec,
                            nsec, null, children));
                    examine(dir, path, depth + 1);
                } finally {
                    NativeBridge.close(dir);
                }
            }
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    private byte[] opaqueXattr() {
        byte[] name = Arrays.copyOf(xattrPrefix, xattrPrefix.length + 6);
        System.arraycopy(SafeFiles.bytes("opaque"), 0, name, xattrPrefix.length, 6);
        return name;
    }

    /**
     * A directory of the upper layer for listing; one the step made unreadable (its owner is
     * the caller, or the caller is root) gets its owner's bits first: the layer is discarded.
     */
    private static int openUpperDirectory(int dirFd, byte[] name, int mode) throws IOException {
        if ((mode & OWNER_ALL) != OWNER_ALL && NativeBridge.getuid() != 0) {
            NativeBridge.fchmodatNoFollow(dirFd, name, (mode & 07777) | OWNER_ALL);
        }
        return NativeBridge.openat2(dirFd, name, SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY
                | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
    }

    private boolean isProtected(byte[] path) {
        for (byte[] p : protectedPaths) {
            boolean directory = p.length > 0 && p[p.length - 1] == '/';
            int length = directory ? p.length - 1 : p.length;
            if (path.length < length || !Arrays.equals(path, 0, length, p, 0, length)) {
                continue;
            }
            if (path.length == length || path[length] == '/') {
                return true;
            }
        }
        return false;
    }

    private void skip(byte[] path, Reason reason) {
        skippedTotal++;
        if (skipped.size() < CommitResult.MAX_LISTED) {
            skipped.add(new Skipped(SafeFiles.show(path), reason));
        }
    }

    // ---- second pass: applied to the workspace ----

    private void applyOne(Change c) throws IOException {
        byte[] name = lastName(c.path());
        int parentFd = NativeBridge.openat2(workspaceFd, parentPath(c.path()),
                SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
        try {
            Stat existing = lookup(parentFd, name);
            if (c.whiteout()) {
                if (existing != null) {
                    remove(parentFd, name, existing);
                    deleted++;
                }
            } else if (c.kind() == Kind.DIRECTORY) {
                directory(parentFd, name, existing, c);
            } else {
                if (existing != null && existing.kind() == Kind.DIRECTORY) {
                    remove(parentFd, name, existing);
                    deleted++;
                }
                replaceWith(parentFd, name, c);
            }
        } finally {
            NativeBridge.close(parentFd);
        }
    }

    /** The entry itself (a link stays a link), or {@code null} when there is none. */
    private static Stat lookup(int parentFd, byte[] name) throws NativeException {
        try {
            return SafeFiles.lstatBeneath(parentFd, name);
        } catch (NativeException e) {
            if (e.errno() == SafeFiles.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    private static void remove(int parentFd, byte[] name, Stat existing) throws NativeException {
        if (existing.kind() == Kind.DIRECTORY) {
            TreeDeleter.deleteDirectory(parentFd, name, existing);
        } else {
            NativeBridge.unlinkat(parentFd, name, 0);
        }
    }

    /**
     * A directory of the changes: made (replacing a non-directory), or, when opaque, emptied of
     * what the step did not see. It stays writable for its owner until every change below it
     * is in; its mode and time are set last ({@link #finishDirectories}).
     */
    private void directory(int parentFd, byte[] name, Stat existing, Change c)
            throws IOException {
        if (existing != null && existing.kind() != Kind.DIRECTORY) {
            NativeBridge.unlinkat(parentFd, name, 0);
            deleted++;
            existing = null;
        }
        if (existing == null) {
            NativeBridge.mkdirat(parentFd, name, OWNER_ALL);
            directoriesCreated++;
            chown(parentFd, name);
        } else {
            NativeBridge.fchmodatNoFollow(parentFd, name, existing.permissions() | OWNER_ALL);
            if (c.opaque()) {
                emptyExcept(parentFd, name, existing, c.children());
            }
        }
        directoriesToFinish.add(c);
    }

    private void emptyExcept(int parentFd, byte[] name, Stat existing, Set<ByteBuffer> keep)
            throws IOException {
        int dir = NativeBridge.openat2(parentFd, name, SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY
                | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
        try {
            if (!Stat.of(dir).sameFile(existing)) {
                throw new IOException(SafeFiles.show(name) + " changed while being committed");
            }
            for (byte[] child : SafeFiles.names(dir)) {
                if (keep.contains(ByteBuffer.wrap(child))) {
                    continue;
                }
                Stat st = lookup(dir, child);
                if (st != null) {
                    remove(dir, child, st);
                    deleted++;
                }
            }
        } finally {
            NativeBridge.close(dir);
        }
    }

    /** A file or link under a temporary name of the same directory, renamed over {@code name}. */
    private void replaceWith(int parentFd, byte[] name, Change c) throws IOException {
        byte[] temporary;
        if (c.kind() == Kind.SYMLINK) {
            temporary = temporaryLink(parentFd, c.linkTarget());
            symlinksCreated++;
        } else {
            temporary = temporaryFile(parentFd, c);
        }
        try {
            chown(parentFd, temporary);
            if (c.kind() != Kind.SYMLINK) {
                NativeBridge.fchmodatNoFollow(parentFd, temporary, c.mode());
            }
            NativeBridge.utimensatNoFollow(parentFd, temporary, c.mtimeSec(), c.mtimeNsec());
            NativeBridge.renameatFlags(parentFd, temporary, parentFd, name, 0);
        } catch (IOException | RuntimeException e) {
            try {
                NativeBridge.unlinkat(parentFd, temporary, 0);
            } catch (NativeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        if (c.kind() == Kind.REGULAR) {
            filesWritten++;
            bytesWritten += c.size();
        }
    }

    private byte[] temporaryLink(int parentFd, byte[] target) throws NativeException {
        for (int i = 0; ; i++) {
            byte[] name = temporaryName();
            try {
                NativeBridge.symlinkat(target, parentFd, name);
                return name;
            } catch (NativeException e) {
                if (e.errno() != SafeFiles.EEXIST || i >= TEMPORARY_TRIES) {
                    throw e;
                }
            }
        }
    }

    /**
     * A file of the upper layer for reading; one the step made unreadable gets its owner's read
     * bit first (the caller owns the layer's files, or is root): the layer is discarded.
     */
    private int openUpperFile(Change c) throws IOException {
        int flags = SafeFiles.O_RDONLY | SafeFiles.O_NONBLOCK | SafeFiles.O_NOFOLLOW
                | SafeFiles.O_NOCTTY;
        try {
            return NativeBridge.openat2(upperFd, c.path(), flags, 0, SafeFiles.BENEATH);
        } catch (NativeException e) {
            if (e.errno() != SafeFiles.EACCES) {
                throw e;
            }
        }
        int parent = NativeBridge.openat2(upperFd, parentPath(c.path()), SafeFiles.O_PATH
                | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
        try {
            NativeBridge.fchmodatNoFollow(parent, lastName(c.path()), c.mode() | 0400);
        } finally {
            NativeBridge.close(parent);
        }
        return NativeBridge.openat2(upperFd, c.path(), flags, 0, SafeFiles.BENEATH);
    }

    private byte[] temporaryFile(int parentFd, Change c) throws IOException {
        int in = openUpperFile(c);
        try (InputStream source = new FileInputStream(NativeBridge.newFileDescriptor(in))) {
            Stat opened = Stat.of(in);
            if (opened.kind() != Kind.REGULAR || opened.ino() != c.ino()
                    || opened.size() != c.size()) {
                throw new IOException(SafeFiles.show(c.path()) + " changed in the upper layer");
            }
            for (int i = 0; ; i++) {
                byte[] name = temporaryName();
                int out;
                try {
                    out = NativeBridge.openat2(parentFd, name, SafeFiles.O_WRONLY
                            | SafeFiles.O_CREAT | SafeFiles.O_EXCL | SafeFiles.O_NOFOLLOW, 0600,
                            SafeFiles.BENEATH);
                } catch (NativeException e) {
                    if (e.errno() != SafeFiles.EEXIST || i >= TEMPORARY_TRIES) {
                        throw e;
                    }
                    continue;
                }
                try (OutputStream sink = new FileOutputStream(NativeBridge.newFileDescriptor(out))) {
                    copy(source, sink, c);
                } catch (IOException | RuntimeException e) {
                    try {
                        NativeBridge.unlinkat(parentFd, name, 0);
                    } catch (NativeException again) {
                        e.addSuppressed(again);
                    }
                    throw e;
                }
                return name;
            }
        }
    }

    /** Exactly the size examined: the layer has no writer left, so more or less is a fault. */
    private static void copy(InputStream source, OutputStream sink, Change c) throws IOException {
        byte[] buffer = new byte[COPY_BUFFER];
        long left = c.size();
        while (left > 0) {
            int n = source.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException(SafeFiles.show(c.path()) + " ended " + left
                        + " bytes early");
            }
            sink.write(buffer, 0, n);
            left -= n;
        }
        if (source.read() >= 0) {
            throw new IOException(SafeFiles.show(c.path()) + " grew while being committed");
        }
    }

    private byte[] temporaryName() {
        return SafeFiles.bytes(TEMPORARY + ProcessHandle.current().pid() + "-" + System.nanoTime()
                + "-" + temporaries++);
    }

    /** A root caller's new entry belongs to the workspace's owner, as in a direct workspace. */
    private void chown(int parentFd, byte[] name) throws NativeException {
        if (ownerUid > 0 || ownerGid > 0) {
            NativeBridge.fchownatNoFollow(parentFd, name, ownerUid, ownerGid);
        }
    }

    /** Deepest first: a directory's time is set after its entries changed it. */
    private void finishDirectories() throws IOException {
        for (int i = directoriesToFinish.size() - 1; i >= 0; i--) {
            Change c = directoriesToFinish.get(i);
            int parentFd = NativeBridge.openat2(workspaceFd, parentPath(c.path()),
                    SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
            try {
                byte[] name = lastName(c.path());
                NativeBridge.fchmodatNoFollow(parentFd, name, c.mode());
                NativeBridge.utimensatNoFollow(parentFd, name, c.mtimeSec(), c.mtimeNsec());
            } finally {
                NativeBridge.close(parentFd);
            }
        }
        directoriesToFinish.clear();
    }

    private static byte[] parentPath(byte[] path) {
        for (int i = path.length - 1; i >= 0; i--) {
            if (path[i] == '/') {
                return Arrays.copyOf(path, i);
            }
        }
        return SELF;
    }

    private static byte[] lastName(byte[] path) {
        for (int i = path.length - 1; i >= 0; i--) {
            if (path[i] == '/') {
                return Arrays.copyOfRange(path, i + 1, path.length);
            }
        }
        return path;
    }
}
