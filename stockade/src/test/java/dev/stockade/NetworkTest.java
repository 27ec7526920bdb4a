package dev.stockade;

import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Network NONE: loopback only, and its own; HOST: the host's network. */
@Timeout(120)
class NetworkTest {
    private static final SandboxPolicy NONE = SandboxPolicy.defaults();
    private static final SandboxPolicy HOST = SandboxPolicy.builder().network(Network.HOST).build();

    /** Prints 'connected', or the errno of the failed connect. */
    private static final String CONNECT = String.join("\n",
            "import socket, sys",
            "s = socket.socket()",
            "s.settimeout(20)",
            "try:",
            "    s.connect(('127.0.0.1', int(sys.argv[1])))",
            "    s.sendall(b'hello')",
            "    print('connected')",
            "except OSError as e:",
            "    print(e.errno)");

    @Test
    void hostServerIsReachableWithHostNetwork() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> received = acceptOne(server);
            Output out = python(HOST, CONNECT, String.valueOf(server.getLocalPort()));
            assertEquals("connected\n", out.stdout(), out.toString());
            assertEquals("hello", received.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void hostServerIsNotReachableWithoutNetwork() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> received = acceptOne(server);
            Output out = python(NONE, CONNECT, String.valueOf(server.getLocalPort()));
            // ECONNREFUSED: the sandbox's own loopback is up, and nothing listens on it.
            assertEquals("111\n", out.stdout(), out.toString());
            assertTrue(!received.isDone(), "the host server saw no connection");
            received.cancel(true);
        }
    }

    @Test
    void serverInsideIsReachableFromInside() throws Exception {
        String program = String.join("\n",
                "import socket",
                "srv = socket.socket()",
                "srv.bind(('127.0.0.1', 0))",
                "srv.listen(1)",
                "c = socket.create_connection(srv.getsockname(), timeout=20)",
                "conn, _ = srv.accept()",
                "c.sendall(b'ping')",
                "print(conn.recv(4).decode())");
        Output out = python(NONE, program);
        assertEquals("ping\n", out.stdout(), out.toString());
    }

    @Test
    void onlyLoopbackExistsInside() throws Exception {
        Output out = python(NONE, "import socket; print([n for _, n in socket.if_nameindex()])");
        assertEquals("['lo']\n", out.stdout(), out.toString());
        Output host = python(HOST, "import socket; print(len(socket.if_nameindex()))");
        assertEquals(0, host.exitCode());
    }

    private static CompletableFuture<String> acceptOne(ServerSocket server) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                return new String(s.getInputStream().readNBytes(5),
                        java.nio.charset.StandardCharsets.US_ASCII);
            } catch (java.io.IOException e) {
                return "closed: " + e;
            }
        });
    }
}
