package dev.stockade.internal.egress;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * An HTTP proxy request's head: {@code CONNECT host:port HTTP/1.x}, or an absolute-form request
 * ({@code GET http://host[:port]/path HTTP/1.1}) with its head rewritten for the host: the
 * target in origin form, {@code Proxy-*}, {@code Host}, {@code Connection} and
 * {@code Keep-Alive} dropped, {@code Host} set to the target and {@code Connection: close}
 * added. The proxy then relays every later byte of the connection raw to that host and never
 * reads another head: closing makes a keep-alive client open a new connection (and so a new
 * check) for its next request, instead of sending it, unchecked, to the first host.
 *
 * @param connect whether this is a CONNECT (the head is answered, not forwarded)
 * @param host the host as asked for (brackets removed; not yet checked: the rules do that)
 * @param port the port asked for
 * @param headLength how many bytes of the connection the head took
 * @param forwarded the head to send to the host, or null for a CONNECT
 */
record HttpRequestHead(boolean connect, String host, int port, int headLength,
        byte[] forwarded) {

    private static final String TOKEN_CHARS = "!#$%&'*+-.^_`|~";

    /**
     * Parses the head at the start of {@code buf[0, length)}.
     *
     * @param scanned how many bytes an earlier call saw without finding the head's end (each
     *     byte is looked at about once however the head arrives)
     * @return the head, or null when its end (an empty line) has not been read yet
     * @throws BadRequest when it is not a proxy request this proxy relays
     */
    static HttpRequestHead parse(byte[] buf, int length, int scanned) throws BadRequest {
        int end = headEnd(buf, Math.max(0, scanned - 2), length);
        if (end < 0) {
            return null;
        }
        String head = new String(buf, 0, end, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r?\n", -1);
        // lines ends with the two empty strings of the final empty line.
        String[] request = lines[0].split(" ", -1);
        if (request.length != 3 || !isToken(request[0]) || request[1].isEmpty()) {
            throw bad("malformed request line " + quoted(lines[0]));
        }
        String method = request[0];
        String target = request[1];
        String version = request[2];
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw bad("unsupported HTTP version " + quoted(version));
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw bad("malformed request target " + quoted(target));
            }
        }
        StringBuilder headers = new StringBuilder();
        for (int i = 1; i < lines.length - 2; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon <= 0 || !isToken(line.substring(0, colon))) {
                throw bad("malformed header line " + quoted(line));
            }
            for (int j = colon + 1; j < line.length(); j++) {
                char c = line.charAt(j);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    throw bad("a control character in header " + line.substring(0, colon));
                }
            }
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
            if (!(name.equals("host") || name.equals("connection") || name.equals("keep-alive")
                    || name.startsWith("proxy-"))) {
                headers.append(line).append("\r\n");
            }
        }
        if (method.equals("CONNECT")) {
            Authority a = authority(target, -1, "malformed CONNECT line");
            return new HttpRequestHead(true, a.host, a.port, end, null);
        }
        String lower = target.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("http://")) {
            if (lower.startsWith("https://")) {
                throw bad("an https:// URL in a plain proxy request (use CONNECT)");
            }
            throw bad("not a proxy request: the target " + quoted(target)
                    + " is not http://host/...");
        }
        String rest = target.substring("http://".length());
        int slash = firstOf(rest, "/?#");
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "/" : rest.substring(slash);
        int hash = path.indexOf('#');
        if (hash >= 0) {
            path = path.substring(0, hash);
        }
        if (path.startsWith("?")) {
            path = "/" + path;
        }
        if (path.isEmpty()) {
            path = "/";
        }
        Authority a = authority(authority, 80, "malformed URL " + quoted(target));
        String host;
        try {
            host = Hosts.normalize(a.host);
        } catch (IllegalArgumentException e) {
            host = a.host; // the rules refuse it: this head is never sent
        }
        String hostHeader = Hosts.inUrl(host) + (a.port == 80 ? "" : ":" + a.port);
        String out = method + " " + path + " " + version + "\r\nHost: " + hostHeader + "\r\n"
                + headers + "Connection: close\r\n\r\n";
        return new HttpRequestHead(false, a.host, a.port, end,
                out.getBytes(StandardCharsets.ISO_8859_1));
    }

    private record Authority(String host, int port) {}

    /** {@code host:port} or {@code [v6]:port}; without a port, {@code defaultPort} if >= 0. */
    private static Authority authority(String s, int defaultPort, String what) throws BadRequest {
        if (s.indexOf('@') >= 0) {
            throw bad(what + ": user information in the authority");
        }
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw bad(what + ": no ] after the IPv6 address");
            }
            host = s.substring(1, close);
            String tail = s.substring(close + 1);
            if (tail.isEmpty()) {
                port = null;
            } else if (tail.startsWith(":")) {
                port = tail.substring(1);
            } else {
                throw bad(what + ": only :port may follow ]");
            }
            if (host.indexOf(':') < 0) {
                throw bad(what + ": not an IPv6 address in brackets");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw bad(what + ": an IPv6 address must be in brackets");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw bad(what + ": no host");
        }
        int p;
        if (port == null) {
            if (defaultPort < 0) {
                throw bad(what + ": no port");
            }
            p = defaultPort;
        } else {
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Hosts::isDigit)) {
                throw bad(what + ": the port " + quoted(port) + " is not a number");
            }
            p = Integer.parseInt(port);
        }
        return new Authority(host, p);
    }

    /** The length of the head up to and including its empty line, or -1 if not read yet. */
    static int headEnd(byte[] buf, int from, int length) {
        for (int i = from; i < length; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            if (i + 1 < length && buf[i + 1] == '\n') {
                return i + 2;
            }
            if (i + 2 < length && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
                return i + 3;
            }
        }
        return -1;
    }

    /** Whether the head read so far has a byte no request head has (a binary protocol). */
    static String badByte(byte[] buf, int from, int length) {
        for (int i = from; i < length; i++) {
            int c = buf[i] & 0xff;
            if (c == 0 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t')) {
                return "a control byte 0x" + String.format("%02x", c) + " in the request head";
            }
        }
        return null;
    }

    private static int firstOf(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Hosts.isDigit(c)
                    || TOKEN_CHARS.indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    /** What the sandbox sent, quoted as a reason may show it. */
    private static String quoted(String sent) {
        return "\"" + Hosts.printable(sent) + "\"";
    }

    private static BadRequest bad(String reason) {
        return new BadRequest(Reply.BAD_REQUEST, reason);
    }
}
