package dev.stockade.internal.egress;

import dev.stockade.Connection;
import dev.stockade.internal.Protocol;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sandbox's listener on the caller's egress proxy: a UNIX stream socket in a directory of
 * its own (mode 0700; the socket 0666, so a root caller's sandbox user, host uid 65534, can
 * connect through the bind), registered with the JVM's one proxy thread. Each connection
 * accepted on it is one request from inside the sandbox (relayed by the helper's forwarder from
 * {@code 127.0.0.1:STK_EGRESS_PORT}, or made by the command on the socket itself): HTTP
 * {@code CONNECT}, a plain HTTP proxy request, or SOCKS5; checked against the rules, resolved
 * here, connected and relayed, or refused; and logged.
 *
 * <p>The command can reach the socket without the forwarder, so this side bounds what it
 * holds itself: {@link EgressBounds#maxConnections} at once (past it the listener is not
 * accepted from until one closes), and each connection's buffers.
 */
public final class EgressSession {
    /** sun_path's size, its terminating NUL included. */
    private static final int SUN_PATH = 108;
    private static final String SOCKET_NAME = "egress.sock";
    /** How long accepting pauses after it failed (EMFILE, ENFILE): no busy loop on it. */
    private static final long ACCEPT_BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final EgressRules rules;
    private final EgressBounds bounds;
    private final EgressProxy proxy;
    private final Path directory;
    private final Path socket;
    private final ServerSocketChannel listener;
    private final ConnectionLog log;
    private final byte[] token;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The connections open now; proxy thread only. */
    private final Map<Long, ProxyConnection> connections = new LinkedHashMap<>();
    /** Ids of this session's connections: a lookup's callback finds its connection by it. */
    private long nextConnectionId;
    private final AtomicInteger channels = new AtomicInteger();
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicLong peakBuffered = new AtomicLong();
    private SelectionKey listenerKey;
    private long acceptPausedUntil;
    private boolean acceptPaused;
    private boolean ended;
    private List<Connection> result;

    private EgressSession(EgressRules rules, EgressBounds bounds, EgressProxy proxy,
            Path directory, Path socket, ServerSocketChannel listener) {
        this.rules = rules;
        this.bounds = bounds;
        this.log = new ConnectionLog(bounds.logEntries());
        this.token = new byte[Protocol.EGRESS_TOKEN_SIZE];
        RANDOM.nextBytes(token);
        this.proxy = proxy;
        this.directory = directory;
        this.socket = socket;
        this.listener = listener;
        channels.set(1);
    }

    /**
     * Opens a listener for one sandbox with {@code rules}.
     *
     * @throws IOException when the directory or the socket cannot be made
     */
    public static EgressSession open(EgressRules rules) throws IOException {
        return open(rules, EgressBounds.DEFAULTS);
    }

    static EgressSession open(EgressRules rules, EgressBounds bounds) throws IOException {
        EgressProxy proxy = EgressProxy.shared();
        Path directory = directory();
        Path socket = directory.resolve(SOCKET_NAME);
        ServerSocketChannel listener = null;
        try {
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(socket), bounds.maxConnections());
            // Made in a 0700 directory: nobody could reach it before this.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            listener.configureBlocking(false);
            EgressSession s = new EgressSession(rules, bounds, proxy, directory, socket,
                    listener);
            s.register();
            return s;
        } catch (IOException | RuntimeException | Error e) {
            if (listener != null) {
                listener.close();
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(directory);
            throw e;
        }
    }

    /** A new 0700 directory whose socket path fits sun_path: under java.io.tmpdir, else /tmp. */
    private static Path directory() throws IOException {
        var mode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        Path dir = Files.createTempDirectory(tmp, "stockade-egress-", mode);
        if (dir.resolve(SOCKET_NAME).toString().getBytes(StandardCharsets.UTF_8).length
                >= SUN_PATH) {
            Files.delete(dir);
            dir = Files.createTempDirectory(Path.of("/tmp"), "stockade-egress-", mode);
        }
        return dir;
    }

