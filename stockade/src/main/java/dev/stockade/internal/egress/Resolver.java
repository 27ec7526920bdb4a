package dev.stockade.internal.egress;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Name lookups for every session of the JVM, on a few daemon threads ({@code getAllByName}
 * blocks, and a lame name server makes it block for many seconds). A sandbox picks the names it
 * asks for, so one sandbox must not hold every thread: each session has at most
 * {@link EgressBounds#LOOKUPS_PER_SESSION} lookups running, the rest wait in that session's own
 * queue, and a free thread goes to the sessions in turn (round-robin). The threads are the bound
 * on lookups running in total; what waits is bounded by each session's connections (one lookup
 * each).
 *
 * <p>Everything but the lookup itself runs on the proxy thread. A lookup holds ids only, never
 * the connection: its answer finds the connection by id, and is dropped when that connection
 * has closed or the session has finished. A waiting lookup is dropped when its connection
 * closes or its session finishes, so no name of an ended sandbox is asked for after it ended.
 * A running {@code getAllByName} cannot be interrupted (the JDK's native lookup ignores
 * interrupts), so it keeps its slot until it returns: the per-session bound is what keeps
 * that from starving others.
 */
final class Resolver {
    /** One name to look up for one connection of one session. */
    static final class Lookup {
        private final EgressSession session;
        private final long connection;
        private final String host;
        /** Set on the proxy thread; read by the lookup thread before it asks. */
        private volatile boolean cancelled;
        private boolean running;

        private Lookup(EgressSession session, long connection, String host) {
            this.session = session;
            this.connection = connection;
            this.host = host;
        }
    }

    private final EgressProxy proxy;
    private final ThreadPoolExecutor pool;
    private final int threads;
    private int running;
    private final Map<EgressSession, Integer> runningOf = new HashMap<>();
    private final Map<EgressSession, ArrayDeque<Lookup>> waiting = new HashMap<>();
    /** The sessions with a waiting lookup, in the order they get the next free thread. */
    private final ArrayDeque<EgressSession> turns = new ArrayDeque<>();

    Resolver(EgressProxy proxy, int threads) {
        this.proxy = proxy;
        this.threads = threads;
        AtomicInteger n = new AtomicInteger();
        // Never given more tasks than threads: the queue stays empty.
        pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, EgressProxy.THREAD_NAME + "-resolver-"
                            + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Queues a lookup of {@code host} for connection {@code id} of {@code s}. */
    Lookup lookup(EgressSession s, long id, String host) {
        Lookup l = new Lookup(s, id, host);
        ArrayDeque<Lookup> q = waiting.computeIfAbsent(s, k -> new ArrayDeque<>());
        if (q.isEmpty()) {
            turns.add(s);
        }
        q.add(l);
        dispatch();
        return l;
    }

    /** Its connection no longer wants the answer: a waiting lookup is never started. */
    void cancel(Lookup l) {
        l.cancelled = true;
        if (!l.running) {
            ArrayDeque<Lookup> q = waiting.get(l.session);
            if (q != null && q.remove(l) && q.isEmpty()) {
                waiting.remove(l.session);
                turns.remove(l.session);
            }
        }
    }

    /** The session has finished: none of its waiting lookups is started. */
    void drop(EgressSession s) {
        ArrayDeque<Lookup> q = waiting.remove(s);
        if (q != null) {
            q.forEach(l -> l.cancelled = true);
        }
        turns.remove(s);
    }

    /** Starts waiting lookups while threads are free, one session after another. */
    private void dispatch() {
        int passed = 0;
        while (running < threads && !turns.isEmpty() && passed < turns.size()) {
            EgressSession s = turns.poll();
            if (runningOf.getOrDefault(s, 0) >= EgressBounds.LOOKUPS_PER_SESSION) {
                turns.add(s);
                passed++;
                continue;
            }
            passed = 0;
            ArrayDeque<Lookup> q = waiting.get(s);
            Lookup l = q.poll();
            if (q.isEmpty()) {
                waiting.remove(s);
            } else {
                turns.add(s);
            }
            start(l);
        }
    }

    private void start(Lookup l) {
        l.running = true;
        running++;
        runningOf.merge(l.session, 1, Integer::sum);
        try {
            pool.execute(() -> {
                InetAddress[] found = null;
                IOException failure = null;
                try {
                    if (!l.cancelled) {
                        found = InetAddress.getAllByName(l.host);
                    }
                } catch (IOException e) {
                    failure = e;
                } catch (RuntimeException e) {
                    failure = new IOException(e.toString(), e);
                } finally {
                    InetAddress[] a = found;
                    IOException f = failure;
                    proxy.execute(() -> done(l, a, f));
                }
            });
        } catch (RuntimeException e) {
            // Rejected (cannot make a thread): answered as a failed lookup, slot given back.
            proxy.execute(() -> done(l, null, new IOException("no thread to look it up: " + e)));
        }
    }

    private void done(Lookup l, InetAddress[] found, IOException failure) {
        running--;
        runningOf.computeIfPresent(l.session, (k, v) -> v > 1 ? v - 1 : null);
        try {
            if (!l.cancelled) {
                ProxyConnection c = l.session.connection(l.connection);
                if (c != null) {
                    c.lookedUp(l, found, failure);
                }
            }
        } finally {
            dispatch();
        }
    }

    /** Lookups running now, for every session (for tests). */
    int running() {
        return running;
    }
}
