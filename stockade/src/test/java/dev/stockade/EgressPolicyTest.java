package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection.Verdict;
import dev.stockade.internal.Protocol;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.WebServer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a {@link Network#allow(String...)} sandbox may not reach, inside a real sandbox: the
 * restricted addresses (loopback, link-local with the metadata address, private) only through an
 * exact entry, never through a wildcard or unnamed; a port not allowed; an empty allow list
 * refusing and listing everything; patterns too wide refused at build(); nothing left open on
 * the caller's side afterwards. Each refusal is shown beside the allowed case.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(180)
class EgressPolicyTest {
    @TempDir
    static Path served;
    static WebServer server;
    static int port;

    @BeforeAll
    static void serve() throws Exception {
        Files.writeString(served.resolve("hello.txt"), "hello from the host\n");
        server = WebServer.http(served);
        port = server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Output curl(SandboxPolicy policy, String... urls) throws Exception {
        StringBuilder script = new StringBuilder();
        for (String url : urls) {
            // -p: through a CONNECT tunnel, so every refusal is the proxy's (curl exit 56);
            // --noproxy '': 127.0.0.1 too goes to the proxy (NO_PROXY names it).
            script.append("curl -sS -p --noproxy '' -o /dev/null ").append(url).append("; echo $?\n");
        }
        return SandboxTesting.run(policy, "/bin/sh", "-c", script.toString());
    }

    static SandboxPolicy allow(String... patterns) {
        return SandboxPolicy.builder().network(Network.allow(patterns)).build();
    }

    static Connection denied(String host, String address, String rule, String reason) {
        return new Connection(host, port, address, Verdict.DENIED, rule, reason, 1, 0, 0);
    }

    @Test
    void aNameThatResolvesToARestrictedAddressNeedsAnExactEntry() throws Exception {
        String exact = "web.stockade.test:" + port;
        Output allowed = curl(allow(exact), "http://" + exact + "/hello.txt");
        assertExitedZero(allowed);
        assertEquals("0\n", allowed.stdout(), allowed::toString);

        String wildcard = "*.stockade.test:" + port;
        Output out = curl(allow(wildcard), "http://web.stockade.test:" + port + "/",
                "http://metadata.stockade.test:" + port + "/",
                "http://lan.stockade.test:" + port + "/");
        assertExitedZero(out);
        assertEquals("56\n56\n56\n", out.stdout(), out::toString);
        assertEquals(List.of(
                denied("web.stockade.test", "127.0.0.1", wildcard, "127.0.0.1 is a loopback"
                        + " address: only an exact entry reaches it, not " + wildcard),
                denied("metadata.stockade.test", "169.254.169.254", wildcard, "169.254.169.254"
                        + " is a link-local address: only an entry naming the address itself"
                        + " reaches it, not " + wildcard),
                denied("lan.stockade.test", "10.0.0.1", wildcard, "10.0.0.1 is a private"
                        + " address: only an exact entry reaches it, not " + wildcard)),
                out.result().connections());
    }

    @Test
    void restrictedAddressesNotNamedAreRefused() throws Exception {
        String exact = "127.0.0.1:" + port;
        Output allowed = curl(allow(exact), "http://" + exact + "/hello.txt");
        assertEquals("0\n", allowed.stdout(), allowed::toString);

        Output out = curl(allow("web.stockade.test:" + port, "*.stockade.test:" + port),
                "http://169.254.169.254:" + port + "/", "http://10.0.0.1:" + port + "/",
                "http://[::1]:" + port + "/", "http://127.0.0.1:" + port + "/",
                "http://[::ffff:127.0.0.1]:" + port + "/");
        assertExitedZero(out);
        assertEquals("56\n56\n56\n56\n56\n", out.stdout(), out::toString);
        List<String> refused = out.result().connections().stream()
                .map(c -> c.verdict() + " " + c.target() + " " + c.reason() + " x" + c.count())
                .toList();
        // Hosts are written one way (IPv6 as Java writes it; an IPv4-mapped address as its
        // IPv4), so the mapped loopback is the same entry as 127.0.0.1.
        assertEquals(List.of(
                "DENIED 169.254.169.254:" + port + " not in the allow list x1",
                "DENIED 10.0.0.1:" + port + " not in the allow list x1",
                "DENIED [0:0:0:0:0:0:0:1]:" + port + " not in the allow list x1",
                "DENIED 127.0.0.1:" + port + " not in the allow list x2"), refused,
                out::toString);
    }

    /**
     * Speaks HTTP CONNECT to the first target through the forwarder (127.0.0.1:EGRESS_PORT),
     * then to every target straight on the proxy's socket, bypassing the forwarder: without a
     * token, and with a guessed one (16 zero bytes). Prints the status line, or "closed" when
     * the stream ends (or is reset) with no byte of reply.
     */
    static final String CONNECT_OVER_THE_SOCKET = String.join("\n",
            "import socket, sys",
            "def connect(family, address, prefix, target):",
            "    s = socket.socket(family, socket.SOCK_STREAM)",
            "    s.settimeout(60)",
            "    s.connect(address)",
            "    try:",
            "        s.sendall(prefix + ('CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n' % (target, target)).encode())",
            "        r = s.recv(12)",
            "        print(r.decode() if r else 'closed')",
            "    except (ConnectionResetError, BrokenPipeError):",
            "        print('closed')",
            "    s.close()",
            "connect(socket.AF_INET, ('127.0.0.1', " + Protocol.EGRESS_PORT + "), b'', sys.argv[1])",
            "for prefix in (b'', bytes(16)):",
            "    for target in sys.argv[1:]:",
            "        connect(socket.AF_UNIX, '/run/stockade-egress.sock', prefix, target)");

    @Test
    void theSocketReachedDirectlyIsNotServed() throws Exception {
        String web = "web.stockade.test:" + port;
        Output out = SandboxTesting.python(allow(web, "*.stockade.test:" + port),
                CONNECT_OVER_THE_SOCKET, web, "metadata.stockade.test:" + port,
                "169.254.169.254:80");
        assertExitedZero(out);
        // Through the forwarder: allowed. Straight on the socket: closed unanswered, whatever
        // was asked, and listed (one entry, counted).
        assertEquals("HTTP/1.1 200\n" + "closed\n".repeat(6), out.stdout(), out::toString);
        assertEquals(List.of(
                new Connection("web.stockade.test", port, "127.0.0.1", Verdict.ALLOWED, web, "",
                        1, 0, 0),
                new Connection("", 0, "", Verdict.MALFORMED, "",
                        "not from this sandbox's forwarder (no session token)", 6, 0, 0)),
                out.result().connections(), out::toString);
    }

    @Test
    void anAllowedNameOnAnotherPortIsRefused() throws Exception {
        int otherPort = port == 65535 ? 65534 : port + 1;
        Output out = curl(allow("web.stockade.test:" + port),
                "http://web.stockade.test:" + port + "/hello.txt",
                "https://web.stockade.test:" + otherPort + "/", "https://web.stockade.test/");
        assertExitedZero(out);
        assertEquals("0\n56\n56\n", out.stdout(), out::toString);
        List<Connection> log = out.result().connections();
        assertEquals(3, log.size(), out::toString);
        assertEquals(Verdict.ALLOWED, log.get(0).verdict());
        assertEquals(new Connection("web.stockade.test", otherPort, "", Verdict.DENIED, "",
                "not in the allow list", 1, 0, 0), log.get(1));
        assertEquals(new Connection("web.stockade.test", 443, "", Verdict.DENIED, "",
                "not in the allow list", 1, 0, 0), log.get(2));
    }

    @Test
    void anEmptyAllowListRefusesAndListsEveryAttempt() throws Exception {
        int seen = server.requests().size();
        Output out = SandboxTesting.run(allow(), "/bin/sh", "-c",
                "curl -sS -o /dev/null http://web.stockade.test:" + port + "/; echo http=$?\n"
                + "curl -sS -o /dev/null https://registry.stockade.test/; echo tunnel=$?\n"
                + "curl -sS -o /dev/null -x \"$ALL_PROXY\" http://other.stockade.test:" + port
                + "/; echo socks=$?\n"
                + "curl -sS -o /dev/null http://web.stockade.test:" + port + "/; echo again=$?");
        assertExitedZero(out);
        // http: the proxy's 403 page is a response (0); tunnel: CONNECT refused (56); socks:
        // 97, the SOCKS5 proxy refused the connection.
        assertEquals("http=0\ntunnel=56\nsocks=97\nagain=0\n", out.stdout(), out::toString);
        assertEquals(List.of(
                new Connection("web.stockade.test", port, "", Verdict.DENIED, "",
                        "not in the allow list", 2, 0, 0),
                new Connection("registry.stockade.test", 443, "", Verdict.DENIED, "",
                        "not in the allow list", 1, 0, 0),
                new Connection("other.stockade.test", port, "", Verdict.DENIED, "",
                        "not in the allow list", 1, 0, 0)), out.result().connections());
        assertEquals(seen, server.requests().size(), "the server saw no request");
    }

    @Test
    void patternsForEveryHostAndEmptyPatternsAreRefusedAtBuild() {
        assertEquals(List.of(), SandboxPolicy.builder()
                .network(Network.allow("*.example.org:443")).build().network()
                .deniedHosts());
        PolicyException e = assertThrows(PolicyException.class, () -> SandboxPolicy.builder()
                .network(Network.allow("*:443", "")).build());
        assertEquals(List.of("network allow entry \"*:443\" is too wide: it names every host",
                "network empty allow entry: name a host"), e.problems());
    }

    @Test
    void nothingIsLeftOpenAfterTheSandboxEnds() throws Exception {
        // The first sandbox starts what the JVM keeps (the shared proxy thread's selector, the
        // loaded natives): counted from after it.
        curl(allow("web.stockade.test:" + port), "http://web.stockade.test:" + port + "/");
        Set<Path> before = sessionDirectories();
        int fds = SandboxTesting.openFdCount();
        for (int i = 0; i < 3; i++) {
            Output out = curl(allow("web.stockade.test:" + port),
                    "http://web.stockade.test:" + port + "/hello.txt");
            assertEquals("0\n", out.stdout(), out::toString);
        }
        SandboxTesting.awaitTrue("the sessions' socket directories are gone", () -> {
            Set<Path> now = sessionDirectories();
            now.removeAll(before);
            return now.isEmpty();
        });
        SandboxTesting.awaitTrue("no descriptor is left open",
                () -> SandboxTesting.openFdCount() <= fds);
        long egressThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("stockade-egress")).count();
        assertTrue(egressThreads <= 1, "one shared proxy thread at most: " + egressThreads);
    }

    private static Set<Path> sessionDirectories() {
        Set<Path> dirs = new HashSet<>();
        for (String root : new String[] {System.getProperty("java.io.tmpdir"), "/tmp"}) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of(root),
                    "stockade-egress-*")) {
                s.forEach(dirs::add);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return dirs;
    }
}
