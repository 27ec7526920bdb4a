package dev.stockade;

import static dev.stockade.testing.SandboxUser.callerIsRoot;
import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sockets and FIFOs the sandbox can reach through binds: a read-only mount stops neither
 * {@code connect()} nor a FIFO's writes. A socket or FIFO is a bind source only when asked for,
 * and a root caller's read-only binds are not idmapped unless asked for (the idmap would show
 * host root's 0600 sockets and FIFOs as the sandbox user's).
 */
class SpecialFileBindTest {

    @TempDir
    Path dir;

    /** Connects to {@code path} inside and prints "connected" or the errno. */
    private static final String CONNECT = "import socket, sys\n"
            + "s = socket.socket(socket.AF_UNIX)\n"
            + "try:\n    s.connect(sys.argv[1])\n    print('connected')\n"
            + "except OSError as e:\n    print(e.errno)\n";

    /** Opens the FIFO for writing without blocking: ENXIO (6) = allowed but no reader. */
    private static final String WRITE_FIFO = "import os, sys\n"
            + "try:\n    os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)\n    print('opened')\n"
            + "except OSError as e:\n    print(e.errno)\n";

    @Test
    void aSocketSourceMustBeAskedFor() throws Exception {
        Path socket = dir.resolve("daemon.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path inside = Path.of("/run/daemon.sock");
            SandboxPolicy asked = SandboxPolicy.builder()
                    .mount(Mount.bindReadOnly(socket, inside).allowingSocket()).build();
            Output connected = python(asked, CONNECT, inside.toString());
            assertEquals("connected\n", connected.stdout(), connected.toString());

            PolicyException refused = assertThrows(PolicyException.class,
                    () -> SandboxPolicy.builder().bindReadOnly(socket, inside).build());
            assertEquals(java.util.List.of("bind source " + socket + " is a socket: it leads out"
                    + " of the sandbox, read-only or not; allow it with Mount.allowingSocket()"
                    + " (--ro-bind-socket)"), refused.problems());
        }
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        PolicyException refused = assertThrows(PolicyException.class,
                () -> SandboxPolicy.builder().bindReadOnly(fifo, Path.of("/run/fifo")).build());
        assertTrue(refused.problems().get(0).contains("is a FIFO"), refused.toString());
    }

    /** A root daemon's socket and FIFO, 0600 in a root 0700 directory, bound read-only. */
    @Test
    void rootOnlySocketsStayRootOnlyUnlessTheIdmapIsAskedFor() throws Exception {
        assumeTrue(callerIsRoot(), "root-owned sockets and the idmap exist for root callers");
        Path daemon = Files.createDirectory(dir.resolve("daemon"));
        Files.setPosixFilePermissions(daemon, PosixFilePermissions.fromString("rwx------"));
        Path socket = daemon.resolve("control.sock");
        Path fifo = daemon.resolve("commands");
        assertEquals(0, new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).start()
                .waitFor());
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            Path inside = Path.of("/run/daemon");

            // The attack, with the idmap: host root's socket and FIFO are the sandbox user's.
            SandboxPolicy idmapped = SandboxPolicy.builder()
                    .mount(Mount.bindReadOnly(daemon, inside).idmappingRoot()).build();
            assertEquals("connected\n", python(idmapped, CONNECT, inside + "/control.sock")
                    .stdout());
            assertEquals("6\n", python(idmapped, WRITE_FIFO, inside + "/commands").stdout());

            SandboxPolicy plain = SandboxPolicy.builder().bindReadOnly(daemon, inside).build();
            assertEquals("13\n", python(plain, CONNECT, inside + "/control.sock").stdout());
            assertEquals("13\n", python(plain, WRITE_FIFO, inside + "/commands").stdout());
        }
    }

    @Test
    void idmappedBindsAreReadOnlyAndForRootCallers() throws Exception {
        PolicyException writable = assertThrows(PolicyException.class, () -> SandboxPolicy
                .builder().mount(Mount.bind(dir, Path.of("/mnt")).idmappingRoot()).build());
        assertTrue(writable.problems().get(0).contains("is writable and idmapped"),
                writable.toString());
        if (!callerIsRoot()) {
            PolicyException unprivileged = assertThrows(PolicyException.class, () -> SandboxPolicy
                    .builder().mount(Mount.bindReadOnly(dir, Path.of("/mnt")).idmappingRoot())
                    .build());
            assertTrue(unprivileged.problems().get(0).contains("for root callers only"),
                    unprivileged.toString());
        }
    }
}
