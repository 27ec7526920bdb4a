package dev.stockade.internal.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The request heads the proxy reads, and those it refuses. */
class HttpRequestHeadTest {
    private static HttpRequestHead parse(String head) throws BadRequest {
        byte[] b = head.getBytes(StandardCharsets.ISO_8859_1);
        return HttpRequestHead.parse(b, b.length, 0);
    }

    private static String refused(String head) {
        return assertThrows(BadRequest.class, () -> parse(head)).getMessage();
    }

    @Test
    void connectTakesANameOrABracketedIpv6AddressWithAPort() throws BadRequest {
        assertEquals(new HttpRequestHead(true, "example.org", 443, 36, null),
                parse("CONNECT example.org:443 HTTP/1.1\r\n\r\n"));
        HttpRequestHead v6 = parse("CONNECT [2001:db8::1]:8443 HTTP/1.0\n\nrest");
        assertEquals("2001:db8::1", v6.host());
        assertEquals(8443, v6.port());
        assertEquals("CONNECT [2001:db8::1]:8443 HTTP/1.0\n\n".length(), v6.headLength());
    }

    @Test
    void anIncompleteHeadIsReadOn() throws BadRequest {
        assertNull(parse("CONNECT example.org:443 HTTP/1.1\r\nHost: x\r\n"));
    }

    @Test
    void anAbsoluteUrlDefaultsToPort80AndAnIpv6HostIsBracketedInHost() throws BadRequest {
        HttpRequestHead h = parse("GET http://[::1]/x HTTP/1.1\r\nConnection: Upgrade\r\n\r\n");
        assertEquals("::1", h.host());
        assertEquals(80, h.port());
        assertEquals("GET /x HTTP/1.1\r\nHost: [0:0:0:0:0:0:0:1]\r\nConnection: close\r\n\r\n",
                new String(h.forwarded(), StandardCharsets.ISO_8859_1));
        assertEquals("GET / HTTP/1.0\r\nHost: a.example\r\nConnection: close\r\n\r\n",
                new String(parse("GET http://A.example. HTTP/1.0\r\n\r\n").forwarded(),
                        StandardCharsets.ISO_8859_1));
    }

    @Test
    void whatIsNotAProxyRequestIsRefusedWithAReason() {
        assertEquals("malformed CONNECT line: the port \"x\" is not a number",
                refused("CONNECT a.example:x HTTP/1.1\r\n\r\n"));
        assertEquals("malformed CONNECT line: an IPv6 address must be in brackets",
                refused("CONNECT ::1:443 HTTP/1.1\r\n\r\n"));
        assertEquals("malformed CONNECT line: no host", refused("CONNECT :443 HTTP/1.1\r\n\r\n"));
        assertEquals("unsupported HTTP version \"HTTP/2.0\"",
                refused("CONNECT a.example:443 HTTP/2.0\r\n\r\n"));
        assertEquals("an https:// URL in a plain proxy request (use CONNECT)",
                refused("GET https://a.example/ HTTP/1.1\r\n\r\n"));
        assertEquals("malformed header line \"no colon\"",
                refused("GET http://a.example/ HTTP/1.1\r\nno colon\r\n\r\n"));
        assertEquals("malformed header line \" folded: x\"",
                refused("GET http://a.example/ HTTP/1.1\r\nA: b\r\n folded: x\r\n\r\n"));
        assertEquals("a control character in header A",
                refused("GET http://a.example/ HTTP/1.1\r\nA: b\rInjected: 1\r\n\r\n"));
        assertEquals("malformed request line \"GET  http://a.example/ HTTP/1.1\"",
                refused("GET  http://a.example/ HTTP/1.1\r\n\r\n"));
    }
}
