package dev.stockade;

import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.HostOutput;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.SandboxUser;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A root caller's workspace, as CI containers have it: root's, 0755, used without a chown.
 * The command (host uid 65534 in its user namespace, without capabilities) writes it through
 * an idmapped bind, and what it writes is root's on the host; so no way of leaving a set-id
 * or file-capability file there may work.
 */
@Timeout(120)
class RootCallerWorkspaceTest {

    /**
     * A version-2 security.capability value granting CAP_NET_RAW (bit 13) permitted and
     * effective: magic VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, then permitted and
     * inheritable words, little-endian.
     */
    private static final String CAP_NET_RAW = "01000002" + "00200000" + "00000000"
            + "00000000" + "00000000";

    @TempDir
    Path workspace;

    @TempDir
    Path hostFiles;

    @BeforeEach
    void rootsWorkspace() throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), "a root caller (CI runs this as root)");
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(0, (int) Files.getAttribute(workspace, "unix:uid"));
    }

    private SandboxPolicy policy() {
        return SandboxPolicy.builder().workspace(workspace).build();
    }

    private static String owner(Path p) throws Exception {
        return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":"
                + Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    private static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void aRootOwnedWorkspaceIsWritableAndTheOutputsAreRoots() throws Exception {
        Files.writeString(workspace.resolve("root-only"), "secret of the build\n");
        Files.setPosixFilePermissions(workspace.resolve("root-only"),
                PosixFilePermissions.fromString("rw-------"));
        Path foreign = workspace.resolve("foreign");
        Files.writeString(foreign, "another user's\n");
        Files.setAttribute(foreign, "unix:uid", 1234);
        Files.setAttribute(foreign, "unix:gid", 1234);

        // Without the idmap (set-id files allowed: no guard, so a plain bind) the command is
        // only host uid 65534, and root's 0755 workspace is not its to write.
        SandboxPolicy plain = policy().toBuilder().allowSetIdFiles(true).build();
        FsProbe.run(plain, "mkdir " + workspace.resolve("d"))
                .expect("mkdir " + workspace.resolve("d"), "EACCES");

        SandboxPolicy policy = policy();
        Output out = SandboxTesting.run(policy, "/bin/sh", "-c", "id -u; stat -c %u:%g .;"
                + " mkdir d && echo hi > d/f && touch g && ln -s g l && cat root-only");
        assertExitedZero(out);
        assertEquals(policy.uid() + "\n" + policy.uid() + ":" + policy.gid()
                + "\nsecret of the build\n", out.stdout(), out.toString());
        assertEquals(65534, policy.uid(), "a root caller's command is not root");
        for (String p : List.of("d", "d/f", "g", "l")) {
            assertEquals("0:0", owner(workspace.resolve(p)), p);
        }
        assertEquals(0755, mode(workspace.resolve("d")));
        assertEquals(0644, mode(workspace.resolve("d/f")));
        assertEquals("hi\n", Files.readString(workspace.resolve("d/f")));

        // Only the owner is mapped: another user's file is not the command's.
        FsProbe.Result r = FsProbe.run(policy, "append " + foreign, "read " + foreign);
        r.expect("append " + foreign, "EACCES");
        r.expect("read " + foreign, "ok 15 " + HostTree.sha256(foreign));
        assertEquals("another user's\n", Files.readString(foreign));
        assertEquals("1234:1234", owner(foreign));
    }

    /** Every writable bind, not only the workspace, is its source owner's: root's or not. */
    @Test
    void writableBindsWriteAsTheirSourcesOwner(@TempDir Path other) throws Exception {
        Files.setPosixFilePermissions(hostFiles, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(other, "unix:uid", 1234);
        Files.setAttribute(other, "unix:gid", 4321);
        SandboxPolicy policy = policy().toBuilder().bind(hostFiles, Path.of("/out"))
                .bind(other, Path.of("/other")).build();
        Output out = SandboxTesting.run(policy, "/bin/sh", "-c",
                "echo a > /out/a && mkdir /other/d && echo b > /other/d/b"
                        + " && stat -c %u /out /other");
        assertExitedZero(out);
        assertEquals(policy.uid() + "\n" + policy.uid() + "\n", out.stdout(), out.toString());
        assertEquals("0:0", owner(hostFiles.resolve("a")));
        assertEquals("1234:4321", owner(other.resolve("d")));
        assertEquals("1234:4321", owner(other.resolve("d/b")));
    }

    @Test
    void noSetIdOrFileCapabilityFileCanBeLeft() throws Exception {
        // Host material: a set-user-ID program and an ordinary one, bound read-only, and an
        // archive of each (tar --mode), in the workspace.
        Files.setPosixFilePermissions(hostFiles, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path setuid = hostFiles.resolve("setuid");
        Path plainProgram = hostFiles.resolve("plain");
        for (Path p : List.of(setuid, plainProgram)) {
            Files.copy(Path.of("/bin/true"), p);
        }
        // Readable by the command (others r--), a mode cp -p must keep.
        Files.setPosixFilePermissions(plainProgram, PosixFilePermissions.fromString("rwxr-xr--"));
        Files.setAttribute(setuid, "unix:mode", 04755);
        assertEquals(04755, mode(setuid));
        for (String[] a : List.of(new String[] {"setid.tar", "6755"},
                new String[] {"plain.tar", "0750"})) {
            HostOutput tar = SandboxTesting.runOnHost(new ProcessBuilder("tar", "-C",
                    hostFiles.toString(), "--owner=0", "--group=0", "--mode=" + a[1], "-cf",
                    workspace.resolve(a[0]).toString(), "plain"));
            assertEquals(0, tar.exitCode(), tar.toString());
        }
        Files.copy(Path.of("/bin/true"), workspace.resolve("f"));
        Files.setPosixFilePermissions(workspace.resolve("f"),
                PosixFilePermissions.fromString("rwxr-xr-x"));
        Path inside = Path.of("/tmp/host");
        SandboxPolicy policy = policy().toBuilder().bindReadOnly(hostFiles, inside).build();

        Path ws = workspace;
        FsProbe.Result r = FsProbe.run(policy,
                // The allowed cases: the same calls without the bits.
                "chmod " + ws.resolve("f") + " 750", "openmode " + ws.resolve("o1") + " 755",
                "mknod " + ws.resolve("m1") + " 644",
                "setxattr " + ws.resolve("f") + " user.stockade 78",
                // The refused ones.
                "chmod " + ws.resolve("f") + " 4755", "chmod " + ws.resolve("f") + " 2755",
                "chmod " + ws.resolve("f") + " 6750",
                "openmode " + ws.resolve("o2") + " 4755", "openmode " + ws.resolve("o3") + " 2755",
                "mknod " + ws.resolve("m2") + " 4755", "mknod " + ws.resolve("m3") + " 2755",
                "setxattr " + ws.resolve("f") + " security.capability " + CAP_NET_RAW,
                "setxattr " + ws.resolve("o1") + " security.capability " + CAP_NET_RAW);
        for (String ok : List.of("chmod " + ws.resolve("f") + " 750",
                "openmode " + ws.resolve("o1") + " 755", "mknod " + ws.resolve("m1") + " 644",
                "setxattr " + ws.resolve("f") + " user.stockade 78")) {
            r.expect(ok, "ok");
        }
        for (String refused : List.of("chmod " + ws.resolve("f") + " 4755",
                "chmod " + ws.resolve("f") + " 2755", "chmod " + ws.resolve("f") + " 6750",
                "openmode " + ws.resolve("o2") + " 4755",
                "openmode " + ws.resolve("o3") + " 2755",
                "mknod " + ws.resolve("m2") + " 4755", "mknod " + ws.resolve("m3") + " 2755",
                "setxattr " + ws.resolve("f") + " security.capability " + CAP_NET_RAW,
                "setxattr " + ws.resolve("o1") + " security.capability " + CAP_NET_RAW)) {
            r.expect(refused, "EPERM");
        }

        String setfattr = Files.isExecutable(Path.of("/usr/bin/setfattr"))
                ? "setfattr -n security.capability -v 0x" + CAP_NET_RAW + " f; echo setfattr=$?;"
                : "";
        Output tools = SandboxTesting.run(policy, "/bin/sh", "-c", String.join(" ",
                "cp -p " + inside.resolve("plain") + " plain-copy; echo cp-plain=$?;",
                "cp -p " + inside.resolve("setuid") + " setuid-copy; echo cp-setuid=$?;",
                "chmod u+s f; echo chmod-u=$?;", "chmod g+s f; echo chmod-g=$?;",
                "mkdir x y && tar -C x -xpf plain.tar; echo tar-plain=$?;",
                "tar -C y -xpf setid.tar; echo tar-setid=$?;",
                "install -m 4755 /bin/true installed; echo install=$?;", setfattr));
        List<String> expected = new ArrayList<>(List.of("cp-plain=0", "cp-setuid=1",
                "chmod-u=1", "chmod-g=1", "tar-plain=0", "tar-setid=2", "install=1"));
        if (!setfattr.isEmpty()) {
            expected.add("setfattr=1");
        }
        assertEquals(expected, tools.stdout().lines().toList(), tools.toString());
        assertTrue(tools.stderr().contains("Operation not permitted"), tools.toString());

        // The allowed cases left their modes and attribute; nothing set-id, no capability.
        assertEquals(0750, mode(ws.resolve("f")));
        assertEquals(0754, mode(ws.resolve("plain-copy")));
        assertEquals(0750, mode(ws.resolve("x/plain")));
        assertEquals(0755, mode(ws.resolve("o1")));
        assertEquals(0644, mode(ws.resolve("m1")));
        assertEquals(List.of(), setIdFiles());
        HostOutput xattrs = SandboxTesting.runOnHost(new ProcessBuilder(SandboxTesting.PYTHON,
                "-c", "import os, sys\n"
                        + "for d, dirs, files in os.walk(sys.argv[1]):\n"
                        + "    for n in dirs + files:\n"
                        + "        p = os.path.join(d, n)\n"
                        + "        for a in os.listxattr(p, follow_symlinks=False):\n"
                        + "            print(os.path.relpath(p, sys.argv[1]), a)\n",
                ws.toString()));
        assertEquals("f user.stockade\n", xattrs.stdout(), xattrs.toString());
        for (String p : List.of("f", "o1", "m1", "plain-copy", "x", "x/plain")) {
            assertEquals("0:0", owner(ws.resolve(p)), p);
        }
    }

    /** Every entry of the workspace, seen from the host, with a set-id bit. */
    private List<String> setIdFiles() throws Exception {
        try (Stream<Path> files = Files.walk(workspace)) {
            List<String> found = new ArrayList<>();
            for (Path p : files.toList()) {
                if (!Files.isSymbolicLink(p) && (mode(p) & 06000) != 0) {
                    found.add(workspace.relativize(p) + " " + Integer.toOctalString(mode(p)));
                }
            }
            return found;
        }
    }

    @Test
    void placeholdersAndProtectedPathsWorkOnAnIdmappedWorkspace() throws Exception {
        Map<String, String> before = HostTree.snapshot(workspace);
        FsProbe.Result r = FsProbe.run(policy(), "write " + workspace.resolve(".envrc"),
                "create " + workspace.resolve("ok"));
        r.expect("create " + workspace.resolve("ok"), "ok");
        r.expect("write " + workspace.resolve(".envrc"), "EROFS");
        Files.delete(workspace.resolve("ok"));
        assertEquals(before, HostTree.snapshot(workspace));
    }
}
