package dev.stockade;

import java.util.Objects;

/**
 * Connections a sandbox with a {@linkplain Network#allow(String...) network allow list} asked
 * its proxy for, aggregated: one entry per host, port, address, verdict, rule and reason, with
 * how many connections it stands for and the bytes they carried.
 *
 * @param host the host asked for, in lower case (a name or an address as written); empty when
 *     the request could not be read
 * @param port the port asked for; 0 when the request could not be read
 * @param address the address connected to (or that was refused), as
 *     {@link java.net.InetAddress#getHostAddress()} writes it; empty when none was reached
 *     (refused by name, not resolved, or not read)
 * @param verdict what became of the connections
 * @param rule the pattern that decided, as the policy wrote it: the allow entry for
 *     {@link Verdict#ALLOWED} and {@link Verdict#FAILED}, the deny entry for a denied host, the
 *     allow entry that matched for an address only an exact entry reaches; empty when no
 *     pattern matched or the request could not be read
 * @param reason why the connections were refused or failed, in words (e.g. "not in the allow
 *     list", "169.254.169.254 is a link-local address: only an exact entry reaches it",
 *     "connection refused", "malformed CONNECT line"); empty for {@link Verdict#ALLOWED}
 * @param count how many connections this entry stands for
 * @param bytesSent bytes relayed from the sandbox to the host, over all of them
 * @param bytesReceived bytes relayed from the host to the sandbox, over all of them
 */
public record Connection(String host, int port, String address, Verdict verdict, String rule,
        String reason, long count, long bytesSent, long bytesReceived) {

    /** What became of a connection. */
    public enum Verdict {
        /** The policy allowed it and the host was reached. */
        ALLOWED,
        /** The policy refused it: by a deny entry, by no allow entry, or by its address. */
        DENIED,
        /** The policy allowed it but it could not be made (no such host, refused, timed out). */
        FAILED,
        /** The request was not one the proxy understands (or past its bounds): closed unread. */
        MALFORMED
    }

    /**
     * An entry; no component may be {@code null}.
     *
     * @param host the host asked for, or empty
     * @param port the port asked for, 0..65535
     * @param address the address connected to, or empty
     * @param verdict what became of the connections
     * @param rule the pattern that decided, or empty
     * @param reason why the connections were refused or failed, or empty
     * @param count how many connections this entry stands for, at least 1
     * @param bytesSent bytes relayed from the sandbox to the host, at least 0
     * @param bytesReceived bytes relayed from the host to the sandbox, at least 0
     * @throws IllegalArgumentException when a number is out of those ranges
     */
    public Connection {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(reason, "reason");
        if (port < 0 || port > 65535 || count < 1 || bytesSent < 0 || bytesReceived < 0) {
            throw new IllegalArgumentException("bad connection entry: " + port + " " + count
                    + " " + bytesSent + " " + bytesReceived);
        }
    }

    /**
     * {@return the target as {@code host:port}, with an IPv6 address in brackets} Empty when
     * the request could not be read.
     */
    public String target() {
        if (host.isEmpty()) {
            return "";
        }
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
