package dev.stockade.internal.egress;

import dev.stockade.Connection.Verdict;
import dev.stockade.internal.Protocol;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One connection from inside a sandbox, on the proxy thread only: its request read (within
 * the head bound and timeout), decided, resolved, connected, then relayed both ways through a
 * bounded buffer each way, or refused with a reply and logged.
 */
final class ProxyConnection {
    private enum State { HEAD, RESOLVING, CONNECTING, RELAY, REFUSING, CLOSED }

    private enum Kind { UNKNOWN, HTTP, SOCKS5 }

    /** Why a stream that does not begin with the session's token is closed unanswered. */
    static final String NO_TOKEN = "not from this sandbox's forwarder (no session token)";

    private final EgressSession session;
    private final long id;
    private final EgressBounds bounds;
    private final SocketChannel client;
    private final SelectionKey clientKey;
    private SocketChannel target;
    private SelectionKey targetKey;

    private State state = State.HEAD;
    private Kind kind = Kind.UNKNOWN;
    private boolean tokenChecked;
    private Resolver.Lookup lookup;
    private boolean socksGreeted;
    private int scanned;
    private boolean connectRequest;

    /** Sandbox to host; holds the request head first. Kept in fill mode. */
    private final ByteBuffer toTarget;
    /** Host to sandbox, from the connect on (a request still being read holds only one). */
    private ByteBuffer toClient;
    /** The rewritten head of a plain HTTP request, sent before {@link #toTarget}. */
    private ByteBuffer targetPrefix;
    /** The proxy's own reply, sent before {@link #toClient} (not counted as relayed). */
    private ByteBuffer clientPrefix;

    private boolean clientEof;
    private boolean targetEof;
    private boolean clientShut;
    private boolean targetShut;
    private long lingered;
    private long deadline;

    private EgressRules.Decision decision;
    private List<InetAddress> candidates = List.of();
    private int nextCandidate;
    private String failedAddress = "";
    private String failure = "";
    private Reply failureReply = Reply.HOST_UNREACHABLE;
    private ConnectionLog.Entry entry;

    ProxyConnection(EgressSession session, SocketChannel client, long id) throws IOException {
        this.session = session;
        this.id = id;
        this.bounds = session.bounds();
        this.client = client;
        client.configureBlocking(false);
        clientKey = client.register(session.proxy().selector(), SelectionKey.OP_READ, this);
        // Counted from here on: close() gives them back.
        toTarget = session.allocate(bounds.bufferBytes());
        // The token first, alone: not a byte of the request is read before it matched.
        toTarget.limit(Protocol.EGRESS_TOKEN_SIZE);
        deadline(bounds.headTimeout().toNanos());
    }

    long id() {
        return id;
    }

    private void deadline(long fromNowNs) {
        deadline = System.nanoTime() + fromNowNs;
        session.proxy().deadline(deadline);
    }

    /** A key of this connection is ready. */
    void ready(SelectionKey key) {
        if (state == State.CLOSED) {
            return;
        }
        try {
            if (key == targetKey && state == State.CONNECTING) {
                if (key.isValid() && key.isConnectable()) {
                    finishConnect();
                }
            } else {
                pump();
            }
            if (state != State.CLOSED) {
                interest();
            }
        } catch (IOException | RuntimeException | Error e) {
            close();
        }
    }

    private void pump() throws IOException {
        switch (state) {
            case HEAD -> readHead();
            case RESOLVING, CONNECTING -> watch();
            case RELAY -> relay();
            case REFUSING -> linger();
            default -> { }
        }
    }

    /**
     * While the host is looked up and connected: keeps what the client sends after its head
     * (relayed once connected, within the buffer) and sees it go: an error closes the
     * connection, which gives its lookup slot back; an EOF is a half-close (the reply may
     * still be wanted), passed on once connected.
     */
    private void watch() throws IOException {
        writeClient();
        if (!clientEof && toTarget.hasRemaining()) {
            if (client.read(toTarget) < 0) {
                clientEof = true;
            }
        }
    }

    // ---- the request ----

