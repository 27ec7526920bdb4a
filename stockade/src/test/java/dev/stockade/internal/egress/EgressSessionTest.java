package dev.stockade.internal.egress;

import static dev.stockade.internal.egress.EgressFixtures.allow;
import static dev.stockade.internal.egress.EgressFixtures.refusal;
import static dev.stockade.internal.egress.EgressFixtures.rules;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.internal.egress.EgressFixtures.Client;
import dev.stockade.internal.egress.EgressFixtures.Echo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The proxy over real sockets: the session's socket as the forwarder uses it, real servers. */
@Timeout(60)
class EgressSessionTest {
    /** Every session a test opened, finished after it even when it failed. */
    private final EgressFixtures.Sessions sessions = new EgressFixtures.Sessions();

    @AfterEach
    void finishSessions() {
        sessions.finishAll();
    }

    private static final String WEB = "web.stockade.test";

    private static Connection entry(String host, int port, String address, Verdict verdict,
            String rule, String reason, long count, long sent, long received) {
        return new Connection(host, port, address, verdict, rule, reason, count, sent, received);
    }

    private static Connection denied(String host, int port, String address, String rule,
            String reason) {
        return entry(host, port, address, Verdict.DENIED, rule, reason, 1, 0, 0);
    }

    private static Connection malformed(String reason) {
        return entry("", 0, "", Verdict.MALFORMED, "", reason, 1, 0, 0);
    }

    private static void assertClosed(EgressSession s) {
        assertEquals(0, s.openChannels());
        assertEquals(0, s.bufferedBytes());
        assertFalse(Files.exists(s.socketPath().getParent()));
    }

