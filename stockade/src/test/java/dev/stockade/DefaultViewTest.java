package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.internal.BaseView;
import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.File;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default view holds only what a build needs: the system trees read-only, the workspace,
 * a private home, private temporary directories. The caller's home, other users' homes,
 * {@code /root}, {@code /var}, {@code /sys}, {@code /mnt}, {@code /media}, {@code /srv}, the
 * host's sockets and its password hashes are not in it, and nothing outside the writable
 * places can be written.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class DefaultViewTest {

    @TempDir
    Path workspace;

    private SandboxPolicy policy() {
        return SandboxPolicy.builder().workspace(workspace).build();
    }

    @Test
    void theCallersHomeIsNotInTheView() throws Exception {
        Path realHome = Path.of(System.getProperty("user.home"));
        Path secret = realHome.resolve(".stockade-secret-" + SandboxTesting.marker());
        Files.writeString(secret, "token=hunter2\n");
        try {
            // The allowed case: the same probe reads the secret when it is put into the view.
            Path inside = Path.of("/tmp/secret");
            SandboxPolicy bound = policy().toBuilder().bindReadOnly(secret, inside).build();
            FsProbe.run(bound, "read " + inside).expect("read " + inside,
                    "ok 14 " + HostTree.sha256Of("token=hunter2\n"));

            SandboxPolicy policy = policy();
            Path home = policy.home();
            FsProbe.Result r = FsProbe.run(policy, "read " + secret, "list " + home,
                    "lstat " + home);
            r.expect("read " + secret, "ENOENT");
            r.expect("list " + home, "ok ");
            // The private home: a directory of the sandbox user's, 0700.
            String mode = r.get("lstat " + home);
            assertTrue(mode.startsWith("ok 40700 " + policy.uid() + " " + policy.gid() + " "),
                    mode);
        } finally {
            Files.delete(secret);
        }
    }

    @Test
    void thePrivateHomeIsBounded() throws Exception {
        SandboxPolicy policy = policy().toBuilder().homeSize(1024 * 1024).build();
        Output out = SandboxTesting.python(policy, String.join("\n",
                "import os",
                "home = os.environ['HOME']",
                "open(home + '/small', 'wb').write(b'x' * 1000)",
                "try:",
                "    with open(home + '/big', 'wb') as f:",
                "        f.write(b'x' * (2 * 1024 * 1024))",
                "    print('written')",
                "except OSError as e:",
                "    print(e.errno)"));
        assertEquals("28\n", out.stdout(), out.toString());
    }

    @Test
    void otherHomesRootAndHostStateAreAbsent() throws Exception {
        SandboxPolicy policy = policy();
        Path home = policy.home();
        List<String> ops = new ArrayList<>(List.of("lstat /root", "list /home", "list /var",
                "list /var/tmp", "lstat /sys", "lstat /mnt", "lstat /media", "lstat /srv",
                "lstat /boot", "lstat /lost+found"));
        List<String> otherHomes = new ArrayList<>();
        String[] hostHomes = new File("/home").list();
        for (String name : hostHomes == null ? new String[0] : hostHomes) {
            Path p = Path.of("/home", name);
            if (!p.equals(home)) {
                otherHomes.add(p.toString());
                ops.add("lstat " + p);
            }
        }
        FsProbe.Result r = FsProbe.run(policy, ops.toArray(String[]::new));
        r.expect("lstat /root", "ENOENT");
        // /home holds at most the private home.
        r.expect("list /home", home.startsWith("/home") && home.getNameCount() == 2
                ? "ok " + home.getFileName() : "ENOENT");
        for (String other : otherHomes) {
            r.expect("lstat " + other, "ENOENT");
        }
        r.expect("list /var", "ok tmp");
        r.expect("list /var/tmp", "ok ");
        for (String absent : List.of("/sys", "/mnt", "/media", "/srv", "/boot", "/lost+found")) {
            r.expect("lstat " + absent, "ENOENT");
        }
    }

    @Test
    void passwordHashesAreNotReadable() throws Exception {
        assumeTrue(Files.exists(Path.of("/etc/shadow")), "the host has an /etc/shadow");
        // The allowed case: /etc itself is there and readable.
        String hostname = HostTree.sha256(Path.of("/etc/hostname"));
        SandboxPolicy policy = policy();
        List<String> ops = new ArrayList<>(List.of("read /etc/hostname", "read /etc/shadow",
                "lstat /etc/shadow"));
        for (String f : List.of("/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")) {
            if (Files.exists(Path.of(f), LinkOption.NOFOLLOW_LINKS)) {
                ops.add("read " + f);
                ops.add("lstat " + f);
            }
        }
        FsProbe.Result r = FsProbe.run(policy, ops.toArray(String[]::new));
        r.expect("read /etc/hostname", "ok " + Files.size(Path.of("/etc/hostname")) + " "
                + hostname);
        String emptyModeZero = "ok 100000 " + policy.uid() + " " + policy.gid() + " 0";
        for (String op : ops.subList(1, ops.size())) {
            if (op.equals("read /etc/hostname")) {
                continue;
            }
            r.expect(op, op.startsWith("read") ? "EACCES" : emptyModeZero);
        }
        // Its owner cannot make it readable, and uid 0 inside (without capabilities) cannot
        // read it either.
        FsProbe.run(policy, "chmod /etc/shadow 644").expect("chmod /etc/shadow 644", "EROFS");
        SandboxPolicy rootInside = policy.toBuilder().uid(0).gid(0).build();
        FsProbe.Result root = FsProbe.run(rootInside, "lstat /etc/shadow", "read /etc/shadow");
        root.expect("lstat /etc/shadow", "ok 100000 0 0 0");
        root.expect("read /etc/shadow", "EACCES");
    }

    @Test
    void nothingOutsideTheWritablePlacesCanBeWritten() throws Exception {
        SandboxPolicy policy = policy();
        Path home = policy.home();
        FsProbe.Result r = FsProbe.run(policy, "mkdir " + workspace.resolve("w"),
                "mkdir " + home.resolve("h"), "mkdir /tmp/t", "mkdir /var/tmp/v",
                "mkdir /x", "mkdir /usr/x", "mkdir /etc/x", "mkdir /var/x", "mkdir /opt/x",
                "mkdir /new-dir/x", "create /y", "write /etc/passwd", "write /etc/hostname",
                "mkdir /home/x", "rename /usr /usr2", "symlink /tmp /z");
        // Allowed: the workspace, the home, /tmp and /var/tmp.
        for (String ok : List.of("mkdir " + workspace.resolve("w"), "mkdir " + home.resolve("h"),
                "mkdir /tmp/t", "mkdir /var/tmp/v")) {
            r.expect(ok, "ok");
        }
        assertEquals(true, Files.isDirectory(workspace.resolve("w")));
        for (String refused : List.of("mkdir /x", "mkdir /usr/x", "mkdir /etc/x", "mkdir /var/x",
                "create /y", "write /etc/passwd", "write /etc/hostname", "symlink /tmp /z")) {
            r.expect(refused, "EROFS");
        }
        r.expect("mkdir /opt/x", Files.isDirectory(Path.of("/opt")) ? "EROFS" : "ENOENT");
        r.expect("mkdir /new-dir/x", "ENOENT");
        // /home is the private home's mount point's directory in the read-only root, or absent.
        r.expect("mkdir /home/x", home.startsWith("/home") ? "EROFS" : "ENOENT");
        // /usr is a mount point.
        r.expect("rename /usr /usr2", "EROFS");
        for (String p : List.of("/x", "/usr/x", "/etc/x", "/new-dir", "/y", "/usr2", "/z")) {
            assertFalse(Files.exists(Path.of(p), LinkOption.NOFOLLOW_LINKS), p + " on the host");
        }
    }

    @Test
    void mergedUsrLinksAreLinksInside() throws Exception {
        List<String> ops = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (Path p : BaseView.HOST_DIRECTORIES) {
            if (Files.isSymbolicLink(p)) {
                ops.add("readlink " + p);
                expected.add("ok " + Files.readSymbolicLink(p));
            } else if (Files.isDirectory(p)) {
                ops.add("list " + p);
                expected.add("ok " + Arrays.stream(new File(p.toString()).list()).sorted()
                        .collect(Collectors.joining(",")));
            } else {
                ops.add("lstat " + p);
                expected.add("ENOENT");
            }
        }
        assumeTrue(ops.stream().anyMatch(o -> o.startsWith("readlink")),
                "a merged-/usr host (/bin -> usr/bin)");
        FsProbe.Result r = FsProbe.run(policy(), ops.toArray(String[]::new));
        for (int i = 0; i < ops.size(); i++) {
            r.expect(ops.get(i), expected.get(i));
        }
        // And the programs are reached through them.
        Output sh = SandboxTesting.run(policy(), "/bin/sh", "-c", "readlink /bin; /bin/true");
        assertEquals(Files.isSymbolicLink(Path.of("/bin"))
                ? Files.readSymbolicLink(Path.of("/bin")) + "\n" : "\n", sh.stdout(),
                sh.toString());
    }

    @Test
    void aHostSocketUnderVarTmpCannotBeReached() throws Exception {
        Path socket = Path.of("/var/tmp", "stockade-" + SandboxTesting.marker() + ".sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
            // The allowed case: the probe connects when the socket is put into the view.
            Path inside = Path.of("/tmp/daemon.sock");
            SandboxPolicy asked = policy().toBuilder()
                    .mount(Mount.bindReadOnly(socket, inside).allowingSocket()).build();
            FsProbe.run(asked, "connect " + inside).expect("connect " + inside, "ok");

            FsProbe.Result r = FsProbe.run(policy(), "connect " + socket, "list /var/tmp");
            r.expect("connect " + socket, "ENOENT");
            r.expect("list /var/tmp", "ok ");
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    @Test
    void noSocketAnywhereInTheView() throws Exception {
        // The allowed case first: find reports a socket the command makes itself.
        Output out = SandboxTesting.run(policy(), "/bin/sh", "-c",
                SandboxTesting.PYTHON + " -c 'import socket; socket.socket(socket.AF_UNIX)"
                        + ".bind(\"/tmp/own.sock\")'"
                        + " && find / -path /proc -prune -o -type s -print 2>/dev/null; true");
        assertExitedZero(out);
        assertEquals("/tmp/own.sock\n", out.stdout(), out.toString());
    }

    @Test
    void sysIsThereReadOnlyWhenAskedFor() throws Exception {
        SandboxPolicy policy = policy().toBuilder().sys(true).build();
        String hostSys = Arrays.stream(new File("/sys").list()).sorted()
                .collect(Collectors.joining(","));
        FsProbe.Result r = FsProbe.run(policy, "list /sys", "mkdir /sys/x",
                "mkdir /sys/kernel/x");
        r.expect("list /sys", "ok " + hostSys);
        r.expect("mkdir /sys/x", "EROFS");
        r.expect("mkdir /sys/kernel/x", "EROFS");
        FsProbe.run(policy(), "lstat /sys").expect("lstat /sys", "ENOENT");
    }

}
