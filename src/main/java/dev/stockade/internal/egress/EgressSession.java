package dev.stockade.internal.egress;

import dev.stockade.Connection;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One sandbox's listener on the caller's egress proxy: a UNIX stream socket in a directory of
 * its own (mode 0700; the socket 0666, so a root caller's sandbox user, host uid 65534, can
 * connect through the bind), registered with the JVM's one proxy thread. Each connection
 * accepted on it is one request from inside the sandbox (relayed by the helper's forwarder from
 * {@code 127.0.0.1:STK_EGRESS_PORT}, or made by the command on the socket itself): HTTP
 * {@code CONNECT}, a plain HTTP proxy request, or SOCKS5; checked against the rules, resolved
 * here, connected and relayed, or refused; and logged.
 */
public final class EgressSession {
    private EgressSession() {}

    /**
     * Opens a listener for one sandbox with {@code rules}.
     *
     * @throws IOException when the directory or the socket cannot be made
     */
    public static EgressSession open(EgressRules rules) throws IOException {
        throw new UnsupportedOperationException("contract: implemented by the proxy change");
    }

    /** The socket's path on the host: the bind source of {@code STK_EGRESS_SOCKET}. */
    public Path socketPath() {
        throw new UnsupportedOperationException("contract: implemented by the proxy change");
    }

    /**
     * Stops accepting, closes every connection of this sandbox, removes the socket and its
     * directory, and returns the log: one entry per host, port, address, verdict, rule and
     * reason, in the order each first occurred, with the bytes relayed each way. Idempotent:
     * a later call returns the same list. Never throws.
     */
    public List<Connection> finish() {
        throw new UnsupportedOperationException("contract: implemented by the proxy change");
    }
}