    @Test
    void socketIsWorldConnectableInAPrivateDirectory() throws IOException {
        EgressSession s = sessions.open(allow(WEB + ":1"));
        assertEquals("rwx------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(s.socketPath().getParent())));
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(s.socketPath())));
        assertEquals(List.of(), s.finish());
        assertClosed(s);
    }

    @Test
    void connectRelaysByteIdenticalBothWaysWithHalfClose() throws Exception {
        try (Echo echo = new Echo()) {
            String rule = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(rule));
            byte[] data = new byte[3 << 20];
            new Random(1).nextBytes(data);
            try (Client c = new Client(s)) {
                c.connect(WEB + ":" + echo.port());
                CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                    try {
                        return c.in.readAllBytes();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                c.out.write(data);
                // Half-close: the echo sees EOF, sends the rest, and closes its side.
                c.channel.shutdownOutput();
                assertArrayEquals(data, back.get());
            }
            List<Connection> log = s.finish();
            assertEquals(List.of(entry(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED, rule,
                    "", 1, data.length, data.length)), log);
            assertSame(log, s.finish());
            assertClosed(s);
        }
    }

    @Test
    void plainHttpGetAndPostAreForwardedInOriginFormToTheirHost() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicReference<String> seen = new AtomicReference<>();
        server.createContext("/", x -> {
            byte[] body = x.getRequestBody().readAllBytes();
            seen.set(x.getRequestMethod() + " " + x.getRequestURI() + " host="
                    + x.getRequestHeaders().getFirst("Host") + " connection="
                    + x.getRequestHeaders().getFirst("Connection") + " proxy="
                    + x.getRequestHeaders().getFirst("Proxy-Authorization") + " body="
                    + new String(body, StandardCharsets.UTF_8));
            byte[] page = ("page of " + x.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, page.length);
            x.getResponseBody().write(page);
            x.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            String rule = WEB + ":" + port;
            EgressSession s = sessions.open(allow(rule));
            try (Client c = new Client(s)) {
                c.send("GET http://" + WEB + ":" + port + "/a/b?q=1 HTTP/1.1\r\nHost: evil.example"
                        + "\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive"
                        + "\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n");
                String response = c.rest(); // Connection: close: the host ends it
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
                assertTrue(response.endsWith("\r\n\r\npage of /a/b?q=1"), response);
                assertEquals("GET /a/b?q=1 host=" + WEB + ":" + port + " connection=close"
                        + " proxy=null body=", seen.get());
            }
            try (Client c = new Client(s)) {
                c.send("POST http://" + WEB + ":" + port + "/upload HTTP/1.1\r\n"
                        + "Content-Length: 11\r\n\r\nhello world");
                String response = c.rest();
                assertTrue(response.endsWith("page of /upload"), response);
                assertEquals("POST /upload host=" + WEB + ":" + port + " connection=close"
                        + " proxy=null body=hello world", seen.get());
            }
            List<Connection> log = s.finish();
            assertEquals(1, log.size(), log.toString());
            Connection e = log.get(0);
            assertEquals(entry(WEB, port, "127.0.0.1", Verdict.ALLOWED, rule, "", 2,
                    e.bytesSent(), e.bytesReceived()), e);
            assertClosed(s);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void plainHttpHeadIsRewrittenExactlyAndItsBytesCounted() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            int port = server.getLocalPort();
            String response = "HTTP/1.0 200 OK\r\n\r\nhi";
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (Socket a = server.accept()) {
                    InputStream in = a.getInputStream();
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("body")) {
                        b.write(in.read());
                    }
                    a.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
                    return b.toString(StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            String rule = WEB + ":" + port;
            EgressSession s = sessions.open(allow(rule));
            try (Client c = new Client(s)) {
                c.send("PUT HTTP://WEB.stockade.test:" + port + "?x HTTP/1.1\r\nHost: a\r\n"
                        + "X-One: 1\r\nproxy-authorization: p\r\nKeep-Alive: 5\r\nX-Two: 2\r\n"
                        + "\r\nbody");
                assertEquals(response, c.rest());
            }
            String expected = "PUT /?x HTTP/1.1\r\nHost: " + WEB + ":" + port + "\r\nX-One: 1\r\n"
                    + "X-Two: 2\r\nConnection: close\r\n\r\nbody";
            assertEquals(expected, received.get());
            assertEquals(List.of(entry(WEB, port, "127.0.0.1", Verdict.ALLOWED, rule, "", 1,
                    expected.length(), response.length())), s.finish());
            assertClosed(s);
        }
    }

    @Test
    void socks5ByNameByIpv4AndByIpv6() throws Exception {
        try (Echo v4 = new Echo(); Echo v6 = new Echo(InetAddress.getByName("::1"))) {
            EgressSession s = sessions.open(allow(WEB + ":" + v4.port(),
                    "127.0.0.1:" + v4.port(), "[::1]:" + v6.port()));
            byte[] name = WEB.getBytes(StandardCharsets.US_ASCII);
            byte[][] requests = {
                concat(new byte[] {5, 1, 0, 3, (byte) name.length}, name, port(v4.port())),
                concat(new byte[] {5, 1, 0, 1, 127, 0, 0, 1}, port(v4.port())),
                concat(new byte[] {5, 1, 0, 4}, InetAddress.getByName("::1").getAddress(),
                        port(v6.port())),
            };
            for (byte[] request : requests) {
                try (Client c = new Client(s)) {
                    // Greeting and request at once, as socks5h clients may pipeline them.
                    c.send(concat(new byte[] {5, 2, 2, 0}, request));
                    assertArrayEquals(new byte[] {5, 0}, c.read(2));
                    assertArrayEquals(new byte[] {5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, c.read(10));
                    c.send("ping");
                    assertEquals("ping", new String(c.read(4), StandardCharsets.US_ASCII));
                }
            }
            assertEquals(List.of(
                    entry(WEB, v4.port(), "127.0.0.1", Verdict.ALLOWED, WEB + ":" + v4.port(), "",
                            1, 4, 4),
                    entry("127.0.0.1", v4.port(), "127.0.0.1", Verdict.ALLOWED,
                            "127.0.0.1:" + v4.port(), "", 1, 4, 4),
                    entry("0:0:0:0:0:0:0:1", v6.port(), "0:0:0:0:0:0:0:1", Verdict.ALLOWED,
                            "[::1]:" + v6.port(), "", 1, 4, 4)), s.finish());
            assertClosed(s);
        }
    }

    @Test
    void socks5RefusalsAnswerWithTheirReplyCode() throws Exception {
        try (Echo echo = new Echo()) {
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()));
            byte[] name = "other.stockade.test".getBytes(StandardCharsets.US_ASCII);
            try (Client c = new Client(s)) {
                c.send(concat(new byte[] {5, 1, 0, 5, 1, 0, 3, (byte) name.length}, name,
                        port(echo.port())));
                assertArrayEquals(new byte[] {5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0},
                        c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // BIND
                c.send(new byte[] {5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80});
                assertArrayEquals(new byte[] {5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0},
                        c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // address type 9
                c.send(new byte[] {5, 1, 0, 5, 1, 0, 9});
                assertArrayEquals(new byte[] {5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0},
                        c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // only username/password offered
                c.send(new byte[] {5, 1, 2});
                assertArrayEquals(new byte[] {5, (byte) 0xff}, c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // IPv4-mapped loopback: judged as 127.0.0.1
                c.send(concat(new byte[] {5, 1, 0, 5, 1, 0, 4},
                        new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1},
                        port(echo.port())));
                assertArrayEquals(new byte[] {5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0},
                        c.in.readAllBytes());
            }
            assertEquals(List.of(
                    denied("other.stockade.test", echo.port(), "", "", "not in the allow list"),
                    malformed("SOCKS5 command 2 (only CONNECT is relayed)"),
                    malformed("SOCKS5 address type 9"),
                    malformed("SOCKS5 greeting does not offer the method without"
                            + " authentication"),
                    denied("127.0.0.1", echo.port(), "", "", "not in the allow list")),
                    s.finish());
            assertClosed(s);
        }
    }

    @Test
    void refusedByPolicyAfterTheAllowedCaseWorks() throws Exception {
        try (Echo echo = new Echo()) {
            int p = echo.port();
            String rule = WEB + ":" + p;
            EgressSession s = sessions.open(rules(List.of(rule, "registry.stockade.test:" + p,
                    "*.stockade.test:80"), List.of("registry.stockade.test")));
            try (Client c = new Client(s)) {
                c.connect(WEB + ":" + p);
                c.send("x");
                assertEquals("x", new String(c.read(1), StandardCharsets.US_ASCII));
            }
            String[][] cases = {
                {"other.stockade.test:" + p, "other.stockade.test:" + p + " (not in the allow list)"},
                {"registry.stockade.test:" + p, "registry.stockade.test:" + p
                        + " (denied by registry.stockade.test)"},
                {WEB + ":" + (p == 65535 ? 1 : p + 1), WEB + ":" + (p == 65535 ? 1 : p + 1)
                        + " (not in the allow list)"},
                {"169.254.169.254:80", "169.254.169.254:80 (not in the allow list)"},
                {"10.0.0.1:80", "10.0.0.1:80 (not in the allow list)"},
                {"[::1]:" + p, "[0:0:0:0:0:0:0:1]:" + p + " (not in the allow list)"},
                {"127.0.0.1:" + p, "127.0.0.1:" + p + " (not in the allow list)"},
                {"[::ffff:127.0.0.1]:" + p, "127.0.0.1:" + p + " (not in the allow list)"},
                // The reply does not say what the name resolved to; the log does.
                {"metadata.stockade.test:80", "metadata.stockade.test:80 (its address is"
                        + " restricted: only an entry naming the address itself reaches it)"},
                {"lan.stockade.test:80", "lan.stockade.test:80 (its address is restricted:"
                        + " only an exact entry reaches it)"},
                {"127.1:" + p, "127.1:" + p + " (not a host name or an address: neither a host"
                        + " name (its last label is all digits) nor an IPv4 address of four"
                        + " decimal numbers)"},
                {"2130706433:" + p, "2130706433:" + p + " (not a host name or an address:"
                        + " neither a host name (its last label is all digits) nor an IPv4"
                        + " address of four decimal numbers)"},
            };
            for (String[] k : cases) {
                try (Client c = new Client(s)) {
                    assertEquals(refusal(403, "Forbidden", "refused connection to " + k[1]),
                            c.refusedConnect(k[0]), k[0]);
                }
            }
            String nal = "not in the allow list";
            String digits = "not a host name or an address: neither a host name (its last label"
                    + " is all digits) nor an IPv4 address of four decimal numbers";
            assertEquals(List.of(
                    entry(WEB, p, "127.0.0.1", Verdict.ALLOWED, rule, "", 1, 1, 1),
                    denied("other.stockade.test", p, "", "", nal),
                    denied("registry.stockade.test", p, "", "registry.stockade.test",
                            "denied by registry.stockade.test"),
                    denied(WEB, p == 65535 ? 1 : p + 1, "", "", nal),
                    denied("169.254.169.254", 80, "", "", nal),
                    denied("10.0.0.1", 80, "", "", nal),
                    denied("0:0:0:0:0:0:0:1", p, "", "", nal),
                    // [::ffff:127.0.0.1] is 127.0.0.1: one entry for both.
                    entry("127.0.0.1", p, "", Verdict.DENIED, "", nal, 2, 0, 0),
                    denied("metadata.stockade.test", 80, "169.254.169.254", "*.stockade.test:80",
                            "169.254.169.254 is a link-local address: only an entry naming"
                                    + " the address itself reaches it, not *.stockade.test:80"),
                    denied("lan.stockade.test", 80, "10.0.0.1", "*.stockade.test:80",
                            "10.0.0.1 is a private address: only an exact entry reaches it,"
                                    + " not *.stockade.test:80"),
                    denied("127.1", p, "", "", digits),
                    denied("2130706433", p, "", "", digits)), s.finish());
            assertClosed(s);
        }
    }

    @Test
    void theLogHoldsABoundedNumberOfEntriesAndCountsTheRestTogether() throws Exception {
        EgressSession s = sessions.open(rules(List.of(), List.of()),
                EgressBounds.DEFAULTS.withLogEntries(3));
        for (int i = 0; i < 6; i++) {
            try (Client c = new Client(s)) {
                c.refusedConnect("host" + i + ".example.org:443");
            }
        }
        String nal = "not in the allow list";
        assertEquals(List.of(denied("host0.example.org", 443, "", "", nal),
                denied("host1.example.org", 443, "", "", nal),
                denied("host2.example.org", 443, "", "", nal),
                entry("", 0, "", Verdict.DENIED, "", ConnectionLog.overflowReason(3), 3, 0, 0)),
                s.finish());
        assertClosed(s);
    }

    @Test
    void aNameResolvingToLoopbackNeedsTheExactEntry() throws Exception {
        try (Echo echo = new Echo()) {
            int p = echo.port();
            EgressSession exact = sessions.open(allow(WEB + ":" + p));
            try (Client c = new Client(exact)) {
                c.connect(WEB + ":" + p);
            }
            assertEquals(Verdict.ALLOWED, exact.finish().get(0).verdict());
            EgressSession wildcard = sessions.open(allow("*.stockade.test:" + p));
            String why = "127.0.0.1 is a loopback address: only an exact entry reaches it, not"
                    + " *.stockade.test:" + p;
            try (Client c = new Client(wildcard)) {
                assertEquals(refusal(403, "Forbidden", "refused connection to " + WEB + ":" + p
                        + " (its address is restricted: only an exact entry reaches it)"),
                        c.refusedConnect(WEB + ":" + p));
            }
            try (Client c = new Client(wildcard)) { // a name the hosts file does not have
                assertEquals(refusal(502, "Bad Gateway", "connection to nosuch.stockade.test:"
                        + p + " failed (no such host)"),
                        c.refusedConnect("nosuch.stockade.test:" + p));
            }
            assertEquals(List.of(denied(WEB, p, "127.0.0.1", "*.stockade.test:" + p, why),
                    entry("nosuch.stockade.test", p, "", Verdict.FAILED, "*.stockade.test:" + p,
                            "no such host", 1, 0, 0)), wildcard.finish());
            assertClosed(wildcard);
        }
    }

    @Test
    void aRefusedConnectionIsFailedWith502() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        EgressSession s = sessions.open(allow(WEB + ":" + port));
        try (Client c = new Client(s)) {
            assertEquals(refusal(502, "Bad Gateway", "connection to " + WEB + ":" + port
                    + " failed (connection refused)"), c.refusedConnect(WEB + ":" + port));
        }
        assertEquals(List.of(entry(WEB, port, "127.0.0.1", Verdict.FAILED, WEB + ":" + port,
                "connection refused", 1, 0, 0)), s.finish());
        assertClosed(s);
    }

    @Test
    void malformedRequestsAreLoggedAndTheSessionKeepsServing() throws Exception {
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(ok));
            try (Client c = new Client(s)) {
                c.send("CONNECT " + WEB + " HTTP/1.1\r\n\r\n");
                assertEquals(refusal(400, "Bad Request", "refused connection: malformed CONNECT"
                        + " line: no port"), c.rest());
            }
            try (Client c = new Client(s)) {
                c.send("CONNECT " + ok + "\r\n\r\n");
                assertEquals(refusal(400, "Bad Request", "refused connection: malformed request"
                        + " line \"CONNECT " + ok + "\""), c.rest());
            }
            try (Client c = new Client(s)) {
                c.send("GET /index.html HTTP/1.1\r\nHost: " + ok + "\r\n\r\n");
                assertEquals(refusal(400, "Bad Request", "refused connection: not a proxy"
                        + " request: the target \"/index.html\" is not http://host/..."), c.rest());
            }
            try (Client c = new Client(s)) {
                c.send("GET http://user@" + ok + "/ HTTP/1.1\r\n\r\n");
                assertEquals(refusal(400, "Bad Request", "refused connection: malformed URL"
                        + " \"http://user@" + ok + "/\": user information in the authority"),
                        c.rest());
            }
            try (Client c = new Client(s)) { // a 1 MB header
                CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                    try {
                        c.send("CONNECT " + ok + " HTTP/1.1\r\nX-Big: " + "a".repeat(1 << 20)
                                + "\r\n\r\n");
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(refusal(431, "Request Header Fields Too Large", "refused"
                        + " connection: request head longer than 65536 bytes"), c.rest());
                sending.get();
            }
            try (Client c = new Client(s)) { // SOCKS5 greeting with no method
                c.send(new byte[] {5, 0, 'g', 'a', 'r', 'b'});
                assertArrayEquals(new byte[] {5, (byte) 0xff}, c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // a greeting, then garbage
                c.send(new byte[] {5, 1, 0, 7, 7, 7, 7});
                assertArrayEquals(new byte[] {5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0},
                        c.in.readAllBytes());
            }
            try (Client c = new Client(s)) { // TLS straight at the proxy
                c.send(new byte[] {0x16, 3, 1, 0, 5});
                assertEquals("", c.rest());
            }
            try (Client c = new Client(s)) {
                c.send("GET http://" + ok + "/\u0001 HTTP/1.1\r\n\r\n");
                assertEquals(refusal(400, "Bad Request", "refused connection: a control byte"
                        + " 0x01 in the request head"), c.rest());
            }
            try (Client c = new Client(s)) {
                c.connect(ok);
                c.send("still");
                assertEquals("still", new String(c.read(5), StandardCharsets.US_ASCII));
            }
            assertEquals(List.of(
                    malformed("malformed CONNECT line: no port"),
                    malformed("malformed request line \"CONNECT " + ok + "\""),
                    malformed("not a proxy request: the target \"/index.html\" is not"
                            + " http://host/..."),
                    malformed("malformed URL \"http://user@" + ok + "/\": user information in"
                            + " the authority"),
                    malformed("request head longer than 65536 bytes"),
                    malformed("SOCKS5 greeting offers no method"),
                    malformed("SOCKS5 request of version 7"),
                    malformed("not an HTTP or SOCKS5 request (first byte 0x16)"),
                    malformed("a control byte 0x01 in the request head"),
                    entry(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED, ok, "", 1, 5, 5)),
                    s.finish());
            assertClosed(s);
        }
    }

    @Test
    void headAndIdleTimeoutsClose() throws Exception {
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressBounds b = EgressBounds.DEFAULTS.withTimeouts(Duration.ofMillis(200),
                    Duration.ofSeconds(5), Duration.ofMillis(300));
            EgressSession s = sessions.open(allow(ok), b);
            try (Client c = new Client(s)) {
                c.send("CONNECT " + ok); // and nothing more
                assertEquals(refusal(408, "Request Timeout", "refused connection: no complete"
                        + " request within 200 ms"), c.rest());
            }
            try (Client c = new Client(s)) {
                c.connect(ok);
                c.send("once");
                assertEquals("once", new String(c.read(4), StandardCharsets.US_ASCII));
                assertEquals("", c.rest()); // idle: closed by the proxy
            }
            assertEquals(List.of(malformed("no complete request within 200 ms"),
                    entry(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED, ok, "", 1, 4, 4)),
                    s.finish());
            assertClosed(s);
        }
    }

    @Test
    void finishClosesOpenConnectionsAndLogsTheUnfinished() throws Exception {
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(ok));
            Client relayed = new Client(s);
            relayed.connect(ok);
            relayed.send("ab");
            assertEquals("ab", new String(relayed.read(2), StandardCharsets.US_ASCII));
            Client partial = new Client(s);
            partial.send("CONNECT web");
            Client idle = new Client(s);
            // Each is accepted and read: a round trip through the proxy thread after them.
            try (Client probe = new Client(s)) {
                probe.connect(ok);
            }
            List<Connection> log = s.finish();
            assertEquals("", relayed.rest());
            assertEquals("", partial.rest());
            assertEquals("", idle.rest());
            assertEquals(List.of(entry(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED, ok, "", 2,
                    2, 2), malformed("the sandbox ended before the request was complete")), log);
            assertClosed(s);
            relayed.close();
            partial.close();
            idle.close();
        }
    }

    @Test
    void whatTheSandboxSendsIsLoggedPrintable() throws Exception {
        EgressSession s = sessions.open(allow(WEB + ":1"));
        try (Client c = new Client(s)) {
            c.send(concat(new byte[] {5, 1, 0, 5, 1, 0, 3, 4, 'a', '\n', 'b', 27}, port(443)));
            assertArrayEquals(new byte[] {5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0},
                    c.in.readAllBytes());
        }
        try (Client c = new Client(s)) {
            c.send("GET http://" + WEB + ":1/ HTTP/1.1\r\nX" + "\u00e9".repeat(300)
                    + "\r\n\r\n");
            assertTrue(c.rest().startsWith("HTTP/1.1 400 Bad Request\r\n"));
        }
        assertEquals(List.of(denied("a\\x0ab\\x1b", 443, "", "", "not a host name or an"
                + " address: '\\x0a' is not allowed in a host name (letters, digits, '-' and"
                + " '_'; an IPv6 address goes in brackets)"),
                malformed("malformed header line \"X" + "\\xe9".repeat(252) + "...\"")),
                s.finish());
        assertClosed(s);
    }

    @Test
    void anAddressNamedByADenyEntryIsRefusedByThatEntry() throws Exception {
        try (Echo echo = new Echo()) {
            int p = echo.port();
            EgressSession s = sessions.open(rules(List.of(WEB + ":" + p,
                    "other.stockade.test:" + p), List.of("127.0.0.1")));
            try (Client c = new Client(s)) {
                assertEquals(refusal(403, "Forbidden", "refused connection to " + WEB + ":" + p
                        + " (its address is denied)"), c.refusedConnect(WEB + ":" + p));
            }
            try (Client c = new Client(s)) { // plain HTTP is refused the same way, port 80
                c.send("GET http://registry.stockade.test/x HTTP/1.1\r\n\r\n");
                assertEquals(refusal(403, "Forbidden", "refused connection to"
                        + " registry.stockade.test:80 (not in the allow list)"), c.rest());
            }
            assertEquals(List.of(denied(WEB, p, "127.0.0.1", "127.0.0.1",
                    "127.0.0.1 is denied by 127.0.0.1"),
                    denied("registry.stockade.test", 80, "", "", "not in the allow list")),
                    s.finish());
            assertClosed(s);
        }
    }

    @Test
    void socks5FailuresAnswerRefusedOrUnreachable() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        EgressSession s = sessions.open(allow(WEB + ":" + port, "*.stockade.test:" + port));
        byte[] web = WEB.getBytes(StandardCharsets.US_ASCII);
        byte[] nosuch = "nosuch.stockade.test".getBytes(StandardCharsets.US_ASCII);
        try (Client c = new Client(s)) {
            c.send(concat(new byte[] {5, 1, 0, 5, 1, 0, 3, (byte) web.length}, web, port(port)));
            assertArrayEquals(new byte[] {5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0},
                    c.in.readAllBytes());
        }
        try (Client c = new Client(s)) {
            c.send(concat(new byte[] {5, 1, 0, 5, 1, 0, 3, (byte) nosuch.length}, nosuch,
                    port(port)));
            assertArrayEquals(new byte[] {5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0},
                    c.in.readAllBytes());
        }
        List<Connection> log = s.finish();
        assertEquals(entry(WEB, port, "127.0.0.1", Verdict.FAILED, WEB + ":" + port,
                "connection refused", 1, 0, 0), log.get(0));
        assertEquals(entry("nosuch.stockade.test", port, "", Verdict.FAILED,
                "*.stockade.test:" + port, "no such host", 1, 0, 0), log.get(1));
        assertClosed(s);
    }

    @Test
    void aHostThatDoesNotAnswerInTimeIs504() throws Exception {
        // A listener whose accept queue is full drops further SYNs: connect() hangs.
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int p = full.getLocalPort();
            List<SocketChannel> fillers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                SocketChannel f = SocketChannel.open();
                f.configureBlocking(false);
                f.connect(new InetSocketAddress("127.0.0.1", p));
                fillers.add(f);
            }
            EgressBounds b = EgressBounds.DEFAULTS.withTimeouts(Duration.ofSeconds(5),
                    Duration.ofMillis(300), Duration.ofSeconds(5));
            EgressSession s = sessions.open(allow(WEB + ":" + p), b);
            try (Client c = new Client(s)) {
                assertEquals(refusal(504, "Gateway Timeout", "connection to " + WEB + ":" + p
                        + " failed (timed out after 300 ms)"), c.refusedConnect(WEB + ":" + p));
            }
            assertEquals(List.of(entry(WEB, p, "127.0.0.1", Verdict.FAILED, WEB + ":" + p,
                    "timed out after 300 ms", 1, 0, 0)), s.finish());
            assertClosed(s);
            for (SocketChannel f : fillers) {
                f.close();
            }
        }
    }

    @Test
    void aTemporaryDirectoryTooDeepForSunPathFallsBackToTmp() throws Exception {
        Path deep = Files.createTempDirectory("stockade-deep-");
        Path tmp = deep.resolve("d".repeat(100));
        Files.createDirectories(tmp);
        String saved = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try {
            EgressSession s = sessions.open(allow(WEB + ":1"));
            assertEquals(Path.of("/tmp"), s.socketPath().getParent().getParent());
            try (Client c = new Client(s)) {
                assertEquals(refusal(403, "Forbidden", "refused connection to " + WEB
                        + ":2 (not in the allow list)"), c.refusedConnect(WEB + ":2"));
            }
            s.finish();
            assertClosed(s);
        } finally {
            System.setProperty("java.io.tmpdir", saved);
            Files.delete(tmp);
            Files.delete(deep);
        }
    }

    @Test
    void theHostsHalfCloseReachesTheClientWhichCanStillSend() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<String> heard = CompletableFuture.supplyAsync(() -> {
                try (Socket a = server.accept()) {
                    a.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
                    a.shutdownOutput();
                    return new String(a.getInputStream().readAllBytes(),
                            StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            String ok = WEB + ":" + server.getLocalPort();
            EgressSession s = sessions.open(allow(ok));
            try (Client c = new Client(s)) {
                c.connect(ok);
                assertEquals("banner", c.rest()); // EOF: the host is done sending
                c.send("after");
                c.channel.shutdownOutput();
                assertEquals("after", heard.get());
            }
            assertEquals(List.of(entry(WEB, server.getLocalPort(), "127.0.0.1",
                    Verdict.ALLOWED, ok, "", 1, 5, 6)), s.finish());
            assertClosed(s);
        }
    }

    @Test
    void aClientGoneMidRelayClosesItsHostAndTheSessionServesOn() throws Exception {
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(ok));
            Client gone = new Client(s);
            gone.connect(ok);
            gone.send("x".repeat(100_000));
            gone.close(); // unread echo: the proxy's writes fail, it closes both sides
            try (Client c = new Client(s)) {
                c.connect(ok);
                c.send("y");
                assertEquals("y", new String(c.read(1), StandardCharsets.US_ASCII));
            }
            // The gone one's channels are closed once the proxy saw it go; finish() closes
            // what is left and counts nothing twice.
            List<Connection> log = s.finish();
            assertEquals(1, log.size());
            assertEquals(2, log.get(0).count());
            assertClosed(s);
        }
    }

    private static byte[] port(int p) {
        return new byte[] {(byte) (p >> 8), (byte) p};
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
