package dev.stockade.internal.egress;

import java.nio.charset.StandardCharsets;

/**
 * What the proxy answers a request it does not relay (or, for {@link #CONNECTED}, one it
 * does), in both protocols: the HTTP status and the SOCKS5 reply code (RFC 1928 section 6).
 */
enum Reply {
    CONNECTED(200, "Connection established", 0x00),
    BAD_REQUEST(400, "Bad Request", 0x01),
    FORBIDDEN(403, "Forbidden", 0x02),
    HEAD_TIMEOUT(408, "Request Timeout", 0x01),
    HEAD_TOO_LARGE(431, "Request Header Fields Too Large", 0x01),
    HOST_UNREACHABLE(502, "Bad Gateway", 0x04),
    CONNECTION_REFUSED(502, "Bad Gateway", 0x05),
    TIMED_OUT(504, "Gateway Timeout", 0x04),
    COMMAND_NOT_SUPPORTED(400, "Bad Request", 0x07),
    ADDRESS_TYPE_NOT_SUPPORTED(400, "Bad Request", 0x08);

    final int status;
    final String phrase;
    final int socks;

    Reply(int status, String phrase, int socks) {
        this.status = status;
        this.phrase = phrase;
        this.socks = socks;
    }

    /** The HTTP response: for a refusal, a one-line text body saying why; then close. */
    byte[] http(String why) {
        if (this == CONNECTED) {
            return "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        }
        byte[] body = ("stockade: " + why + "\n").getBytes(StandardCharsets.US_ASCII);
        String head = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain;"
                + " charset=us-ascii\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[h.length + body.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(body, 0, out, h.length, body.length);
        return out;
    }

    /** The SOCKS5 reply, bound address 0.0.0.0:0 (nothing a client needs from it here). */
    byte[] socks5() {
        return new byte[] {5, (byte) socks, 0, 1, 0, 0, 0, 0, 0, 0};
    }
}
