package dev.stockade.internal;

import dev.stockade.internal.NativeBridge.NativeException;
import dev.stockade.internal.SafeFiles.Kind;
import dev.stockade.internal.SafeFiles.Stat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Deletes a directory tree a sandboxed step has written, as its owner sees it: every entry is
 * looked up from an open directory with {@code openat2} ({@link SafeFiles#BENEATH}), examined
 * through an {@code O_PATH | O_NOFOLLOW} descriptor (a FIFO, socket or device is never opened
 * for I/O, a symbolic link is removed, never followed: its target survives), and removed with
 * {@code unlinkat}. A directory the step made unreadable or read-only is given mode 0700
 * before it is emptied, through a descriptor of the directory examined
 * ({@code fchmodat2(fd, "", AT_EMPTY_PATH)}), never by its name. A mount point under the tree
 * is not entered (EXDEV): whatever is mounted there is not the step's to lose.
 *
 * <p>At most {@link #MAX_OPEN_DEPTH} directories are held open at once: a subtree deeper than
 * that is renamed (RENAME_NOREPLACE) to the tree's top directory and deleted from there, so a
 * step cannot exhaust descriptors or the stack with a deep tree.
 */
public final class TreeDeleter {

    /** Directories held open at once while deleting; deeper ones are moved up first. */
    static final int MAX_OPEN_DEPTH = 64;

    private static final int OWNER_ALL = 0700;
    private static final String MOVED_UP = ".stockade-deleting-";

    private final int topFd;
    private long movedUp;

    private TreeDeleter(int topFd) {
        this.topFd = topFd;
    }

    /** The inode a directory was created as, so a later delete can tell it is still that one. */
    public record Identity(long dev, long ino) {}

    /** The identity of the directory at {@code dir}, the directory itself (not followed if a link). */
    public static Identity identity(Path dir) throws IOException {
        NativeLoader.ensureLoaded();
        Path absolute = dir.toAbsolutePath();
        int parentFd = openParent(absolute);
        try {
            Stat stat = SafeFiles.lstatBeneath(parentFd, name(absolute));
            if (stat.kind() != Kind.DIRECTORY) {
                throw new IOException(dir + " is not a directory (" + stat.kind() + ")");
            }
            return new Identity(stat.dev(), stat.ino());
        } finally {
            NativeBridge.close(parentFd);
        }
    }

    /**
     * Deletes the directory {@code dir} and everything in it; nothing when it no longer exists.
     *
     * @param expected what {@code dir} must still be: when the entry at that path is another
     *     inode (or not a directory), nothing is deleted and an IOException says so
     */
    public static void delete(Path dir, Identity expected) throws IOException {
        NativeLoader.ensureLoaded();
        Path absolute = dir.toAbsolutePath();
        int parentFd = openParent(absolute);
        try {
            byte[] name = name(absolute);
            Stat stat;
            try {
                stat = SafeFiles.lstatBeneath(parentFd, name);
            } catch (NativeException e) {
                if (e.errno() == SafeFiles.ENOENT) {
                    return;
                }
                throw e;
            }
            if (stat.kind() != Kind.DIRECTORY || stat.dev() != expected.dev()
                    || stat.ino() != expected.ino()) {
                throw new IOException(dir + " is no longer the directory that was created there"
                        + " (now " + stat.kind() + " inode " + stat.ino() + "): not deleted");
            }
            int topFd = openDirectory(parentFd, name, stat);
            try {
                TreeDeleter deleter = new TreeDeleter(topFd);
                // Subtrees moved up to the top appear there; list it again until it is empty.
                while (deleter.empty(topFd, 1)) {
                    NativeBridge.lseek(topFd, 0, NativeBridge.SEEK_SET);
                }
            } finally {
                NativeBridge.close(topFd);
            }
            NativeBridge.unlinkat(parentFd, name, NativeBridge.AT_REMOVEDIR);
        } catch (NativeException e) {
            throw new IOException("cannot delete " + dir + ": " + e.getMessage(), e);
        } finally {
            NativeBridge.close(parentFd);
        }
    }

    /**
     * Deletes the directory {@code name} of the open directory {@code parentFd}, examined as
     * {@code stat} (the entry opened must still be that inode), and everything in it.
     */
    static void deleteDirectory(int parentFd, byte[] name, Stat stat) throws NativeException {
        int topFd = openDirectory(parentFd, name, stat);
        try {
            TreeDeleter deleter = new TreeDeleter(topFd);
            while (deleter.empty(topFd, 1)) {
                NativeBridge.lseek(topFd, 0, NativeBridge.SEEK_SET);
            }
        } finally {
            NativeBridge.close(topFd);
        }
        NativeBridge.unlinkat(parentFd, name, NativeBridge.AT_REMOVEDIR);
    }

    /**
     * Removes every entry of the open directory {@code fd}.
     *
     * @return whether anything was removed (an empty listing means the directory is empty)
     */
    private boolean empty(int fd, int depth) throws NativeException {
        List<byte[]> names = SafeFiles.names(fd);
        for (byte[] name : names) {
            remove(fd, name, depth);
        }
        return !names.isEmpty();
    }

    private void remove(int dirFd, byte[] name, int depth) throws NativeException {
        Stat stat;
        try {
            stat = SafeFiles.lstatBeneath(dirFd, name);
        } catch (NativeException e) {
            if (e.errno() == SafeFiles.ENOENT) {
                return; // gone already
            }
            throw e;
        }
        if (stat.kind() != Kind.DIRECTORY) {
            NativeBridge.unlinkat(dirFd, name, 0);
            return;
        }
        if (depth >= MAX_OPEN_DEPTH) {
            NativeBridge.renameatFlags(dirFd, name, topFd,
                    SafeFiles.bytes(MOVED_UP + System.nanoTime() + "-" + movedUp++),
                    NativeBridge.RENAME_NOREPLACE);
            return;
        }
        int childFd = openDirectory(dirFd, name, stat);
        try {
            empty(childFd, depth + 1);
        } finally {
            NativeBridge.close(childFd);
        }
        NativeBridge.unlinkat(dirFd, name, NativeBridge.AT_REMOVEDIR);
    }

    /**
     * Opens the directory {@code name} (examined as {@code stat}) for listing, first giving it
     * mode 0700 when its owner could not list or change it; the opened directory must be the
     * one examined. The mode is changed through an {@code O_PATH} descriptor of the entry, and
     * the listing descriptor opened from that one ("."): after the check no name is looked up
     * again, so a directory swapped in under {@code name} meanwhile is neither chmodded nor
     * emptied.
     */
    private static int openDirectory(int dirFd, byte[] name, Stat stat) throws NativeException {
        int entry = NativeBridge.openat2(dirFd, name,
                SafeFiles.O_PATH | SafeFiles.O_DIRECTORY | SafeFiles.O_NOFOLLOW, 0,
                SafeFiles.BENEATH);
        try {
            if (!Stat.of(entry).sameFile(stat)) {
                // ESTALE: the entry examined is not the one opened; deleting on would act on a
                // directory nobody looked at.
                throw new NativeException("openat2", SafeFiles.ESTALE, SafeFiles.show(name)
                        + " changed while it was being deleted");
            }
            if ((stat.permissions() & OWNER_ALL) != OWNER_ALL) {
                NativeBridge.fchmod(entry, OWNER_ALL);
            }
            return NativeBridge.openat2(entry, SafeFiles.SELF, SafeFiles.O_RDONLY
                    | SafeFiles.O_DIRECTORY, 0, SafeFiles.BENEATH);
        } finally {
            NativeBridge.close(entry);
        }
    }

    private static int openParent(Path absolute) throws IOException {
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new IOException("cannot delete " + absolute);
        }
        return NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(parent),
                SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, 0);
    }

    private static byte[] name(Path absolute) {
        return SafeFiles.bytes(absolute.getFileName());
    }
}