    private void register() throws IOException {
        try {
            proxy.call(() -> {
                try {
                    listenerKey = listener.register(proxy.selector(), SelectionKey.OP_ACCEPT, this);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                proxy.added(this);
                return null;
            }).get(bounds.finishTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("egress proxy: cannot register the listener: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("egress proxy: its thread does not answer", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("egress proxy: interrupted while registering", e);
        }
    }

    /**
     * The token this sandbox's forwarder sends first on every stream (STK_F_EGRESS): only
     * streams that begin with it are served. A copy.
     */
    public byte[] token() {
        return token.clone();
    }

    /** The socket's path on the host: the bind source of {@code STK_EGRESS_SOCKET}. */
    public Path socketPath() {
        return socket;
    }

    EgressRules rules() {
        return rules;
    }

    EgressBounds bounds() {
        return bounds;
    }

    EgressProxy proxy() {
        return proxy;
    }

    ConnectionLog log() {
        return log;
    }

    // ---- on the proxy thread ----

    void acceptReady() {
        if (ended) {
            return;
        }
        while (connections.size() < bounds.maxConnections()) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                // Out of descriptors (EMFILE, ENFILE) or the like: pause rather than spin on a
                // listener that stays ready.
                acceptPaused = true;
                acceptPausedUntil = System.nanoTime() + ACCEPT_BACKOFF_NS;
                proxy.deadline(acceptPausedUntil);
                break;
            }
            if (c == null) {
                break;
            }
            channels.incrementAndGet();
            try {
                ProxyConnection pc = new ProxyConnection(this, c, nextConnectionId++);
                connections.put(pc.id(), pc);
            } catch (IOException | RuntimeException | Error e) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // Closed either way.
                }
                channels.decrementAndGet();
            }
        }
        accepting();
    }

    /** Accepts while under the bound and not paused. */
    private void accepting() {
        if (listenerKey != null && listenerKey.isValid()) {
            listenerKey.interestOps(!ended && !acceptPaused
                    && connections.size() < bounds.maxConnections() ? SelectionKey.OP_ACCEPT : 0);
        }
    }

    long expire(long now) {
        long next = Long.MAX_VALUE;
        if (acceptPaused) {
            if (now - acceptPausedUntil >= 0) {
                acceptPaused = false;
                accepting();
            } else {
                next = acceptPausedUntil;
            }
        }
        for (ProxyConnection c : new ArrayList<>(connections.values())) {
            long d;
            try {
                d = c.expire(now);
            } catch (RuntimeException | Error e) {
                c.close(); // one connection's bug must not end the thread every sandbox uses
                continue;
            }
            if (d - next < 0) {
                next = d;
            }
        }
        return next;
    }

    void closed(ProxyConnection c) {
        connections.remove(c.id());
        accepting();
    }

    /** The connection with {@code id}, if it is still open. */
    ProxyConnection connection(long id) {
        return connections.get(id);
    }

    /** Whether the first {@code Protocol.EGRESS_TOKEN_SIZE} bytes of {@code a} are the token. */
    boolean tokenMatches(byte[] a) {
        return MessageDigest.isEqual(token, Arrays.copyOf(a, token.length));
    }

    void channelOpened() {
        channels.incrementAndGet();
    }

    void channelClosed() {
        channels.decrementAndGet();
    }

    ByteBuffer allocate(int bytes) {
        long now = buffered.addAndGet(bytes);
        peakBuffered.accumulateAndGet(now, Math::max);
        return ByteBuffer.allocate(bytes);
    }

    void free(long bytes) {
        buffered.addAndGet(-bytes);
    }

    /** Closes the listener and every connection; on the proxy thread. */
    private Void end() {
        if (ended) {
            return null;
        }
        ended = true;
        proxy.removed(this);
        if (listenerKey != null) {
            listenerKey.cancel();
        }
        closeListener();
        for (ProxyConnection c : new ArrayList<>(connections.values())) {
            c.end();
        }
        proxy.resolver().drop(this);
        return null;
    }

    private void closeListener() {
        if (listener.isOpen()) {
            try {
                listener.close();
            } catch (IOException e) {
                // Closed either way.
            }
            channels.decrementAndGet();
        }
    }

    // ---- for tests ----

    /** The listener and connection channels open now (0 once finished). */
    int openChannels() {
        return channels.get();
    }

    /** Buffer bytes held now, and the most held at once. */
    long bufferedBytes() {
        return buffered.get();
    }

    long peakBufferedBytes() {
        return peakBuffered.get();
    }

    /**
     * Stops accepting, closes every connection of this sandbox, removes the socket and its
     * directory, and returns the log: one entry per host, port, address, verdict, rule and
     * reason, in the order each first occurred, with the bytes relayed each way. Idempotent:
     * a later call returns the same list. Never throws.
     */
    public synchronized List<Connection> finish() {
        if (result != null) {
            return result;
        }
        try {
            if (proxy.onProxyThread()) {
                end();
            } else {
                proxy.call(this::end).get(bounds.finishTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeListener();
        } catch (Exception e) {
            if (!proxy.alive()) {
                // The thread is gone: nothing else touches this session's state now.
                end();
            } else {
                // Alive but not answering in time: stop accepting at least; the connections
                // are closed when it gets to the task.
                closeListener();
            }
        }
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(directory);
        } catch (IOException | RuntimeException e) {
            // Left in the temporary directory, unreachable (0700): nothing to report it to.
        }
        result = log.snapshot();
        return result;
    }
}
