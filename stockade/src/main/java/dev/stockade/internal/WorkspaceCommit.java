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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

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
 * <p>Two walks of the layer, in the same order (names sorted by their bytes, parents before
 * children), each holding only what lies along the current path: a descriptor per directory
 * level, the path's bytes and each level's names; nothing is kept per change, so the caller's
 * memory does not grow with what a step wrote. The first walk examines and bounds the whole
 * layer: more entries than the layer's inodes, more bytes than the quota, more than
 * {@link #MAX_DEPTH} levels or a path over {@link #MAX_PATH_BYTES} refuse the commit before
 * anything is applied. The second applies it with a descriptor of each workspace directory on
 * the path, opened from its parent's with {@link SafeFiles#BENEATH} (a symbolic link or mount
 * point there stops the commit: ELOOP, EXDEV); every entry made is then changed through its own
 * descriptor, never by its name again (a name swapped meanwhile, say for a hard link to another
 * user's file, is never what is chowned, chmodded or timed). Nothing writes to the layer any
 * more (the sandbox and its PID namespace are gone), and the second walk checks it met no more
 * than the first.
 */
public final class WorkspaceCommit {

    /** Directory levels examined at most: each holds a descriptor during either walk. */
    static final int MAX_DEPTH = 256;

    /** PATH_MAX: the most bytes a change's path relative to the workspace has, its NUL counted. */
    static final int MAX_PATH_BYTES = 4096;

    /** {@code TMPFS_MAGIC} ({@code linux/magic.h}): the upper layer is a tmpfs directory. */
    static final long TMPFS_MAGIC = 0x01021994L;

    private static final int COPY_BUFFER = 64 * 1024;
    private static final int SET_ID_BITS = 06000;
    private static final int OWNER_ALL = 0700;
    private static final int OWNER_READ = 0400;
    private static final int TEMPORARY_TRIES = 16;
    private static final String TEMPORARY = ".stockade-commit-";
    private static final byte[] OPAQUE = {'y'};
    private static final String CUT = "...";

    /** One entry of the upper layer as {@code fstat} of its {@code O_PATH} descriptor saw it. */
    private record Entry(Kind kind, boolean whiteout, int mode, long size, long ino,
            long mtimeSec, long mtimeNsec, byte[] linkTarget) {}

    /** A directory of the upper layer open for listing, and the mode to give it back. */
    private record UpperDirectory(int fd, int restore) {}

    /** Ends the second walk once {@link CommitResult#MAX_LISTED} changes are listed. */
    private static final class ListFull extends Exception {
        private static final long serialVersionUID = 1L;

        ListFull() {
            super(null, null, false, false);
        }
    }

    private final int upperFd;
    private final byte[] opaqueXattr;
    private final long maxBytes;
    private final long maxEntries;
    private final List<byte[]> protectedPaths;
    private final boolean unprivileged;
    private final int uid;
    private final byte[] path = new byte[MAX_PATH_BYTES];
    private int pathLength;
    private final List<Skipped> skipped = new ArrayList<>();
    private final List<String> examined = new ArrayList<>();
    private final List<String> notApplied = new ArrayList<>();
    private long examinedEntries;
    private long plannedBytes;
    private long appliedEntries;
    private long copiedBytes;
    private long filesWritten;
    private long bytesWritten;
    private long directoriesCreated;
    private long symlinksCreated;
    private long deleted;
    private long temporaries;
    private int ownerUid = -1;
    private int ownerGid = -1;
    private String failure;

    private WorkspaceCommit(int upperFd, boolean userXattrs, long maxBytes, long maxEntries,
            List<String> protectedPaths) {
        this.upperFd = upperFd;
        this.opaqueXattr = SafeFiles.bytes((userXattrs ? "user.overlay." : "trusted.overlay.")
                + "opaque");
        this.maxBytes = maxBytes;
        this.maxEntries = maxEntries;
        this.protectedPaths = protectedPaths.stream().map(SafeFiles::bytes).toList();
        this.uid = NativeBridge.getuid();
        this.unprivileged = uid != 0;
    }

    /**
     * Applies the upper layer open at {@code upperFd} (not closed here) to the workspace
     * directory open at {@code workspaceFd} (not closed here), the one the step saw.
     *
     * @param workspace the workspace's path: it must still name the directory at
     *     {@code workspaceFd}, else nothing is applied
     * @param userXattrs whether the overlay's own xattrs are {@code user.overlay.*}: it was
     *     made in the sandbox's user namespace (an unprivileged caller's)
     * @param quotaBytes the upper layer's size: the most bytes a commit writes
     * @param protectedPaths the policy's protected paths (relative; a trailing {@code /} for a
     *     directory): never changed
     */
    public static CommitResult apply(int upperFd, int workspaceFd, Path workspace,
            boolean userXattrs, long quotaBytes, List<String> protectedPaths) {
        NativeLoader.ensureLoaded();
        long inodes = Math.max(quotaBytes / Protocol.TMPFS_BYTES_PER_INODE,
                Protocol.TMPFS_MIN_INODES);
        WorkspaceCommit c = new WorkspaceCommit(upperFd, userXattrs, quotaBytes, inodes,
                protectedPaths);
        try {
            return c.run(workspaceFd, workspace);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // The walks keep little, but the caller's heap is shared: what was applied so far
            // is still what the counts say.
            if (c.failure == null) {
                c.failure = c.stoppedHere(e);
            }
            return c.result();
        }
    }

    /**
     * The workspace directory, opened ({@code O_PATH}, no symbolic link on the way) when the
     * sandbox starts: what {@link #apply} commits into; -1 when it cannot be opened (the helper
     * then reports why the sandbox cannot start, or the commit that nothing was applied).
     */
    public static int openWorkspace(Path workspace) {
        NativeLoader.ensureLoaded();
        try {
            return openWorkspacePath(workspace);
        } catch (NativeException e) {
            return -1;
        }
    }

    private static int openWorkspacePath(Path workspace) throws NativeException {
        return NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(workspace),
                SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, NativeBridge.RESOLVE_NO_SYMLINKS);
    }

    private CommitResult run(int workspaceFd, Path workspace) {
        try {
            checkUpperLayer();
            int root = NativeBridge.openat2(upperFd, SafeFiles.SELF, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
            try {
                examine(root, 0);
            } finally {
                NativeBridge.close(root);
            }
            checkWorkspace(workspaceFd, workspace);
        } catch (IOException | RuntimeException e) {
            failure = "the changes were not applied: " + e.getMessage();
            notApplied.addAll(examined);
            return result();
        }
        pathLength = 0;
        try {
            if (!unprivileged) {
                long[] owner = NativeBridge.fstat(workspaceFd);
                ownerUid = (int) owner[NativeBridge.STAT_UID];
                ownerGid = (int) owner[NativeBridge.STAT_GID];
            }
            int root = NativeBridge.openat2(upperFd, SafeFiles.SELF, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
            try {
                applyAll(root, sortedNames(root), workspaceFd, 0);
            } finally {
                NativeBridge.close(root);
            }
        } catch (ListFull full) {
            // failure says where it stopped; the list has all it can hold.
        } catch (IOException | RuntimeException e) {
            if (failure == null) {
                failure = stoppedHere(e);
            }
        }
        return result();
    }

    /** Why the commit stopped, at the current path. */
    private String stoppedHere(Throwable e) {
        return (pathLength == 0 ? "stopped: " : "stopped at " + shown() + ": ") + e.getMessage();
    }

    private CommitResult result() {
        return new CommitResult(filesWritten, bytesWritten, directoriesCreated, symlinksCreated,
                deleted, skipped, Optional.ofNullable(failure), notApplied);
    }

    /** The descriptor passed with EXITED must be what the helper keeps: a tmpfs directory. */
    private void checkUpperLayer() throws IOException {
        Stat st = Stat.of(upperFd);
        long type = NativeBridge.fstatfsType(upperFd);
        if (st.kind() != Kind.DIRECTORY || type != TMPFS_MAGIC) {
            throw new IOException("the upper layer passed is not a tmpfs directory (" + st.kind()
                    + ", filesystem type 0x" + Long.toHexString(type) + ")");
        }
    }

    /**
     * The workspace's path must still name the directory the step saw (held open since the
     * sandbox started): a directory renamed, replaced or mounted over since then is refused,
     * rather than given deletions meant for another.
     */
    private static void checkWorkspace(int workspaceFd, Path workspace) throws IOException {
        if (workspaceFd < 0) {
            throw new IOException("the workspace " + workspace + " could not be opened when"
                    + " the sandbox started");
        }
        Stat held = Stat.of(workspaceFd);
        int now;
        try {
            now = openWorkspacePath(workspace);
        } catch (NativeException e) {
            throw new IOException("the workspace " + workspace + " is not the directory the step"
                    + " saw any more: " + e.getMessage(), e);
        }
        try {
            Stat current = Stat.of(now);
            if (held.kind() != Kind.DIRECTORY || !current.sameFile(held)) {
                throw new IOException("the workspace " + workspace + " is not the directory the"
                        + " step saw any more (inode " + held.ino() + " on device " + held.dev()
                        + " when the sandbox started, now inode " + current.ino()
                        + " on device " + current.dev() + ")");
            }
        } finally {
            NativeBridge.close(now);
        }
    }

    // ---- the current path: bounded, shared by both walks ----

    /** Appends {@code name} to the path; the length before, to restore with {@link #leave}. */
    private int enter(byte[] name) throws IOException {
        int before = pathLength;
        int length = before + (before > 0 ? 1 : 0) + name.length;
        if (length >= MAX_PATH_BYTES) {
            throw new IOException("a path of the changes is longer than PATH_MAX ("
                    + MAX_PATH_BYTES + " bytes with its NUL): " + shown(name));
        }
        if (before > 0) {
            path[before] = '/';
        }
        System.arraycopy(name, 0, path, length - name.length, name.length);
        pathLength = length;
        return before;
    }

    private void leave(int before) {
        pathLength = before;
    }

    /** The current path as listed: at most {@link CommitResult#MAX_LISTED_PATH_BYTES} bytes. */
    private String shown() {
        return cut(path, pathLength);
    }

    /** The current path with {@code name} appended, as listed. */
    private String shown(byte[] name) {
        int full = pathLength + (pathLength > 0 ? 1 : 0) + name.length;
        byte[] whole = Arrays.copyOf(path, Math.min(full, CommitResult.MAX_LISTED_PATH_BYTES + 1));
        int at = pathLength;
        if (at > 0 && at < whole.length) {
            whole[at++] = '/';
        }
        if (at < whole.length) {
            System.arraycopy(name, 0, whole, at, Math.min(name.length, whole.length - at));
        }
        return cut(whole, whole.length);
    }

    private static String cut(byte[] bytes, int length) {
        if (length <= CommitResult.MAX_LISTED_PATH_BYTES) {
            return SafeFiles.show(Arrays.copyOf(bytes, length));
        }
        return SafeFiles.show(Arrays.copyOf(bytes, CommitResult.MAX_LISTED_PATH_BYTES)) + CUT;
    }

    private boolean isProtected() {
        for (byte[] p : protectedPaths) {
            boolean directory = p.length > 0 && p[p.length - 1] == '/';
            int length = directory ? p.length - 1 : p.length;
            if (pathLength < length || !Arrays.equals(path, 0, length, p, 0, length)) {
                continue;
            }
            if (pathLength == length || path[length] == '/') {
                return true;
            }
        }
        return false;
    }

    // ---- reading the upper layer ----

    private static List<byte[]> sortedNames(int dirFd) throws NativeException {
        List<byte[]> names = SafeFiles.names(dirFd);
        names.sort(Arrays::compareUnsigned);
        return names;
    }

    private static Entry entry(int dirFd, byte[] name) throws NativeException {
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
        boolean whiteout = kind == Kind.CHARACTER_DEVICE && st[NativeBridge.STAT_RDEV_MAJOR] == 0
                && st[NativeBridge.STAT_RDEV_MINOR] == 0;
        // Set-id bits are not carried on files; a directory's set-group-ID (its new entries'
        // group) is.
        int permissions = mode & 07777 & (kind == Kind.DIRECTORY ? 07777 : ~SET_ID_BITS);
        return new Entry(kind, whiteout, permissions, st[NativeBridge.STAT_SIZE],
                st[NativeBridge.STAT_INO], st[NativeBridge.STAT_MTIME_SEC],
                st[NativeBridge.STAT_MTIME_NSEC], link);
    }

    /**
     * A directory of the upper layer for listing; one the step made unreadable (its owner is
     * the caller, or the caller is root) gets its owner's bits through its own descriptor
     * first, given back by the first walk ({@link #closeUpper}) once its subtree is examined: the
     * second walk reads the mode the step left (and need not give it back: the layer is
     * discarded).
     */
    private UpperDirectory openUpper(int dirFd, byte[] name, int mode) throws NativeException {
        if (!unprivileged || (mode & OWNER_ALL) == OWNER_ALL) {
            return new UpperDirectory(NativeBridge.openat2(dirFd, name, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH), -1);
        }
        int entry = NativeBridge.openat2(dirFd, name, SafeFiles.O_PATH | SafeFiles.O_DIRECTORY
                | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
        try {
            NativeBridge.fchmod(entry, mode | OWNER_ALL);
            return new UpperDirectory(NativeBridge.openat2(entry, SafeFiles.SELF,
                    SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH), mode);
        } finally {
            NativeBridge.close(entry);
        }
    }

    /** After the first walk's look at a directory: its mode given back. */
    private static void closeUpper(UpperDirectory d) throws NativeException {
        try {
            if (d.restore() >= 0) {
                NativeBridge.fchmod(d.fd(), d.restore());
            }
        } finally {
            NativeBridge.close(d.fd());
        }
    }

    /**
     * A file of the upper layer for reading; one the step made unreadable gets its owner's read
     * bit first, through an {@code O_PATH} descriptor (the caller owns the layer's files, or is
     * root): the layer is discarded after the commit.
     */
    private static int openUpperFile(int dirFd, byte[] name, Entry e) throws IOException {
        int flags = SafeFiles.O_RDONLY | SafeFiles.O_NONBLOCK | SafeFiles.O_NOFOLLOW
                | SafeFiles.O_NOCTTY;
        try {
            return NativeBridge.openat2(dirFd, name, flags, 0, SafeFiles.BENEATH);
        } catch (NativeException denied) {
            if (denied.errno() != SafeFiles.EACCES) {
                throw denied;
            }
        }
        int entry = NativeBridge.openat2(dirFd, name, SafeFiles.O_PATH | SafeFiles.O_NOFOLLOW, 0,
                SafeFiles.BENEATH);
        try {
            if (Stat.of(entry).ino() != e.ino()) {
                throw new IOException("it changed in the upper layer");
            }
            NativeBridge.fchmod(entry, e.mode() | OWNER_READ);
        } finally {
            NativeBridge.close(entry);
        }
        return NativeBridge.openat2(dirFd, name, flags, 0, SafeFiles.BENEATH);
    }

    // ---- first walk: the upper layer, examined and bounded ----

    private void examine(int dirFd, int depth) throws IOException {
        if (depth >= MAX_DEPTH) {
            throw new IOException("the changes are deeper than " + MAX_DEPTH + " directories at "
                    + shown());
        }
        for (byte[] name : sortedNames(dirFd)) {
            int before = enter(name);
            try {
                if (++examinedEntries > maxEntries) {
                    throw new IOException("more than " + maxEntries + " changed entries");
                }
                if (isProtected()) {
                    skip(Reason.PROTECTED);
                } else {
                    examineEntry(dirFd, name, depth);
                }
            } finally {
                leave(before);
            }
        }
    }

    private void examineEntry(int dirFd, byte[] name, int depth) throws IOException {
        Entry e = entry(dirFd, name);
        switch (e.kind()) {
            case CHARACTER_DEVICE -> {
                if (e.whiteout()) {
                    examined();
                } else {
                    skip(Reason.DEVICE);
                }
            }
            case BLOCK_DEVICE -> skip(Reason.DEVICE);
            case FIFO -> skip(Reason.FIFO);
            case SOCKET -> skip(Reason.SOCKET);
            case SYMLINK -> examined();
            case REGULAR -> {
                if (e.size() > maxBytes - plannedBytes) {
                    throw new IOException(shown() + " is " + e.size() + " bytes (sparse or not),"
                            + " over the " + maxBytes + " bytes a commit writes ("
                            + plannedBytes + " planned before it)");
                }
                plannedBytes += e.size();
                examined();
            }
            case DIRECTORY -> {
                examined();
                UpperDirectory dir = openUpper(dirFd, name, e.mode());
                try {
                    examine(dir.fd(), depth + 1);
                } finally {
                    closeUpper(dir);
                }
            }
            default -> throw new IllegalStateException(e.kind().toString());
        }
    }

    /** A change examined: listed as not applied should the commit be refused. */
    private void examined() {
        if (examined.size() < CommitResult.MAX_LISTED) {
            examined.add(shown());
        }
    }

    private void skip(Reason reason) {
        if (skipped.size() < CommitResult.MAX_LISTED) {
            skipped.add(new Skipped(shown(), reason));
        }
    }

    // ---- second walk: applied to the workspace ----

    /**
     * The entries {@code names} of the upper directory {@code upperDir}, applied to the
     * workspace directory {@code wsDir}, or only listed once a change has failed.
     */
    private void applyAll(int upperDir, List<byte[]> names, int wsDir, int depth)
            throws ListFull {
        for (byte[] name : names) {
            int before = pathLength;
            try {
                enter(name);
                if (++appliedEntries > examinedEntries) {
                    throw new IOException("the upper layer has more than the first walk examined");
                }
            } catch (IOException changed) {
                // Only a layer written since the first walk gets here: stop at once.
                if (failure == null) {
                    failure = stoppedHere(changed);
                }
                leave(before);
                throw new ListFull();
            }
            try {
                if (!isProtected()) {
                    applyEntry(upperDir, wsDir, name, depth);
                }
            } finally {
                leave(before);
            }
        }
    }

    private void applyEntry(int upperDir, int wsDir, byte[] name, int depth) throws ListFull {
        if (failure != null) {
            listEntry(upperDir, name, depth);
            return;
        }
        Entry e = null;
        try {
            e = entry(upperDir, name);
            switch (e.kind()) {
                case CHARACTER_DEVICE -> {
                    if (e.whiteout()) {
                        whiteout(wsDir, name);
                    }
                }
                case DIRECTORY -> directory(upperDir, wsDir, name, e, depth);
                case REGULAR, SYMLINK -> replace(upperDir, wsDir, name, e);
                default -> {
                    // FIFO, socket, block device: skipped, listed by the first walk
                }
            }
        } catch (IOException | RuntimeException ex) {
            if (failure != null) {
                return; // a change below failed first and is what the result names
            }
            failure = "stopped at " + shown() + ": " + ex.getMessage();
            list();
            if (e != null && e.kind() == Kind.DIRECTORY) {
                listBelow(upperDir, name, e, depth);
            }
        }
    }

    /** After a failure: the change at the current path, and below it, listed as not applied. */
    private void listEntry(int upperDir, byte[] name, int depth) throws ListFull {
        Entry e;
        try {
            e = entry(upperDir, name);
        } catch (IOException | RuntimeException unreadable) {
            throw new ListFull();
        }
        switch (e.kind()) {
            case REGULAR, SYMLINK, DIRECTORY -> list();
            case CHARACTER_DEVICE -> {
                if (e.whiteout()) {
                    list();
                }
            }
            default -> {
                return;
            }
        }
        if (e.kind() == Kind.DIRECTORY) {
            listBelow(upperDir, name, e, depth);
        }
    }

    private void listBelow(int upperDir, byte[] name, Entry e, int depth) throws ListFull {
        if (depth + 1 >= MAX_DEPTH) {
            return;
        }
        try {
            UpperDirectory dir = openUpper(upperDir, name, e.mode());
            try {
                applyAll(dir.fd(), sortedNames(dir.fd()), -1, depth + 1);
            } finally {
                SafeFiles.closeQuietly(dir.fd(), null);
            }
        } catch (IOException | RuntimeException unreadable) {
            throw new ListFull();
        }
    }

    private void list() throws ListFull {
        if (notApplied.size() >= CommitResult.MAX_LISTED) {
            throw new ListFull();
        }
        notApplied.add(shown());
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

    private void whiteout(int wsDir, byte[] name) throws NativeException {
        Stat existing = lookup(wsDir, name);
        if (existing != null) {
            remove(wsDir, name, existing);
            deleted++;
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
     * A directory of the changes: made (replacing a non-directory) or opened, and, when opaque,
     * emptied of what the step did not see; its entries are applied through its descriptor,
     * which stays writable for its owner until they are in; then its mode and time are set on
     * that same descriptor. A new directory gets the step's mode, an existing one keeps its
     * set-id bits.
     */
    private void directory(int upperDir, int wsDir, byte[] name, Entry e, int depth)
            throws IOException, ListFull {
        if (depth + 1 >= MAX_DEPTH) {
            throw new IOException("the upper layer has more than the first walk examined");
        }
        UpperDirectory upper = openUpper(upperDir, name, e.mode());
        try {
            byte[] marker = NativeBridge.fgetxattr(upper.fd(), opaqueXattr);
            boolean opaque = marker != null && Arrays.equals(marker, OPAQUE);
            List<byte[]> names = sortedNames(upper.fd());
            Stat existing = lookup(wsDir, name);
            if (existing != null && existing.kind() != Kind.DIRECTORY) {
                NativeBridge.unlinkat(wsDir, name, 0);
                deleted++;
                existing = null;
            }
            int dir;
            int mode;
            if (existing == null) {
                NativeBridge.mkdirat(wsDir, name, OWNER_ALL);
                directoriesCreated++;
                dir = openMadeDirectory(wsDir, name);
                mode = e.mode();
            } else {
                dir = openExistingDirectory(wsDir, name, existing);
                int was = existing.permissions();
                mode = (e.mode() & ~SET_ID_BITS) | (was & SET_ID_BITS);
                if (mode == was && (was & OWNER_ALL) == OWNER_ALL) {
                    mode = -1; // unchanged: no chmod (that could drop a group's set-group-ID)
                }
            }
            try {
                if (opaque && existing != null) {
                    emptyExcept(dir, names);
                }
                applyAll(upper.fd(), names, dir, depth + 1);
            } finally {
                finish(dir, mode, e);
            }
        } finally {
            SafeFiles.closeQuietly(upper.fd(), null);
        }
    }

    /**
     * The directory just made, opened by its name once: it must be a directory this process
     * owns (else someone swapped it for theirs), and is changed only through this descriptor.
     */
    private int openMadeDirectory(int wsDir, byte[] name) throws IOException {
        int dir = NativeBridge.openat2(wsDir, name, SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY
                | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
        try {
            Stat st = Stat.of(dir);
            if (st.uid() != uid) {
                throw new IOException("the directory made was replaced (by one of uid " + st.uid()
                        + ") while being committed");
            }
            own(dir);
            return dir;
        } catch (IOException | RuntimeException e) {
            SafeFiles.closeQuietly(dir, e);
            throw e;
        }
    }

    /**
     * The directory examined as {@code existing}, given its owner's bits through its
     * {@code O_PATH} descriptor when it lacks them, then opened from that descriptor (".").
     */
    private static int openExistingDirectory(int wsDir, byte[] name, Stat existing)
            throws IOException {
        int entry = NativeBridge.openat2(wsDir, name, SafeFiles.O_PATH | SafeFiles.O_DIRECTORY
                | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
        try {
            if (!Stat.of(entry).sameFile(existing)) {
                throw new IOException("it changed while being committed");
            }
            if ((existing.permissions() & OWNER_ALL) != OWNER_ALL) {
                NativeBridge.fchmod(entry, existing.permissions() | OWNER_ALL);
            }
            return NativeBridge.openat2(entry, SafeFiles.SELF, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
        } finally {
            NativeBridge.close(entry);
        }
    }

    /**
     * A directory's mode ({@code mode} -1: left as it is) and time, on its descriptor, after its
     * entries: even when one failed, so that no directory is left with the owner bits the commit
     * added. Its own failure stops the commit when nothing failed before.
     */
    private void finish(int dir, int mode, Entry e) throws ListFull {
        try {
            if (mode >= 0) {
                NativeBridge.fchmod(dir, mode);
            }
            NativeBridge.futimens(dir, e.mtimeSec(), e.mtimeNsec());
        } catch (IOException | RuntimeException ex) {
            if (failure == null) {
                failure = "stopped at " + shown() + ": " + ex.getMessage();
                list();
            }
        } finally {
            SafeFiles.closeQuietly(dir, null);
        }
    }

    private void emptyExcept(int dir, List<byte[]> keep) throws NativeException {
        for (byte[] child : SafeFiles.names(dir)) {
            if (Collections.binarySearch(keep, child, Arrays::compareUnsigned) >= 0) {
                continue;
            }
            Stat st = lookup(dir, child);
            if (st != null) {
                remove(dir, child, st);
                deleted++;
            }
        }
    }

    /** A file or link, made under a temporary name of its directory and renamed over {@code name}. */
    private void replace(int upperDir, int wsDir, byte[] name, Entry e) throws IOException {
        Stat existing = lookup(wsDir, name);
        if (existing != null && existing.kind() == Kind.DIRECTORY) {
            remove(wsDir, name, existing);
            deleted++;
        }
        byte[] temporary = e.kind() == Kind.SYMLINK ? temporaryLink(wsDir, e)
                : temporaryFile(upperDir, wsDir, name, e);
        try {
            NativeBridge.renameatFlags(wsDir, temporary, wsDir, name, 0);
        } catch (IOException | RuntimeException ex) {
            removeTemporary(wsDir, temporary, ex);
            throw ex;
        }
        if (e.kind() == Kind.REGULAR) {
            filesWritten++;
            bytesWritten += e.size();
        } else {
            symlinksCreated++;
        }
    }

    private static void removeTemporary(int wsDir, byte[] temporary, Throwable failure) {
        try {
            NativeBridge.unlinkat(wsDir, temporary, 0);
        } catch (NativeException again) {
            failure.addSuppressed(again);
        }
    }

    /**
     * The step's file copied to a new temporary file, whose owner, mode and time are set on the
     * descriptor it was created as, before it is closed.
     */
    private byte[] temporaryFile(int upperDir, int wsDir, byte[] name, Entry e)
            throws IOException {
        if (e.size() > plannedBytes - copiedBytes) {
            throw new IOException("the upper layer has more bytes than examined");
        }
        int in = openUpperFile(upperDir, name, e);
        try (InputStream source = new FileInputStream(NativeBridge.newFileDescriptor(in))) {
            Stat opened = Stat.of(in);
            if (opened.kind() != Kind.REGULAR || opened.ino() != e.ino()
                    || opened.size() != e.size()) {
                throw new IOException("it changed in the upper layer");
            }
            for (int i = 0; ; i++) {
                byte[] temporary = temporaryName();
                int out;
                try {
                    out = NativeBridge.openat2(wsDir, temporary, SafeFiles.O_WRONLY
                            | SafeFiles.O_CREAT | SafeFiles.O_EXCL | SafeFiles.O_NOFOLLOW, 0600,
                            SafeFiles.BENEATH);
                } catch (NativeException taken) {
                    if (taken.errno() != SafeFiles.EEXIST || i >= TEMPORARY_TRIES) {
                        throw taken;
                    }
                    continue;
                }
                try (OutputStream sink = new FileOutputStream(
                        NativeBridge.newFileDescriptor(out))) {
                    copy(source, sink, e.size());
                    own(out);
                    NativeBridge.fchmod(out, e.mode());
                    NativeBridge.futimens(out, e.mtimeSec(), e.mtimeNsec());
                } catch (IOException | RuntimeException ex) {
                    removeTemporary(wsDir, temporary, ex);
                    throw ex;
                }
                copiedBytes += e.size();
                return temporary;
            }
        }
    }

    /** Exactly the size examined: the layer has no writer left, so more or less is a fault. */
    private static void copy(InputStream source, OutputStream sink, long size) throws IOException {
        byte[] buffer = new byte[COPY_BUFFER];
        long left = size;
        while (left > 0) {
            int n = source.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException("it ended " + left + " bytes early");
            }
            sink.write(buffer, 0, n);
            left -= n;
        }
        if (source.read() >= 0) {
            throw new IOException("it grew while being committed");
        }
    }

    /**
     * A new temporary link. No call makes a link and returns its descriptor, so it is opened by
     * its name once, and must be a link this process owns with no other name (a hard link to
     * someone else's link has two): then its owner and time are set on that descriptor.
     */
    private byte[] temporaryLink(int wsDir, Entry e) throws IOException {
        byte[] temporary;
        for (int i = 0; ; i++) {
            temporary = temporaryName();
            try {
                NativeBridge.symlinkat(e.linkTarget(), wsDir, temporary);
                break;
            } catch (NativeException taken) {
                if (taken.errno() != SafeFiles.EEXIST || i >= TEMPORARY_TRIES) {
                    throw taken;
                }
            }
        }
        try {
            int link = NativeBridge.openat2(wsDir, temporary, SafeFiles.O_PATH
                    | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
            try {
                Stat st = Stat.of(link);
                if (st.kind() != Kind.SYMLINK || st.uid() != uid || st.nlink() != 1) {
                    throw new IOException("the link made was replaced (by a " + st.kind()
                            + " of uid " + st.uid() + " with " + st.nlink() + " names) while"
                            + " being committed");
                }
                own(link);
                NativeBridge.futimens(link, e.mtimeSec(), e.mtimeNsec());
            } finally {
                NativeBridge.close(link);
            }
        } catch (IOException | RuntimeException ex) {
            removeTemporary(wsDir, temporary, ex);
            throw ex;
        }
        return temporary;
    }

    private byte[] temporaryName() {
        return SafeFiles.bytes(TEMPORARY + ProcessHandle.current().pid() + "-" + System.nanoTime()
                + "-" + temporaries++);
    }

    /** A root caller's new entry belongs to the workspace's owner, as in a direct workspace. */
    private void own(int fd) throws NativeException {
        if (ownerUid > 0 || ownerGid > 0) {
            NativeBridge.fchown(fd, ownerUid, ownerGid);
        }
    }
}
