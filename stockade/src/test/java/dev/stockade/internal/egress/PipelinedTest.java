package dev.stockade.internal.egress;

import static dev.stockade.internal.egress.EgressFixtures.allow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.internal.egress.EgressFixtures.Client;
import dev.stockade.internal.egress.EgressFixtures.Echo;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bytes sent in the same write as the request head (a TLS ClientHello sent optimistically with
 * the CONNECT, a binary POST body) are payload, relayed; only the head is judged. A control
 * byte inside the head is still refused.
 */
@Timeout(60)
class PipelinedTest {
    private static final String WEB = "web.stockade.test";
    private final EgressFixtures.Sessions sessions = new EgressFixtures.Sessions();

    @AfterEach
    void finish() {
        sessions.finishAll();
    }

    @Test
    void bytesAfterTheConnectHeadAreRelayedNotJudgedAsHead() throws Exception {
        try (Echo echo = new Echo()) {
            String target = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(target));
            byte[] head = ("CONNECT " + target + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] hello = {0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00};
            try (Client c = new Client(s)) {
                c.send(ByteBuffer.allocate(head.length + hello.length).put(head).put(hello).array());
                // Half-closed while the host is still being looked up: passed on once connected.
                c.channel.shutdownOutput();
                assertEquals("HTTP/1.1 200 Connection established\r\n\r\n"
                        + new String(hello, StandardCharsets.ISO_8859_1), c.rest());
            }
            assertEquals(List.of(new Connection(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED,
                    target, "", 1, hello.length, hello.length)), s.finish());
        }
    }

    @Test
    void aControlByteInTheHeadIsStillRefused() throws Exception {
        try (Echo echo = new Echo()) {
            String target = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(target));
            try (Client c = new Client(s)) {
                c.send("CONNECT " + target + " HTTP/1.1\r\nX: \u0001\r\n\r\n");
                c.rest();
            }
            assertEquals(List.of(new Connection("", 0, "", Verdict.MALFORMED, "",
                    "a control byte 0x01 in the request head", 1, 0, 0)), s.finish());
        }
    }
}
