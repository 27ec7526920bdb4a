package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.testing.Pure;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stderr lines of {@code --net allow}: one per entry that did not go through. */
@Pure
class ConnectionSummaryTest {

    @Test
    void oneLinePerEntryThatDidNotGoThrough() {
        List<Connection> log = List.of(
                new Connection("web.example", 443, "192.0.2.1", Verdict.ALLOWED,
                        "web.example", "", 4, 100, 2000),
                new Connection("evil.example", 443, "", Verdict.DENIED, "",
                        "not in the allow list", 1, 0, 0),
                new Connection("0:0:0:0:0:0:0:1", 80, "", Verdict.DENIED, "",
                        "not in the allow list", 3, 0, 0),
                new Connection("gone.example", 8443, "", Verdict.FAILED, "gone.example:8443",
                        "no such host", 2, 0, 0),
                new Connection("", 0, "", Verdict.MALFORMED, "", "malformed CONNECT line", 1,
                        0, 0),
                new Connection("", 0, "", Verdict.MALFORMED, "", "request head over 65536"
                        + " bytes", 5, 0, 0));
        StringWriter out = new StringWriter();
        ConnectionSummary.print(log, new PrintWriter(out));
        assertEquals(List.of(
                "stockade: refused connection to evil.example:443 (not in the allow list)",
                "stockade: refused connection to [0:0:0:0:0:0:0:1]:80 x3 (not in the allow list)",
                "stockade: connection to gone.example:8443 x2 failed (no such host)",
                "stockade: refused connection: malformed CONNECT line",
                "stockade: refused connection x5: request head over 65536 bytes"),
                out.toString().lines().toList());
    }

    @Test
    void whatTheSandboxSentStaysOnOneLine() {
        assertEquals("stockade: refused connection to a; b.example:443 (not in the allow"
                + " list)", ConnectionSummary.line(new Connection("a\nb.example", 443, "",
                        Verdict.DENIED, "", "not in the allow list", 1, 0, 0)));
        assertNull(ConnectionSummary.line(new Connection("web.example", 443, "1.2.3.4",
                Verdict.ALLOWED, "web.example", "", 1, 0, 0)));
    }
}
