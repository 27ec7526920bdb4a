package dev.stockade.internal.egress;

import static dev.stockade.internal.egress.EgressFixtures.allow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.egress.EgressFixtures.Client;
import dev.stockade.internal.egress.EgressFixtures.Echo;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Only streams that begin with the session's token (what the sandbox's forwarder sends) are
 * served: a stream from anything else that reaches the socket (the command itself, another
 * sandbox that sees the file) is closed unanswered and logged, and the session goes on serving.
 */
@Timeout(60)
class EgressTokenTest {
    private static final String WEB = "web.stockade.test";
    private final EgressFixtures.Sessions sessions = new EgressFixtures.Sessions();

    @AfterEach
    void finish() {
        sessions.finishAll();
    }

    private static Connection noToken(long count) {
        return new Connection("", 0, "", Verdict.MALFORMED, "", ProxyConnection.NO_TOKEN, count,
                0, 0);
    }

    private static Connection allowed(int port, long count) {
        return new Connection(WEB, port, "127.0.0.1", Verdict.ALLOWED, WEB + ":" + port, "",
                count, 5 * count, 5 * count);
    }

    /** The allowed case: a stream with the token gets its tunnel. */
    private static void served(EgressSession s, int port) throws Exception {
        try (Client c = new Client(s)) {
            c.connect(WEB + ":" + port);
            c.send("hello");
            assertEquals("hello", new String(c.read(5), java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    /** A stream starting with {@code preface} and a CONNECT: closed with no byte of reply. */
    private static void refused(EgressSession s, byte[] preface, int port) throws Exception {
        try (Client c = new Client(s, preface)) {
            try {
                c.send("CONNECT " + WEB + ":" + port + " HTTP/1.1\r\n\r\n");
            } catch (java.io.IOException e) {
                // A whole wrong token is enough: the proxy may close before the CONNECT comes,
                // and a write to a closed UNIX stream is EPIPE. Still no byte of reply.
                assertEquals("Broken pipe", e.getMessage());
            }
            closedUnanswered(c);
        }
    }

    /**
     * No byte comes back: EOF, or a reset when the proxy closed with the client's bytes
     * unread (a UNIX stream closed with data queued resets its peer).
     */
    private static void closedUnanswered(Client c) throws Exception {
        try {
            assertEquals(-1, c.in.read());
        } catch (java.net.SocketException e) {
            assertEquals("Connection reset", e.getMessage());
        }
    }

    @Test
    void withoutTheTokenAStreamIsClosedUnansweredAndLogged() throws Exception {
        try (Echo echo = new Echo()) {
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()));
            served(s, echo.port());
            refused(s, new byte[0], echo.port());
            served(s, echo.port());
            assertEquals(List.of(allowed(echo.port(), 2), noToken(1)), s.finish());
        }
    }

    @Test
    void aWrongTokenIsClosedUnansweredAndLogged() throws Exception {
        try (Echo echo = new Echo()) {
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()));
            EgressSession other = sessions.open(allow(WEB + ":" + echo.port()));
            served(s, echo.port());
            byte[] wrong = s.token();
            wrong[wrong.length - 1] ^= 1;
            refused(s, wrong, echo.port());
            // Another sandbox's forwarder (its own, valid token) is not this sandbox's.
            refused(s, other.token(), echo.port());
            served(s, echo.port());
            assertEquals(List.of(allowed(echo.port(), 2), noToken(2)), s.finish());
            assertEquals(List.of(), other.finish());
        }
    }

    @Test
    void halfATokenThenEofIsClosedAndLogged() throws Exception {
        try (Echo echo = new Echo()) {
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()));
            served(s, echo.port());
            try (Client c = new Client(s, Arrays.copyOf(s.token(), Protocol.EGRESS_TOKEN_SIZE / 2))) {
                c.channel.shutdownOutput();
                closedUnanswered(c);
            }
            // Nothing at all, then EOF: not the forwarder either.
            try (Client c = new Client(s, new byte[0])) {
                c.channel.shutdownOutput();
                closedUnanswered(c);
            }
            served(s, echo.port());
            assertEquals(List.of(allowed(echo.port(), 2), noToken(2)), s.finish());
        }
    }

    @Test
    void halfATokenUntilTheHeadTimeoutIsClosedAndLogged() throws Exception {
        try (Echo echo = new Echo()) {
            EgressBounds b = EgressBounds.DEFAULTS.withTimeouts(Duration.ofMillis(300),
                    Duration.ofSeconds(5), Duration.ofSeconds(5));
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()), b);
            served(s, echo.port());
            try (Client c = new Client(s, Arrays.copyOf(s.token(), Protocol.EGRESS_TOKEN_SIZE - 1))) {
                closedUnanswered(c);
            }
            served(s, echo.port());
            assertEquals(List.of(allowed(echo.port(), 2), noToken(1)), s.finish());
        }
    }

    @Test
    void theTokenIsReadAloneABytePastItIsTheRequest() throws Exception {
        try (Echo echo = new Echo()) {
            EgressSession s = sessions.open(allow(WEB + ":" + echo.port()));
            // The token and the request in one write: the request is still parsed from its start.
            byte[] req = ("CONNECT " + WEB + ":" + echo.port() + " HTTP/1.1\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            byte[] both = Arrays.copyOf(s.token(), Protocol.EGRESS_TOKEN_SIZE + req.length);
            System.arraycopy(req, 0, both, Protocol.EGRESS_TOKEN_SIZE, req.length);
            try (Client c = new Client(s, both)) {
                assertEquals("HTTP/1.1 200 Connection established\r\n\r\n", c.head());
                c.send("hello");
                assertEquals("hello", new String(c.read(5), java.nio.charset.StandardCharsets.US_ASCII));
            }
            assertEquals(List.of(allowed(echo.port(), 1)), s.finish());
        }
    }
}
