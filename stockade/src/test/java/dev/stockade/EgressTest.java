package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection.Verdict;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.TestCertificate;
import dev.stockade.testing.WebServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Network#allow(String...)} end to end: real sandboxes, real tools inside (curl), real
 * servers on the host's 127.0.0.1, reached by the names of the test hosts file
 * ({@code web.stockade.test} is 127.0.0.1): the sandbox's own loopback is NO_PROXY, so a
 * loopback name would go direct. Each refusal is shown next to the allowed case that works.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(180)
class EgressTest {
    /** 300 KiB of random bytes: larger than any relay buffer, compared by digest. */
    static final byte[] PAGE = new Random(10).ints(300 * 1024, 0, 256)
            .collect(java.io.ByteArrayOutputStream::new, (b, i) -> b.write(i),
                    (a, b) -> a.writeBytes(b.toByteArray())).toByteArray();

    @TempDir
    static Path served;
    @TempDir
    static Path certificates;

    static WebServer http;
    static WebServer https;
    static WebServer other;
    static TestCertificate certificate;

    @BeforeAll
    static void servers() throws Exception {
        Files.write(served.resolve("page.bin"), PAGE);
        Files.writeString(served.resolve("hello.txt"), "hello from the host\n");
        certificate = TestCertificate.generate(certificates, "web.stockade.test",
                "other.stockade.test");
        http = WebServer.http(served);
        https = WebServer.https(served, certificate);
        other = WebServer.http(served);
    }

    @AfterAll
    static void stop() {
        http.close();
        https.close();
        other.close();
    }

    static String web(WebServer server) {
        return "web.stockade.test:" + server.port();
    }

    static SandboxPolicy allow(String... patterns) {
        return SandboxPolicy.builder().network(Network.allow(patterns)).build();
    }

