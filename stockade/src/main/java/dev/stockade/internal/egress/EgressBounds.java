package dev.stockade.internal.egress;

import dev.stockade.internal.Protocol;
import java.time.Duration;

/**
 * Every bound and timeout of the egress proxy, in one place. {@link #DEFAULTS} is what
 * sandboxes get; tests make their own with short timeouts.
 *
 * @param headBytes the longest request head read before it is refused (431): an HTTP request
 *     line and headers, or a SOCKS5 greeting and request
 * @param bufferBytes each connection's buffer per direction; a side whose peer's buffer is
 *     full is not read until it drains (at least {@code headBytes}: the head is read into the
 *     sandbox-to-host buffer)
 * @param lingerBytes what is still read (and dropped) from a refused client after its reply,
 *     so that it sees the reply instead of a reset while it is still sending
 * @param headTimeout from accepting a connection to a complete request; also how long a
 *     refused client is lingered on
 * @param connectTimeout from a complete request to a connected host (resolving included)
 * @param idleTimeout how long a relayed connection may carry no byte either way
 * @param finishTimeout how long {@code finish()} waits for the proxy thread to close a
 *     session's channels before it closes them itself
 * @param maxConnections connections of one sandbox open at once (not accepted past it)
 * @param resolverThreads threads looking names up, for every sandbox of the JVM
 * @param logEntries the most distinct entries one sandbox's log holds: a sandbox picks the
 *     hosts it asks for, and each new one would otherwise be a new entry in the caller's
 *     memory; past it, connections are counted under one entry per verdict saying so
 */
record EgressBounds(int headBytes, int bufferBytes, long lingerBytes, Duration headTimeout,
        Duration connectTimeout, Duration idleTimeout, Duration finishTimeout,
        int maxConnections, int resolverThreads, int logEntries) {

    /**
     * Lookups of one sandbox running at once (the rest wait in its own queue): with
     * {@code resolverThreads} above it, a sandbox asking for slow names cannot hold every
     * thread.
     */
    static final int LOOKUPS_PER_SESSION = 2;

    /** What a rewritten plain-HTTP head may add to the head read: Host and Connection. */
    static final int HEAD_SLACK = 512;

    static final EgressBounds DEFAULTS = new EgressBounds(64 * 1024, 64 * 1024, 4L << 20,
            Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofMinutes(5),
            Duration.ofSeconds(5), Protocol.EGRESS_MAX_CONNECTIONS, 4, 1024);

    EgressBounds {
        if (headBytes < 512 || bufferBytes < headBytes || lingerBytes < 0 || maxConnections < 1
                || resolverThreads < 1 || logEntries < 1 || headTimeout.isNegative() || headTimeout.isZero()
                || connectTimeout.isNegative() || connectTimeout.isZero()
                || idleTimeout.isNegative() || idleTimeout.isZero() || finishTimeout.isNegative()) {
            throw new IllegalArgumentException("bad egress bounds: " + headBytes + " "
                    + bufferBytes + " " + maxConnections + " " + resolverThreads);
        }
    }

    /**
     * The most buffer memory one connection holds: a buffer each way and the rewritten head
     * of a plain HTTP request (the proxy's own short replies are counted within it).
     */
    long connectionBytes() {
        return 2L * bufferBytes + headBytes + HEAD_SLACK;
    }

    /** The most buffer memory one sandbox's connections hold at once. */
    long sessionBytes() {
        return connectionBytes() * maxConnections;
    }

    EgressBounds withTimeouts(Duration head, Duration connect, Duration idle) {
        return new EgressBounds(headBytes, bufferBytes, lingerBytes, head, connect, idle,
                finishTimeout, maxConnections, resolverThreads, logEntries);
    }

    EgressBounds withMaxConnections(int max) {
        return new EgressBounds(headBytes, bufferBytes, lingerBytes, headTimeout,
                connectTimeout, idleTimeout, finishTimeout, max, resolverThreads, logEntries);
    }

    EgressBounds withLogEntries(int entries) {
        return new EgressBounds(headBytes, bufferBytes, lingerBytes, headTimeout,
                connectTimeout, idleTimeout, finishTimeout, maxConnections, resolverThreads,
                entries);
    }
}
