package dev.stockade.internal;

import dev.stockade.internal.NativeBridge.NativeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pieces a walk of a tree someone else wrote is made of, over {@link NativeBridge}'s
 * wrappers: the open flags, what an opened descriptor is ({@link Stat}), a directory's names,
 * and names as the kernel's bytes. Every lookup below the walk's root goes through
 * {@code openat2} with {@link #BENEATH}: no symbolic link is followed anywhere on the way, no
 * mount point is crossed, nothing above the root is reached.
 */
public final class SafeFiles {

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_PATH = 010000000;
    /** Never a failed class initialization on another OS: see currentOrDefault. */
    private static final Platform PLATFORM = Platform.currentOrDefault();
    static final int O_NOFOLLOW = PLATFORM.openNoFollow();
    static final int O_DIRECTORY = PLATFORM.openDirectory();

    /** How every lookup under a walk's root resolves. */
    static final long BENEATH = NativeBridge.RESOLVE_BENEATH | NativeBridge.RESOLVE_NO_SYMLINKS
            | NativeBridge.RESOLVE_NO_MAGICLINKS | NativeBridge.RESOLVE_NO_XDEV;

    static final int ENOENT = 2;
    static final int EACCES = 13;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int ELOOP = 40;
    static final int ESTALE = 116;

    /** The name "." : a directory descriptor's own directory, opened again without its name. */
    static final byte[] SELF = {'.'};

    private static final int S_IFMT = 0170000;
    private static final int PERMISSIONS = 07777;
    private static final int DIRENT_BUFFER = 32 * 1024;
    private static final int DIRENT_RECLEN = 16;
    private static final int DIRENT_NAME = 19;

    private SafeFiles() {}

    /** The file types {@code st_mode} tells apart. */
    enum Kind {
        REGULAR, DIRECTORY, SYMLINK, FIFO, SOCKET, CHARACTER_DEVICE, BLOCK_DEVICE;

        static Kind of(int mode) {
            return switch (mode & S_IFMT) {
                case 0100000 -> REGULAR;
                case 0040000 -> DIRECTORY;
                case 0120000 -> SYMLINK;
                case 0010000 -> FIFO;
                case 0140000 -> SOCKET;
                case 0020000 -> CHARACTER_DEVICE;
                case 0060000 -> BLOCK_DEVICE;
                default -> throw new IllegalStateException("unknown file type in mode 0"
                        + Integer.toOctalString(mode));
            };
        }
    }

    /** What {@code fstat} says of an open descriptor. */
    record Stat(Kind kind, int permissions, long size, long dev, long ino, int uid, long nlink) {
        static Stat of(int fd) throws NativeException {
            long[] f = NativeBridge.fstat(fd);
            int mode = (int) f[NativeBridge.STAT_MODE];
            return new Stat(Kind.of(mode), mode & PERMISSIONS, f[NativeBridge.STAT_SIZE],
                    f[NativeBridge.STAT_DEV], f[NativeBridge.STAT_INO],
                    (int) f[NativeBridge.STAT_UID], f[NativeBridge.STAT_NLINK]);
        }

        /** Whether {@code other} is the same inode. */
        boolean sameFile(Stat other) {
            return dev == other.dev && ino == other.ino;
        }
    }

    /** The {@link Stat} of what {@code path} names under {@code dirfd}, the entry itself (a link stays a link). */
    static Stat lstatBeneath(int dirfd, byte[] path) throws NativeException {
        int fd = NativeBridge.openat2(dirfd, path, O_PATH | O_NOFOLLOW, 0, BENEATH);
        try {
            return Stat.of(fd);
        } finally {
            NativeBridge.close(fd);
        }
    }

    /**
     * Every name in the directory open for reading at {@code fd}, without "." and "..", in
     * the order the kernel lists them.
     */
    static List<byte[]> names(int fd) throws NativeException {
        List<byte[]> names = new ArrayList<>();
        byte[] buffer = new byte[DIRENT_BUFFER];
        ByteBuffer records = ByteBuffer.wrap(buffer).order(ByteOrder.nativeOrder());
        for (int n; (n = NativeBridge.getdents64(fd, buffer)) > 0; ) {
            for (int at = 0; at < n; ) {
                int length = records.getShort(at + DIRENT_RECLEN) & 0xffff;
                int end = at + DIRENT_NAME;
                while (buffer[end] != 0) {
                    end++;
                }
                byte[] name = Arrays.copyOfRange(buffer, at + DIRENT_NAME, end);
                if (!isDotOrDotDot(name)) {
                    names.add(name);
                }
                at += length;
            }
        }
        return names;
    }

    private static boolean isDotOrDotDot(byte[] name) {
        return (name.length == 1 && name[0] == '.')
                || (name.length == 2 && name[0] == '.' && name[1] == '.');
    }

    /** The charset Java's own file APIs turn names into bytes with. */
    static Charset nameCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (IllegalArgumentException unsupported) {
            return StandardCharsets.UTF_8;
        }
    }

    /** The bytes of {@code path} as the kernel sees them. */
    static byte[] bytes(Path path) {
        return bytes(path.toString());
    }

    static byte[] bytes(String path) {
        return path.getBytes(nameCharset());
    }

    /** {@code name} as Java text, or {@code null} when these bytes are no text in the name charset. */
    static String decode(byte[] name) {
        try {
            CharBuffer chars = nameCharset().newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(name));
            String text = chars.toString();
            return Arrays.equals(bytes(text), name) ? text : null;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** {@code name} readable in a message, whatever its bytes. */
    static String show(byte[] name) {
        return new String(name, nameCharset());
    }

    /** {@code parent/name} as bytes; {@code parent} empty for the root. */
    static byte[] child(byte[] parent, byte[] name) {
        if (parent.length == 0) {
            return name;
        }
        byte[] path = Arrays.copyOf(parent, parent.length + 1 + name.length);
        path[parent.length] = '/';
        System.arraycopy(name, 0, path, parent.length + 1, name.length);
        return path;
    }

    /** Closes {@code fd} when it is open, adding a failure to {@code failure}'s suppressed. */
    static void closeQuietly(int fd, Throwable failure) {
        if (fd < 0) {
            return;
        }
        try {
            NativeBridge.close(fd);
        } catch (NativeException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            }
        }
    }
}
