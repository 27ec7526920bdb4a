package dev.stockade.internal.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * The two messages a SOCKS5 client sends before its data (RFC 1928): the greeting, of which
 * only "no authentication" is taken, and a CONNECT request to an IPv4 address, a domain name
 * (resolved here: {@code socks5h}) or an IPv6 address.
 *
 * @param host the host asked for: the name as sent, or the address as Java writes it
 * @param port the port asked for
 * @param length how many bytes the request took
 */
record Socks5Request(String host, int port, int length) {
    static final int VERSION = 5;
    private static final int NO_AUTHENTICATION = 0;
    private static final int CONNECT = 1;
    private static final int IPV4 = 1;
    private static final int DOMAIN = 3;
    private static final int IPV6 = 4;

    /** The answer to a greeting that offers "no authentication". */
    static final byte[] METHOD_CHOSEN = {VERSION, NO_AUTHENTICATION};
    /** The answer to one that does not (RFC 1928: "no acceptable methods"). */
    static final byte[] NO_METHOD = {VERSION, (byte) 0xff};

    /**
     * The greeting at {@code buf[0, length)}.
     *
     * @return its length, or -1 when it has not all been read yet
     * @throws BadRequest when it is not a greeting, or offers no method this proxy takes
     *     ({@link Reply#FORBIDDEN}: answer {@link #NO_METHOD})
     */
    static int greeting(byte[] buf, int length) throws BadRequest {
        if (length < 2) {
            return -1;
        }
        int methods = buf[1] & 0xff;
        if (methods == 0) {
            throw new BadRequest(Reply.BAD_REQUEST, "SOCKS5 greeting offers no method");
        }
        if (length < 2 + methods) {
            return -1;
        }
        for (int i = 0; i < methods; i++) {
            if (buf[2 + i] == NO_AUTHENTICATION) {
                return 2 + methods;
            }
        }
        throw new BadRequest(Reply.FORBIDDEN, "SOCKS5 greeting does not offer the method"
                + " without authentication");
    }

    /**
     * The request at {@code buf[0, length)}, after the greeting.
     *
     * @return it, or null when it has not all been read yet
     * @throws BadRequest when it is not a CONNECT this proxy takes
     */
    static Socks5Request parse(byte[] buf, int length) throws BadRequest {
        if (length < 4) {
            return null;
        }
        int version = buf[0] & 0xff;
        if (version != VERSION) {
            throw new BadRequest(Reply.BAD_REQUEST, "SOCKS5 request of version " + version);
        }
        int command = buf[1] & 0xff;
        if (command != CONNECT) {
            throw new BadRequest(Reply.COMMAND_NOT_SUPPORTED, "SOCKS5 command " + command
                    + " (only CONNECT is relayed)");
        }
        int type = buf[3] & 0xff;
        switch (type) {
            case IPV4:
            case IPV6: {
                int size = type == IPV4 ? 4 : 16;
                if (length < 4 + size + 2) {
                    return null;
                }
                byte[] a = new byte[size];
                System.arraycopy(buf, 4, a, 0, size);
                String host;
                try {
                    host = InetAddress.getByAddress(a).getHostAddress();
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
                }
                return new Socks5Request(host, port(buf, 4 + size), 4 + size + 2);
            }
            case DOMAIN: {
                if (length < 5) {
                    return null;
                }
                int n = buf[4] & 0xff;
                if (n == 0) {
                    throw new BadRequest(Reply.BAD_REQUEST, "SOCKS5 request with an empty"
                            + " domain name");
                }
                if (length < 5 + n + 2) {
                    return null;
                }
                String host = new String(buf, 5, n, StandardCharsets.ISO_8859_1);
                return new Socks5Request(host, port(buf, 5 + n), 5 + n + 2);
            }
            default:
                throw new BadRequest(Reply.ADDRESS_TYPE_NOT_SUPPORTED, "SOCKS5 address type "
                        + type);
        }
    }

    private static int port(byte[] buf, int at) {
        return ((buf[at] & 0xff) << 8) | (buf[at + 1] & 0xff);
    }
}