    private void readHead() throws IOException {
        if (!tokenChecked) {
            // A stream of the sandbox's own forwarder begins with the session's token; any
            // other (the command on the socket itself, another sandbox that can see it) is
            // neither served nor answered.
            if (client.read(toTarget) < 0) {
                notFromForwarder();
                return;
            }
            if (toTarget.hasRemaining()) {
                return;
            }
            if (!session.tokenMatches(toTarget.array())) {
                notFromForwarder();
                return;
            }
            tokenChecked = true;
            toTarget.clear();
            toTarget.limit(bounds.headBytes());
        }
        writeClient(); // a SOCKS5 greeting's answer
        int n = client.read(toTarget);
        if (n < 0) {
            if (toTarget.position() > 0 || socksGreeted) {
                malformed(new BadRequest(Reply.BAD_REQUEST, "closed before the request was"
                        + " complete"));
            } else {
                close();
            }
            return;
        }
        if (n == 0) {
            return;
        }
        try {
            parseHead();
        } catch (BadRequest e) {
            malformed(e);
        }
    }

    private void parseHead() throws BadRequest {
        byte[] a = toTarget.array();
        int length = toTarget.position();
        if (kind == Kind.UNKNOWN) {
            int first = a[0] & 0xff;
            if (first == Socks5Request.VERSION) {
                kind = Kind.SOCKS5;
            } else if ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z')) {
                kind = Kind.HTTP;
            } else {
                throw new BadRequest(Reply.BAD_REQUEST, String.format("not an HTTP or SOCKS5"
                        + " request (first byte 0x%02x)", first));
            }
        }
        if (kind == Kind.HTTP) {
            // Only the head itself: what follows it in the same read (a TLS ClientHello sent
            // with the CONNECT, a POST's binary body) is payload, relayed as it is.
            int end = HttpRequestHead.headEnd(a, Math.max(0, scanned - 2), length);
            String bad = HttpRequestHead.badByte(a, scanned, end < 0 ? length : end);
            if (bad != null) {
                throw new BadRequest(Reply.BAD_REQUEST, bad);
            }
            HttpRequestHead head = HttpRequestHead.parse(a, length, scanned);
            scanned = length;
            if (head == null) {
                tooLong(length);
                return;
            }
            consume(head.headLength());
            connectRequest = head.connect();
            if (!head.connect()) {
                targetPrefix = session.allocate(head.forwarded().length);
                targetPrefix.put(head.forwarded()).flip();
            }
            request(head.host(), head.port());
            return;
        }
        if (!socksGreeted) {
            int g = Socks5Request.greeting(a, length);
            if (g < 0) {
                tooLong(length);
                return;
            }
            consume(g);
            socksGreeted = true;
            reply(Socks5Request.METHOD_CHOSEN);
            length = toTarget.position();
        }
        Socks5Request r = Socks5Request.parse(a, length);
        if (r == null) {
            tooLong(length);
            return;
        }
        consume(r.length());
        request(r.host(), r.port());
    }

    private void tooLong(int length) throws BadRequest {
        if (length >= bounds.headBytes()) {
            throw new BadRequest(Reply.HEAD_TOO_LARGE, "request head longer than "
                    + bounds.headBytes() + " bytes");
        }
    }

    /** Drops the first {@code n} bytes read (the head), keeping what followed it. */
    private void consume(int n) {
        toTarget.flip();
        toTarget.position(n);
        toTarget.compact();
        toTarget.limit(bounds.headBytes());
        scanned = 0;
    }

    private void request(String host, int port) {
        toTarget.limit(toTarget.capacity());
        decision = session.rules().decide(host, port);
        if (!decision.allowed()) {
            deny(decision.rule(), decision.reason(), "", decision.reason());
            return;
        }
        deadline(bounds.connectTimeout().toNanos());
        if (Hosts.isIpLiteral(decision.host())) {
            try {
                // A literal: parsed, never looked up.
                resolved(new InetAddress[] {InetAddress.getByName(decision.host())}, null);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // Hosts.normalize passed it: cannot happen
            }
            return;
        }
        state = State.RESOLVING;
        lookup = session.proxy().resolver().lookup(session, id, decision.host());
    }

    /** The answer to {@link #lookup}, on the proxy thread. */
    void lookedUp(Resolver.Lookup l, InetAddress[] found, IOException failure) {
        if (state != State.RESOLVING || l != lookup) {
            return; // timed out meanwhile
        }
        lookup = null;
        try {
            resolved(found, failure);
            if (state != State.CLOSED) {
                interest();
            }
        } catch (RuntimeException | Error e) {
            close();
        }
    }

    /** A lookup no longer wanted: a waiting one is never started, a running one's answer dropped. */
    private void dropLookup() {
        if (lookup != null) {
            session.proxy().resolver().cancel(lookup);
            lookup = null;
        }
    }

    private void resolved(InetAddress[] found, IOException failure) {
        if (failure != null) {
            fail(Reply.HOST_UNREACHABLE, failure instanceof UnknownHostException
                    ? "no such host" : "could not resolve: " + failure.getMessage(), "");
            return;
        }
        List<InetAddress> allowed = new ArrayList<>();
        EgressRules.Refusal firstRefusal = null;
        InetAddress firstRefused = null;
        for (InetAddress a : found) {
            Optional<EgressRules.Refusal> r = session.rules().refusalOf(decision, a);
            if (r.isEmpty()) {
                allowed.add(a);
            } else if (firstRefusal == null) {
                firstRefusal = r.get();
                firstRefused = a;
            }
        }
        if (allowed.isEmpty()) {
            deny(firstRefusal.rule(), firstRefusal.reason(), firstRefused.getHostAddress(),
                    firstRefusal.shown());
            return;
        }
        candidates = allowed;
        nextCandidate = 0;
        connectNext();
    }

    private void connectNext() {
        while (nextCandidate < candidates.size()) {
            InetAddress a = candidates.get(nextCandidate++);
            failedAddress = a.getHostAddress();
            try {
                target = SocketChannel.open();
                session.channelOpened();
                target.configureBlocking(false);
                if (target.connect(new InetSocketAddress(a, decision.port()))) {
                    connected(a);
                    return;
                }
                targetKey = target.register(session.proxy().selector(),
                        SelectionKey.OP_CONNECT, this);
                state = State.CONNECTING;
                return;
            } catch (IOException e) {
                connectFailed(e);
            }
        }
        fail(failureReply, failure, failedAddress);
    }

    private void finishConnect() {
        try {
            if (target.finishConnect()) {
                connected(candidates.get(nextCandidate - 1));
            }
        } catch (IOException e) {
            connectFailed(e);
            connectNext();
        }
    }

    private void connectFailed(IOException e) {
        closeTarget();
        if (e instanceof ConnectException) {
            failure = "connection refused";
            failureReply = Reply.CONNECTION_REFUSED;
        } else if (e instanceof NoRouteToHostException) {
            failure = "no route to host";
            failureReply = Reply.HOST_UNREACHABLE;
        } else {
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            failureReply = Reply.HOST_UNREACHABLE;
        }
    }

    private void connected(InetAddress a) throws IOException {
        toClient = session.allocate(bounds.bufferBytes());
        state = State.RELAY;
        entry = session.log().add(decision.host(), decision.port(), a.getHostAddress(),
                Verdict.ALLOWED, decision.rule(), "");
        if (kind == Kind.SOCKS5) {
            reply(Reply.CONNECTED.socks5());
        } else if (connectRequest) {
            reply(Reply.CONNECTED.http(""));
        }
        if (targetKey == null) {
            targetKey = target.register(session.proxy().selector(), SelectionKey.OP_READ, this);
        }
        // Relayed from the next selection on: an error there is the relay's, not the connect's.
        deadline(bounds.idleTimeout().toNanos());
    }

    // ---- refusals ----

    /**
     * Logs the refusal with its full reason; the sandbox is told {@code shown}, which for a
     * refusal by address does not say the address ({@link EgressRules.Refusal#shown()}).
     */
    private void deny(String rule, String reason, String address, String shown) {
        session.log().add(decision.host(), decision.port(), address, Verdict.DENIED, rule,
                reason);
        refuse(Reply.FORBIDDEN, "refused connection to " + target(decision) + " (" + shown
                + ")");
    }

    private void fail(Reply reply, String reason, String address) {
        session.log().add(decision.host(), decision.port(), address, Verdict.FAILED,
                decision.rule(), reason);
        refuse(reply, "connection to " + target(decision) + " failed (" + reason + ")");
    }

    private void notFromForwarder() {
        session.log().add("", 0, "", Verdict.MALFORMED, "", NO_TOKEN);
        close();
    }

    private void malformed(BadRequest e) {
        session.log().add("", 0, "", Verdict.MALFORMED, "", e.getMessage());
        if (kind == Kind.UNKNOWN) {
            close(); // not a protocol this proxy speaks: no reply it would understand
            return;
        }
        refuse(e.reply(), "refused connection: " + e.getMessage());
    }

    private static String target(EgressRules.Decision d) {
        return Hosts.inUrl(d.host()) + ":" + d.port();
    }

    /** Answers {@code reply} in the client's protocol, then lingers and closes. */
    private void refuse(Reply reply, String why) {
        dropLookup();
        closeTarget();
        release(targetPrefix);
        targetPrefix = null;
        if (kind == Kind.SOCKS5) {
            reply(socksGreeted ? reply.socks5() : Socks5Request.NO_METHOD);
        } else {
            reply(reply.http(why));
        }
        state = State.REFUSING;
        toTarget.clear();
        deadline(bounds.headTimeout().toNanos());
        try {
            linger();
            if (state != State.CLOSED) {
                interest();
            }
        } catch (IOException e) {
            close();
        }
    }

    /** Sends the reply, then reads and drops what the client still sends, to a bound. */
    private void linger() throws IOException {
        writeClient();
        if (clientPrefix != null) {
            return;
        }
        if (!clientShut) {
            client.shutdownOutput();
            clientShut = true;
        }
        while (true) {
            toTarget.clear();
            int n = client.read(toTarget);
            if (n < 0 || lingered + n > bounds.lingerBytes()) {
                close();
                return;
            }
            if (n == 0) {
                return;
            }
            lingered += n;
        }
    }

    // ---- the relay ----

    private void relay() throws IOException {
        boolean moved = false;
        if (!clientEof && toTarget.hasRemaining()) {
            int n = client.read(toTarget);
            if (n < 0) {
                clientEof = true;
            }
            moved |= n > 0;
        }
        moved |= writeTarget();
        if (clientEof && !targetShut && targetPrefix == null && toTarget.position() == 0) {
            target.shutdownOutput();
            targetShut = true;
        }
        if (!targetEof && toClient.hasRemaining()) {
            int n = target.read(toClient);
            if (n < 0) {
                targetEof = true;
            }
            moved |= n > 0;
        }
        moved |= writeClient();
        if (targetEof && !clientShut && clientPrefix == null && toClient.position() == 0) {
            client.shutdownOutput();
            clientShut = true;
        }
        if (clientShut && targetShut) {
            close();
            return;
        }
        if (moved) {
            deadline = System.nanoTime() + bounds.idleTimeout().toNanos();
        }
    }

    private boolean writeTarget() throws IOException {
        long n = 0;
        if (targetPrefix != null) {
            n += target.write(targetPrefix);
            if (targetPrefix.hasRemaining()) {
                session.log().sent(entry, n);
                return n > 0;
            }
            release(targetPrefix);
            targetPrefix = null;
        }
        if (toTarget.position() > 0) {
            toTarget.flip();
            n += target.write(toTarget);
            toTarget.compact();
        }
        if (n > 0) {
            session.log().sent(entry, n);
        }
        return n > 0;
    }

    /** Writes the proxy's reply, then (relaying) what the host sent; true if bytes moved. */
    private boolean writeClient() throws IOException {
        boolean moved = false;
        if (clientPrefix != null) {
            moved = client.write(clientPrefix) > 0;
            if (clientPrefix.hasRemaining()) {
                return moved;
            }
            release(clientPrefix);
            clientPrefix = null;
        }
        if (state == State.RELAY && toClient.position() > 0) {
            toClient.flip();
            int n = client.write(toClient);
            toClient.compact();
            if (n > 0) {
                session.log().received(entry, n);
                moved = true;
            }
        }
        return moved;
    }

    private void reply(byte[] bytes) {
        ByteBuffer b;
        if (clientPrefix == null) {
            b = session.allocate(bytes.length);
        } else {
            b = session.allocate(clientPrefix.remaining() + bytes.length);
            b.put(clientPrefix);
            release(clientPrefix);
        }
        b.put(bytes).flip();
        clientPrefix = b;
    }

    private void release(ByteBuffer b) {
        if (b != null) {
            session.free(b.capacity());
        }
    }

    /** The interest of each key, from what each side may do now. */
    private void interest() {
        boolean replying = clientPrefix != null;
        int c = 0;
        int t = 0;
        switch (state) {
            case HEAD -> c = SelectionKey.OP_READ | (replying ? SelectionKey.OP_WRITE : 0);
            case RESOLVING, CONNECTING -> c = (replying ? SelectionKey.OP_WRITE : 0)
                    | (!clientEof && toTarget.hasRemaining() ? SelectionKey.OP_READ : 0);
            case REFUSING -> c = replying ? SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            case RELAY -> {
                c = (!clientEof && toTarget.hasRemaining() ? SelectionKey.OP_READ : 0)
                        | (replying || toClient.position() > 0 ? SelectionKey.OP_WRITE : 0);
                t = (!targetEof && toClient.hasRemaining() ? SelectionKey.OP_READ : 0)
                        | (targetPrefix != null || toTarget.position() > 0
                                || (clientEof && !targetShut) ? SelectionKey.OP_WRITE : 0);
            }
            default -> { }
        }
        if (clientKey.isValid()) {
            clientKey.interestOps(c);
        }
        if (targetKey != null && targetKey.isValid() && state != State.CONNECTING) {
            targetKey.interestOps(t);
        }
    }

    // ---- time and the end ----

    /**
     * Acts on a passed deadline: a head not read in time, a host not reached in time, a relay
     * idle for too long, a refused client still sending.
     *
     * @return this connection's deadline, or Long.MAX_VALUE once closed
     */
    long expire(long now) {
        if (state == State.CLOSED) {
            return Long.MAX_VALUE;
        }
        if (now - deadline < 0) {
            return deadline;
        }
        switch (state) {
            case HEAD -> {
                if (!tokenChecked) {
                    notFromForwarder();
                } else {
                    malformed(new BadRequest(Reply.HEAD_TIMEOUT, "no complete request"
                            + " within " + seconds(bounds.headTimeout().toNanos())));
                }
            }
            case RESOLVING, CONNECTING -> fail(Reply.TIMED_OUT, "timed out after "
                    + seconds(bounds.connectTimeout().toNanos()), state == State.CONNECTING
                            ? failedAddress : "");
            default -> close();
        }
        return state == State.CLOSED ? Long.MAX_VALUE : deadline;
    }

    private static String seconds(long ns) {
        long ms = TimeUnit.NANOSECONDS.toMillis(ns);
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** The session ends: what was not yet decided is logged as cut short. */
    void end() {
        if (state == State.HEAD && !tokenChecked) {
            if (toTarget.position() > 0) {
                session.log().add("", 0, "", Verdict.MALFORMED, "", NO_TOKEN);
            }
        } else if (state == State.HEAD && (toTarget.position() > 0 || socksGreeted)) {
            session.log().add("", 0, "", Verdict.MALFORMED, "", "the sandbox ended before the"
                    + " request was complete");
        } else if (state == State.RESOLVING || state == State.CONNECTING) {
            session.log().add(decision.host(), decision.port(),
                    state == State.CONNECTING ? failedAddress : "", Verdict.FAILED,
                    decision.rule(), "the sandbox ended before the host was reached");
        }
        close();
    }

    private void closeTarget() {
        if (target != null) {
            if (targetKey != null) {
                targetKey.cancel();
                targetKey = null;
            }
            try {
                target.close();
            } catch (IOException e) {
                // Closed either way.
            }
            target = null;
            session.channelClosed();
        }
    }

    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        dropLookup();
        closeTarget();
        clientKey.cancel();
        try {
            client.close();
        } catch (IOException e) {
            // Closed either way.
        }
        session.channelClosed();
        release(clientPrefix);
        release(targetPrefix);
        clientPrefix = null;
        targetPrefix = null;
        session.free(toTarget.capacity());
        if (toClient != null) {
            session.free(toClient.capacity());
        }
        session.closed(this);
    }
}
