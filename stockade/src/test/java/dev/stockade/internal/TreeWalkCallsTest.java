package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.NativeBridge.NativeException;
import dev.stockade.internal.SafeFiles.Kind;
import dev.stockade.internal.SafeFiles.Stat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wrappers a safe tree walk is made of ({@link NativeBridge#openat2}, the *at calls and the
 * calls on a descriptor's own inode), each against the real kernel: what it does, and the errno
 * it reports when it refuses.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TreeWalkCallsTest {

    private static final int EBADF = 9;
    private static final int EEXIST = 17;
    private static final int EXDEV = 18;
    private static final int ENOTDIR = 20;
    private static final int EISDIR = 21;
    private static final int EINVAL = 22;
    private static final int ESPIPE = 29;
    private static final int ENOTEMPTY = 39;
    private static final int ELOOP = 40;
    private static final int EOPNOTSUPP = 95;

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int openDir(Path dir) throws NativeException {
        return NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(dir),
                SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY, 0, 0);
    }

    private static void mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void openat2OpensBeneathAndRefusesLinksAndEscapes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("file"), "content");
        Files.createDirectory(dir.resolve("sub"));
        Files.createSymbolicLink(dir.resolve("link"), dir.resolve("file"));
        Files.createSymbolicLink(dir.resolve("sub/up"), Path.of(".."));
        int root = openDir(dir);
        try {
            int fd = NativeBridge.openat2(root, b("file"), SafeFiles.O_RDONLY, 0,
                    SafeFiles.BENEATH);
            assertEquals(Kind.REGULAR, Stat.of(fd).kind());
            NativeBridge.close(fd);

            NativeException link = assertThrows(NativeException.class, () -> NativeBridge
                    .openat2(root, b("link"), SafeFiles.O_RDONLY, 0, SafeFiles.BENEATH));
            assertEquals(ELOOP, link.errno());
            assertEquals("openat2", link.call());
            NativeException through = assertThrows(NativeException.class, () -> NativeBridge
                    .openat2(root, b("sub/up/file"), SafeFiles.O_RDONLY, 0, SafeFiles.BENEATH));
            assertEquals(ELOOP, through.errno());
            NativeException escape = assertThrows(NativeException.class, () -> NativeBridge
                    .openat2(root, b("../x"), SafeFiles.O_RDONLY, 0, SafeFiles.BENEATH));
            assertEquals(EXDEV, escape.errno());
            NativeException absolute = assertThrows(NativeException.class, () -> NativeBridge
                    .openat2(root, b("/etc/passwd"), SafeFiles.O_RDONLY, 0, SafeFiles.BENEATH));
            assertEquals(EXDEV, absolute.errno());

            // O_PATH | O_NOFOLLOW gives the link itself, even under RESOLVE_NO_SYMLINKS.
            int linkFd = NativeBridge.openat2(root, b("link"), SafeFiles.O_PATH
                    | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
            assertEquals(Kind.SYMLINK, Stat.of(linkFd).kind());
            assertArrayEquals(SafeFiles.bytes(dir.resolve("file")),
                    NativeBridge.readlinkat(linkFd, new byte[0]));
            NativeBridge.close(linkFd);

            // The architecture's O_DIRECTORY: a regular file is not a directory.
            NativeException notDir = assertThrows(NativeException.class, () -> NativeBridge
                    .openat2(root, b("file"), SafeFiles.O_RDONLY | SafeFiles.O_DIRECTORY, 0,
                            SafeFiles.BENEATH));
            assertEquals(ENOTDIR, notDir.errno());
            assertThrows(IllegalArgumentException.class, () -> NativeBridge.openat2(root,
                    new byte[] {'a', 0, 'b'}, SafeFiles.O_RDONLY, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> NativeBridge.openat2(root,
                    new byte[0], SafeFiles.O_RDONLY, 0, 0));
        } finally {
            NativeBridge.close(root);
        }
    }

    @Test
    void openingAFifoNonBlockingOrAsAPathNeverWaitsForAWriter(@TempDir Path dir)
            throws Exception {
        mkfifo(dir.resolve("fifo"));
        int root = openDir(dir);
        try {
            int path = NativeBridge.openat2(root, b("fifo"), SafeFiles.O_PATH
                    | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
            assertEquals(Kind.FIFO, Stat.of(path).kind());
            NativeBridge.close(path);
            int read = NativeBridge.openat2(root, b("fifo"), SafeFiles.O_RDONLY
                    | SafeFiles.O_NONBLOCK | SafeFiles.O_NOFOLLOW, 0, SafeFiles.BENEATH);
            assertEquals(Kind.FIFO, Stat.of(read).kind());
            NativeBridge.close(read);
        } finally {
            NativeBridge.close(root);
        }
    }

    @Test
    void fstatReportsTheOpenedInodeAndEbadfOtherwise(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("file");
        Files.write(file, new byte[1234]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        int fd = NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(file),
                SafeFiles.O_PATH, 0, 0);
        Stat stat = Stat.of(fd);
        NativeBridge.close(fd);
        Map<String, Object> attributes = Files.readAttributes(file, "unix:ino,dev,uid,nlink");
        assertEquals(new Stat(Kind.REGULAR, 0640, 1234, (Long) attributes.get("dev"),
                (Long) attributes.get("ino"), (Integer) attributes.get("uid"), 1), stat);
        NativeException e = assertThrows(NativeException.class, () -> NativeBridge.fstat(-1));
        assertEquals(EBADF, e.errno());
        assertEquals("fstat", e.call());
    }

    @Test
    void getdents64ListsEveryNameAndLseekListsAgain(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 2000; i++) {
            Files.createFile(dir.resolve("entry-with-a-long-name-" + i));
        }
        Files.createFile(dir.resolve(new String(new byte[] {'x', (byte) 0xff},
                StandardCharsets.ISO_8859_1)));
        int fd = openDir(dir);
        try {
            List<byte[]> names = SafeFiles.names(fd);
            assertEquals(2001, names.size());
            assertEquals(0, SafeFiles.names(fd).size(), "at the end, the listing stays empty");
            assertEquals(0, NativeBridge.lseek(fd, 0, NativeBridge.SEEK_SET));
            assertEquals(2001, SafeFiles.names(fd).size());
        } finally {
            NativeBridge.close(fd);
        }
        int path = NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(dir),
                SafeFiles.O_PATH | SafeFiles.O_DIRECTORY, 0, 0);
        NativeException onPath = assertThrows(NativeException.class,
                () -> NativeBridge.getdents64(path, new byte[4096]));
        assertEquals(EBADF, onPath.errno());
        assertEquals("getdents64", onPath.call());
        NativeBridge.close(path);
        int file = NativeBridge.openat2(NativeBridge.AT_FDCWD,
                SafeFiles.bytes(dir.resolve("entry-with-a-long-name-0")), SafeFiles.O_RDONLY, 0, 0);
        NativeException onFile = assertThrows(NativeException.class,
                () -> NativeBridge.getdents64(file, new byte[4096]));
        assertEquals(ENOTDIR, onFile.errno());
        NativeBridge.close(file);
        int[] pipe = NativeBridge.pipe();
        NativeException seek = assertThrows(NativeException.class,
                () -> NativeBridge.lseek(pipe[0], 0, NativeBridge.SEEK_SET));
        assertEquals(ESPIPE, seek.errno());
        assertEquals("lseek", seek.call());
        NativeBridge.close(pipe[0]);
        NativeBridge.close(pipe[1]);
    }

    @Test
    void unlinkatRemovesEntriesAndReportsDirectories(@TempDir Path dir) throws Exception {
        Files.createFile(dir.resolve("file"));
        Files.createDirectories(dir.resolve("full/inner"));
        Files.createDirectory(dir.resolve("empty"));
        int fd = openDir(dir);
        try {
            NativeBridge.unlinkat(fd, b("file"), 0);
            assertFalse(Files.exists(dir.resolve("file")));
            NativeException isDir = assertThrows(NativeException.class,
                    () -> NativeBridge.unlinkat(fd, b("empty"), 0));
            assertEquals(EISDIR, isDir.errno());
            assertEquals("unlinkat", isDir.call());
            NativeException notEmpty = assertThrows(NativeException.class,
                    () -> NativeBridge.unlinkat(fd, b("full"), NativeBridge.AT_REMOVEDIR));
            assertEquals(ENOTEMPTY, notEmpty.errno());
            NativeBridge.unlinkat(fd, b("empty"), NativeBridge.AT_REMOVEDIR);
            assertFalse(Files.exists(dir.resolve("empty")));
        } finally {
            NativeBridge.close(fd);
        }
    }

    private static int openPath(Path dir, String name, int flags) throws NativeException {
        int root = openDir(dir);
        try {
            return NativeBridge.openat2(root, b(name), SafeFiles.O_PATH | SafeFiles.O_NOFOLLOW
                    | flags, 0, SafeFiles.BENEATH);
        } finally {
            NativeBridge.close(root);
        }
    }

    private static long mtime(Path p) throws IOException {
        return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis();
    }

    private static List<Object> owner(Path p) throws IOException {
        return List.of(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void fchmodChangesTheDescriptorsInodeNeverALinksTargetNorWhatItsNameNamesLater(
            @TempDir Path dir) throws Exception {
        Path target = Files.createDirectory(dir.resolve("target"));
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r-x------"));
        Files.createSymbolicLink(dir.resolve("link"), target);
        int link = openPath(dir, "link", 0);
        try {
            NativeException onLink = assertThrows(NativeException.class,
                    () -> NativeBridge.fchmod(link, 0777));
            assertEquals(EOPNOTSUPP, onLink.errno());
            assertEquals("fchmodat2", onLink.call());
            assertEquals(0500, mode(target));
        } finally {
            NativeBridge.close(link);
        }
        int opened = openPath(dir, "target", SafeFiles.O_DIRECTORY);
        try {
            // The name is swapped for another directory after the open: the one opened changes.
            Files.move(target, dir.resolve("moved"));
            Files.createDirectory(target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r-x------"));
            NativeBridge.fchmod(opened, 0750);
            assertEquals(0750, mode(dir.resolve("moved")));
            assertEquals(0500, mode(target));
            assertThrows(IllegalArgumentException.class, () -> NativeBridge.fchmod(opened,
                    010000));
        } finally {
            NativeBridge.close(opened);
        }
    }

    /**
     * The commit's race in small: a file created and then, under the same name, swapped for a
     * hard link to another file before its owner, mode and time are set. Set through the
     * descriptor created, they reach the new file only; the other keeps all three.
     */
    @Test
    void fchownFchmodAndFutimensChangeTheFileCreatedNotAHardLinkSwappedInUnderItsName(
            @TempDir Path dir) throws Exception {
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "victim");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.setLastModifiedTime(victim, FileTime.fromMillis(1000));
        List<Object> victimOwner = owner(victim);
        int root = openDir(dir);
        int out = NativeBridge.openat2(root, b("made"), SafeFiles.O_WRONLY | SafeFiles.O_CREAT
                | SafeFiles.O_EXCL | SafeFiles.O_NOFOLLOW, 0600, SafeFiles.BENEATH);
        try {
            NativeBridge.unlinkat(root, b("made"), 0);
            Files.createLink(dir.resolve("made"), victim);
            // root gives it away (as the commit does to the workspace's owner); anyone else
            // can only give it its own ids, which still must not reach the victim.
            boolean root0 = NativeBridge.getuid() == 0;
            int uid = root0 ? 4321 : NativeBridge.getuid();
            int gid = root0 ? 4322 : NativeBridge.getgid();
            NativeBridge.fchown(out, uid, gid);
            NativeBridge.fchmod(out, 0755);
            NativeBridge.futimens(out, 1_234_567_890L, 5);
            long[] made = NativeBridge.fstat(out);
            assertEquals(List.of(0100755L, (long) uid, (long) gid, 1_234_567_890L, 5L, 0L),
                    List.of(made[NativeBridge.STAT_MODE], made[NativeBridge.STAT_UID],
                            made[NativeBridge.STAT_GID], made[NativeBridge.STAT_MTIME_SEC],
                            made[NativeBridge.STAT_MTIME_NSEC], made[NativeBridge.STAT_NLINK]));
            assertEquals(0666, mode(victim));
            assertEquals(victimOwner, owner(victim));
            assertEquals(1000, mtime(victim));
            assertEquals(2, Files.getAttribute(victim, "unix:nlink"));
            NativeException closed = assertThrows(NativeException.class,
                    () -> NativeBridge.fchown(-1, uid, gid));
            assertEquals(EBADF, closed.errno());
            assertEquals("fchownat", closed.call());
            assertThrows(IllegalArgumentException.class,
                    () -> NativeBridge.futimens(out, 0, 1_000_000_000L));
        } finally {
            NativeBridge.close(out);
            NativeBridge.close(root);
        }
    }

    @Test
    void fchownAndFutimensOfALinksPathDescriptorChangeTheLinkNotItsTarget(@TempDir Path dir)
            throws Exception {
        Path target = dir.resolve("target");
        Files.writeString(target, "target");
        Files.setLastModifiedTime(target, FileTime.fromMillis(1000));
        List<Object> targetOwner = owner(target);
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("target"));
        int fd = openPath(dir, "link", 0);
        try {
            boolean root0 = NativeBridge.getuid() == 0;
            int uid = root0 ? 4321 : NativeBridge.getuid();
            int gid = root0 ? 4322 : NativeBridge.getgid();
            NativeBridge.fchown(fd, uid, gid);
            NativeBridge.futimens(fd, 2_000_000_000L, 0);
            assertEquals(List.of(uid, gid), owner(link));
            assertEquals(2_000_000_000_000L, mtime(link));
            assertEquals(targetOwner, owner(target));
            assertEquals(1000, mtime(target));
        } finally {
            NativeBridge.close(fd);
        }
    }

    @Test
    void fstatfsTypeNamesTheFilesystemOfAPathDescriptor() throws Exception {
        int proc = NativeBridge.openat2(NativeBridge.AT_FDCWD, b("/proc"), SafeFiles.O_PATH
                | SafeFiles.O_DIRECTORY, 0, 0);
        try {
            assertEquals(0x9fa0L, NativeBridge.fstatfsType(proc), "PROC_SUPER_MAGIC");
        } finally {
            NativeBridge.close(proc);
        }
        NativeException bad = assertThrows(NativeException.class,
                () -> NativeBridge.fstatfsType(-1));
        assertEquals(EBADF, bad.errno());
        assertEquals("fstatfs", bad.call());
    }

    @Test
    void mkdiratCreatesOnceAndRenameatNeverReplaces(@TempDir Path dir) throws Exception {
        int fd = openDir(dir);
        try {
            NativeBridge.mkdirat(fd, b("made"), 0700);
            assertTrue(Files.isDirectory(dir.resolve("made")));
            assertEquals(0700, mode(dir.resolve("made")));
            NativeException again = assertThrows(NativeException.class,
                    () -> NativeBridge.mkdirat(fd, b("made"), 0700));
            assertEquals(EEXIST, again.errno());
            assertEquals("mkdirat", again.call());

            Files.writeString(dir.resolve("kept"), "kept");
            NativeException replace = assertThrows(NativeException.class,
                    () -> NativeBridge.renameatFlags(fd, b("made"), fd, b("kept"),
                            NativeBridge.RENAME_NOREPLACE));
            assertEquals(EEXIST, replace.errno());
            assertEquals("renameat2", replace.call());
            assertEquals("kept", Files.readString(dir.resolve("kept")));
            NativeBridge.renameatFlags(fd, b("made"), fd, b("moved"),
                    NativeBridge.RENAME_NOREPLACE);
            assertTrue(Files.isDirectory(dir.resolve("moved")));
        } finally {
            NativeBridge.close(fd);
        }
    }

    @Test
    void readlinkatReadsALinkAndRefusesAnythingElse(@TempDir Path dir) throws Exception {
        Files.createSymbolicLink(dir.resolve("link"), Path.of("../../somewhere"));
        Files.createFile(dir.resolve("file"));
        int fd = openDir(dir);
        try {
            assertArrayEquals(b("../../somewhere"), NativeBridge.readlinkat(fd, b("link")));
            NativeException notLink = assertThrows(NativeException.class,
                    () -> NativeBridge.readlinkat(fd, b("file")));
            assertEquals(EINVAL, notLink.errno());
            assertEquals("readlinkat", notLink.call());
        } finally {
            NativeBridge.close(fd);
        }
    }
}
