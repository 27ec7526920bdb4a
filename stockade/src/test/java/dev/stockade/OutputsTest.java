package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.CollectedOutputs.Collected;
import dev.stockade.CollectedOutputs.Reason;
import dev.stockade.CollectedOutputs.Skipped;
import dev.stockade.testing.SandboxUser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Outputs} against a workspace a hostile step left: only regular files matching a glob
 * are copied; links, FIFOs, sockets, devices, files over a bound and mount points are listed
 * with their reason; nothing outside the workspace, and none of the skipped entries, is opened
 * (an inotify watch on the workspace's directories and on its parent shows every open).
 */
@Timeout(120)
class OutputsTest {

    private static final String HELLO = "hello";
    private static final long ONE_GIB = 1L << 30;

    /**
     * Prints "ready" once it watches every directory given, then one line "DIR NAME EVENT" per
     * open or read of an entry in one (NAME empty for the directory itself), and exits after
     * the open of a file named end-marker.
     */
    private static final String WATCHER = String.join("\n",
            "import ctypes, os, struct, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "IN_ACCESS, IN_OPEN = 0x1, 0x20",
            "fd = libc.inotify_init1(0)",
            "watches = {}",
            "for d in sys.argv[1:]:",
            "    wd = libc.inotify_add_watch(fd, d.encode(), IN_ACCESS | IN_OPEN)",
            "    if wd < 0: sys.exit('inotify_add_watch ' + d + ': ' + os.strerror(ctypes.get_errno()))",
            "    watches[wd] = d",
            "print('ready', flush=True)",
            "while True:",
            "    data = os.read(fd, 65536)",
            "    at = 0",
            "    while at < len(data):",
            "        wd, mask, cookie, length = struct.unpack_from('iIII', data, at)",
            "        name = data[at + 16:at + 16 + length].rstrip(b'\\0').decode()",
            "        at += 16 + length",
            "        print(watches[wd], name, 'OPEN' if mask & IN_OPEN else 'ACCESS', flush=True)",
            "        if name == 'end-marker': sys.exit(0)");

    /** Watches the directories while {@code action} runs; returns the events seen. */
    private static List<String> watching(List<Path> dirs, Path marker, IoAction action)
            throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-c", WATCHER));
        dirs.forEach(d -> command.add(d.toString()));
        Process watcher = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(
                watcher.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("ready", out.readLine());
            action.run();
            Files.writeString(marker, "end");
            List<String> events = new ArrayList<>();
            for (String line; (line = out.readLine()) != null; ) {
                events.add(line);
            }
            assertEquals(0, watcher.waitFor(), String.join("\n", events));
            return events;
        } finally {
            watcher.destroyForcibly();
        }
    }

    interface IoAction {
        void run() throws Exception;
    }

    private static void mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    private static ServerSocketChannel socket(Path path) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(path));
        return channel;
    }

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString())
                    .sorted().toList();
        }
    }

    /** The case, exactly. */
    @Test
    void onlyTheRegularFileIsCollectedAndNothingElseIsOpened(@TempDir Path base)
            throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Path out = Files.createDirectory(ws.resolve("out"));
        Files.writeString(out.resolve("a.txt"), HELLO);
        Files.createSymbolicLink(out.resolve("link"), Path.of("/etc/passwd"));
        // out/sub/../../escape: out/sub leads to the workspace's parent, where the step would
        // like "escape" read; followed, out/sub/escape is base/escape.
        Files.createSymbolicLink(out.resolve("sub"), Path.of("../.."));
        Files.writeString(base.resolve("escape"), "outside the workspace");
        mkfifo(out.resolve("fifo"));
        try (RandomAccessFile big = new RandomAccessFile(out.resolve("big").toFile(), "rw")) {
            big.setLength(ONE_GIB);
        }
        Path into = base.resolve("into");
        CollectedOutputs[] result = new CollectedOutputs[1];
        List<String> events;
        try (ServerSocketChannel listening = socket(out.resolve("sock"))) {
            assertTrue(listening.isOpen());
            events = watching(List.of(base, ws, out), base.resolve("end-marker"),
                    () -> result[0] = Outputs.collect(ws, List.of("out/**"), into));
        }

        assertEquals(List.of(new Collected("out/a.txt", HELLO.length())), result[0].collected());
        assertEquals(List.of(
                new Skipped("out/big", Reason.OVER_BYTE_LIMIT, ONE_GIB + " bytes, "
                        + (Outputs.DEFAULT_MAX_BYTES - HELLO.length()) + " of "
                        + Outputs.DEFAULT_MAX_BYTES + " left"),
                new Skipped("out/fifo", Reason.FIFO, "not opened"),
                new Skipped("out/link", Reason.SYMLINK,
                        "to /etc/passwd, not followed"),
                new Skipped("out/sock", Reason.SOCKET, "not opened"),
                new Skipped("out/sub", Reason.SYMLINK, "to ../.., not followed")),
                result[0].skipped());
        assertEquals(0, result[0].skippedNotListed());
        assertEquals(1, result[0].fileCount());
        assertEquals(HELLO.length(), result[0].byteCount());
        assertEquals(List.of("out", "out/a.txt"), tree(into));
        assertEquals(HELLO, Files.readString(into.resolve("out/a.txt")));
        assertEquals(NativeUid.get(), Files.getAttribute(into.resolve("out/a.txt"), "unix:uid"));

        // The watch works: a.txt was opened and read, the marker seen.
        assertTrue(events.contains(out + " a.txt OPEN"), String.join("\n", events));
        assertTrue(events.contains(out + " a.txt ACCESS"), String.join("\n", events));
        for (String event : events) {
            String name = event.split(" ", -1)[1];
            assertFalse(List.of("escape", "big", "fifo", "sock", "link", "sub").contains(name),
                    "opened or read: " + event);
        }
    }

    /**
     * A mount point inside the workspace (another filesystem's content) is not entered:
     * openat2(RESOLVE_NO_XDEV) refuses the lookup. Only root can mount on the host.
     */
    @Test
    void aMountPointInsideTheWorkspaceEscapesIt(@TempDir Path base) throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), "mounting needs root");
        Path ws = Files.createDirectory(base.resolve("ws"));
        Path out = Files.createDirectory(ws.resolve("out"));
        Files.writeString(out.resolve("a.txt"), HELLO);
        Path elsewhere = Files.createDirectory(base.resolve("elsewhere"));
        Files.writeString(elsewhere.resolve("secret"), "not the workspace's");
        Path mountPoint = Files.createDirectory(out.resolve("mnt"));
        assertEquals(0, new ProcessBuilder("mount", "--bind", elsewhere.toString(),
                mountPoint.toString()).inheritIO().start().waitFor());
        try {
            Path into = base.resolve("into");
            CollectedOutputs result = Outputs.collect(ws, List.of("out/**"), into);
            assertEquals(List.of(new Collected("out/a.txt", HELLO.length())),
                    result.collected());
            assertEquals(List.of(new Skipped("out/mnt", Reason.ESCAPES_WORKSPACE,
                    "the lookup leaves the workspace (a mount point, or moved out): Invalid"
                            + " cross-device link")), result.skipped());
            assertEquals(List.of("out", "out/a.txt"), tree(into));
        } finally {
            assertEquals(0, new ProcessBuilder("umount", mountPoint.toString()).inheritIO()
                    .start().waitFor());
        }
    }

    @Test
    void theFileBoundSkipsTheRestInNameOrder(@TempDir Path base) throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        for (String name : List.of("1", "2", "3")) {
            Files.writeString(ws.resolve(name + ".log"), name);
        }
        CollectedOutputs result = Outputs.matching("*.log").maxFiles(2)
                .collect(ws, base.resolve("into"));
        assertEquals(List.of(new Collected("1.log", 1), new Collected("2.log", 1)),
                result.collected());
        assertEquals(List.of(new Skipped("3.log", Reason.OVER_FILE_LIMIT,
                "2 files collected already")), result.skipped());
    }

    @Test
    void theByteBoundSkipsAFileThatWouldPassItAndKeepsSmallerOnes(@TempDir Path base)
            throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Files.write(ws.resolve("a"), new byte[10]);
        Files.write(ws.resolve("b"), new byte[100]);
        Files.write(ws.resolve("c"), new byte[40]);
        Files.write(ws.resolve("d"), new byte[1]);
        Path into = base.resolve("into");
        CollectedOutputs result = Outputs.matching("*").maxBytes(50).collect(ws, into);
        assertEquals(List.of(new Collected("a", 10), new Collected("c", 40)), result.collected());
        assertEquals(List.of(new Skipped("b", Reason.OVER_BYTE_LIMIT, "100 bytes, 40 of 50 left"),
                new Skipped("d", Reason.OVER_BYTE_LIMIT, "1 bytes, 0 of 50 left")),
                result.skipped());
        assertEquals(50, result.byteCount());
        assertEquals(List.of("a", "c"), tree(into));
    }

    @Test
    void globsMatchWorkspaceRelativePathsAndOnlyWhereTheyCanMatchAreLinksReported(
            @TempDir Path base) throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Files.writeString(ws.resolve("app.jar"), "app");
        Files.createDirectories(ws.resolve("lib/deep"));
        Files.writeString(ws.resolve("lib/dep.jar"), "dep");
        Files.writeString(ws.resolve("lib/deep/x.jar"), "x");
        Files.writeString(ws.resolve("lib/notes.txt"), "notes");
        Files.createSymbolicLink(ws.resolve("elsewhere"), Path.of("/"));
        Files.createSymbolicLink(ws.resolve("lib/up"), Path.of(".."));

        CollectedOutputs top = Outputs.collect(ws, List.of("*.jar"), base.resolve("top"));
        assertEquals(List.of(new Collected("app.jar", 3)), top.collected());
        assertEquals(List.of(), top.skipped(), "no link stands where *.jar can match");

        CollectedOutputs deep = Outputs.collect(ws, List.of("lib/**/*.jar", "lib/*.jar"),
                base.resolve("deep"));
        assertEquals(List.of(new Collected("lib/deep/x.jar", 1), new Collected("lib/dep.jar", 3)),
                deep.collected());
        assertEquals(List.of(new Skipped("lib/up", Reason.SYMLINK,
                "to .., not followed")), deep.skipped());
        assertEquals(List.of("lib", "lib/deep", "lib/deep/x.jar", "lib/dep.jar"),
                tree(base.resolve("deep")));
    }

    @Test
    void anEntryAlreadyInTheDestinationIsNeverReplacedNorWrittenThrough(@TempDir Path base)
            throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Files.createDirectories(ws.resolve("out"));
        Files.createDirectories(ws.resolve("gen"));
        Files.writeString(ws.resolve("out/a.txt"), "new");
        Files.writeString(ws.resolve("gen/b.txt"), "new");
        Path into = Files.createDirectory(base.resolve("into"));
        Files.createDirectory(into.resolve("out"));
        Files.writeString(into.resolve("out/a.txt"), "old");
        Path victim = Files.createDirectory(base.resolve("victim"));
        Files.createSymbolicLink(into.resolve("gen"), victim);

        CollectedOutputs result = Outputs.collect(ws, List.of("out/*", "gen/*"), into);
        assertEquals(List.of(), result.collected());
        assertEquals(List.of(
                new Skipped("gen/b.txt", Reason.ALREADY_EXISTS,
                        "the destination has a non-directory at gen; not replaced"),
                new Skipped("out/a.txt", Reason.ALREADY_EXISTS,
                        "the destination has an entry there; not replaced")), result.skipped());
        assertEquals("old", Files.readString(into.resolve("out/a.txt")));
        assertEquals(List.of(), tree(victim));
    }

    @Test
    void anUnreadableFileIsSkippedForAnOrdinaryCaller(@TempDir Path base) throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Path file = ws.resolve("locked");
        Files.writeString(file, "secret");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        CollectedOutputs result = Outputs.collect(ws, List.of("*"), base.resolve("into"));
        if (SandboxUser.callerIsRoot()) {
            // Root reads any file; the copy is not left unreadable to its owner.
            assertEquals(List.of(new Collected("locked", 6)), result.collected());
            int mode = (Integer) Files.getAttribute(base.resolve("into/locked"), "unix:mode");
            assertEquals(0600, mode & 0777);
        } else {
            assertEquals(List.of(), result.collected());
            assertEquals(List.of(new Skipped("locked", Reason.UNREADABLE,
                    "EACCES: Permission denied")), result.skipped());
        }
    }

    @Test
    void copiesNeverCarrySetIdOrOthersWriteBits(@TempDir Path base) throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        Path tool = ws.resolve("tool");
        Files.writeString(tool, "#!/bin/sh\n");
        Files.setAttribute(tool, "unix:mode", 04777);
        Outputs.collect(ws, List.of("tool"), base.resolve("into"));
        int mode = (Integer) Files.getAttribute(base.resolve("into/tool"), "unix:mode",
                LinkOption.NOFOLLOW_LINKS);
        assertEquals(0, mode & 07022, Integer.toOctalString(mode));
        assertEquals(0700, mode & 0700, Integer.toOctalString(mode));
    }

    @Test
    void theDestinationMustNotOverlapTheWorkspace(@TempDir Path base) throws Exception {
        Path ws = Files.createDirectory(base.resolve("ws"));
        IllegalArgumentException inside = assertThrows(IllegalArgumentException.class,
                () -> Outputs.collect(ws, List.of("*"), ws.resolve("collected")));
        assertEquals("output destination " + ws.resolve("collected") + " lies inside the"
                + " workspace " + ws + ": collect into a directory outside it",
                inside.getMessage());
        assertFalse(Files.exists(ws.resolve("collected")));
        assertThrows(IllegalArgumentException.class,
                () -> Outputs.collect(ws, List.of("*"), base));
        // Through a link: the real paths overlap.
        Path alias = Files.createSymbolicLink(base.resolve("alias"), ws);
        assertThrows(IllegalArgumentException.class,
                () -> Outputs.collect(alias, List.of("*"), ws.resolve("x")));
        assertThrows(IllegalArgumentException.class,
                () -> Outputs.collect(ws, List.of("*"), alias.resolve("x")));
    }

    /** The uid of this process, which owns what it creates. */
    private static final class NativeUid {
        static Object get() throws IOException {
            return Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        }
    }
}