    static Output sh(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(policy, "/bin/sh", "-c", script);
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static Connection only(Output out) {
        assertEquals(1, out.result().connections().size(), out::toString);
        return out.result().connections().get(0);
    }

    static void assertDenied(Connection c, String host, int port, String address, String rule,
            String reason) {
        assertEquals(new Connection(host, port, address, Verdict.DENIED, rule, reason, 1, 0, 0),
                c);
    }

    /** The shell line that writes the CA certificate where curl reads it (--cacert). */
    static String caFile() throws Exception {
        return "cat > /tmp/ca.pem <<'EOF'\n" + Files.readString(certificate.pem()) + "EOF\n";
    }

    @Test
    void curlGetsThePageByteIdenticalOverHttpAndHttps() throws Exception {
        SandboxPolicy policy = allow(web(http), web(https));
        Output out = sh(policy, caFile()
                + "curl -sS -o /tmp/plain http://" + web(http) + "/page.bin || exit 1\n"
                + "curl -sS --cacert /tmp/ca.pem -o /tmp/tls https://" + web(https)
                + "/page.bin || exit 2\n"
                + "sha256sum /tmp/plain /tmp/tls | cut -d' ' -f1");
        assertExitedZero(out);
        String digest = sha256(PAGE);
        assertEquals(digest + "\n" + digest + "\n", out.stdout(), out::toString);
        List<Connection> log = out.result().connections();
        assertEquals(2, log.size(), out::toString);
        Connection plain = log.get(0);
        assertEquals(List.of("web.stockade.test", http.port(), "127.0.0.1", Verdict.ALLOWED,
                web(http), "", 1L), List.of(plain.host(), plain.port(), plain.address(),
                plain.verdict(), plain.rule(), plain.reason(), plain.count()), out::toString);
        assertTrue(plain.bytesReceived() > PAGE.length && plain.bytesSent() > 0, out::toString);
        Connection tls = log.get(1);
        assertEquals(List.of("web.stockade.test", https.port(), "127.0.0.1", Verdict.ALLOWED,
                web(https), "", 1L), List.of(tls.host(), tls.port(), tls.address(),
                tls.verdict(), tls.rule(), tls.reason(), tls.count()), out::toString);
        assertTrue(tls.bytesReceived() > PAGE.length && tls.bytesSent() > 0, out::toString);
    }

    @Test
    void aServerOnAPortNotAllowedIsRefusedAndListed() throws Exception {
        int before = other.requests().size();
        Output out = sh(allow(web(http)),
                "curl -sS -o /dev/null http://" + web(http) + "/hello.txt || exit 1\n"
                + "curl -sS -f -o /dev/null http://" + web(other) + "/hello.txt; echo plain=$?\n"
                + "curl -sS -o /dev/null -p http://" + web(other) + "/hello.txt;"
                + " echo tunnel=$?");
        assertExitedZero(out);
        // 22: the proxy's 403 (-f); 56: the CONNECT refused with 403.
        assertEquals("plain=22\ntunnel=56\n", out.stdout(), out::toString);
        List<Connection> log = out.result().connections();
        assertEquals(2, log.size(), out::toString);
        assertEquals(Verdict.ALLOWED, log.get(0).verdict(), out::toString);
        assertEquals(new Connection("web.stockade.test", other.port(), "", Verdict.DENIED, "",
                "not in the allow list", 2, 0, 0), log.get(1));
        assertEquals(before, other.requests().size(), "the other server saw no request");
    }

    @Test
    void aDirectConnectionToTheHostFails() throws Exception {
        Output out = sh(allow(web(http), "127.0.0.1:" + http.port()),
                "curl -sS -o /dev/null http://127.0.0.1:" + http.port() + "/hello.txt"
                        + " --noproxy '' || exit 1\n"
                        + "curl -sS -o /dev/null --noproxy '*' http://" + web(http)
                        + "/hello.txt; echo name=$?\n"
                        + "curl -sS -o /dev/null --noproxy '*' http://127.0.0.1:" + http.port()
                        + "/hello.txt; echo address=$?");
        assertExitedZero(out);
        // 6: no resolver inside; 7: nothing listens on the sandbox's own loopback.
        assertEquals("name=6\naddress=7\n", out.stdout(), out::toString);
        assertEquals(List.of(Verdict.ALLOWED), out.result().connections().stream()
                .map(Connection::verdict).toList(), out::toString);
    }

    @Test
    void localhostIsReachedThroughAnExactEntryByAClientThatIgnoresNoProxy() throws Exception {
        String localhost = "localhost:" + http.port();
        Output out = sh(allow(localhost),
                "curl -sS --noproxy '' http://" + localhost + "/hello.txt || exit 1\n"
                + "curl -sS -o /dev/null http://" + localhost + "/hello.txt; echo direct=$?");
        assertExitedZero(out);
        // NO_PROXY keeps localhost direct: the sandbox's own loopback, where nothing listens.
        assertEquals("hello from the host\ndirect=7\n", out.stdout(), out::toString);
        Connection c = only(out);
        assertEquals(List.of("localhost", http.port(), "127.0.0.1", Verdict.ALLOWED, localhost),
                List.of(c.host(), c.port(), c.address(), c.verdict(), c.rule()), out::toString);
    }

    @Test
    void curlThroughSocks5WithTheProxysNameResolution() throws Exception {
        Output out = sh(allow(web(http)), "curl -sS -x \"$ALL_PROXY\" http://" + web(http)
                + "/hello.txt || exit 1\n"
                + "curl -sS -o /dev/null -x \"$ALL_PROXY\" http://" + web(other)
                + "/hello.txt; echo refused=$?");
        assertExitedZero(out);
        // 97: the SOCKS5 proxy's refusal (reply 0x02).
        assertEquals("hello from the host\nrefused=97\n", out.stdout(), out::toString);
        assertEquals(List.of(Verdict.ALLOWED, Verdict.DENIED), out.result().connections()
                .stream().map(Connection::verdict).toList(), out::toString);
    }

    @Test
    void wgetGoesThroughTheProxy() throws Exception {
        Output out = sh(allow(web(http)), "wget -q -O - http://" + web(http) + "/hello.txt");
        assertExitedZero(out);
        assertEquals("hello from the host\n", out.stdout(), out::toString);
        assertEquals(Verdict.ALLOWED, only(out).verdict(), out::toString);
    }

    @Test
    void pythonUrllibGoesThroughTheProxy() throws Exception {
        Output out = SandboxTesting.python(allow(web(http)),
                "import urllib.request, sys; sys.stdout.write(urllib.request.urlopen("
                        + "'http://" + web(http) + "/hello.txt', timeout=60).read().decode())");
        assertExitedZero(out);
        assertEquals("hello from the host\n", out.stdout(), out::toString);
        assertEquals(Verdict.ALLOWED, only(out).verdict(), out::toString);
    }
}
