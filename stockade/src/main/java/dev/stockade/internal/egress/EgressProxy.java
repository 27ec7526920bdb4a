package dev.stockade.internal.egress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The JVM's one egress proxy thread ({@value #THREAD_NAME}, a daemon, started with the first
 * session): a selector over every session's listener and connections. Everything that touches
 * a session's channels runs on it, so none of that state is shared; other threads hand it work
 * through {@link #execute}. Names are looked up by the {@link Resolver}, since
 * {@code getAllByName} blocks.
 */
final class EgressProxy implements Runnable {
    static final String THREAD_NAME = "stockade-egress";
    /** How often deadlines are looked at when none is nearer. */
    private static final long SCAN_NS = TimeUnit.SECONDS.toNanos(1);

    private static EgressProxy shared;

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Resolver resolver;
    private final Set<EgressSession> sessions = new HashSet<>();
    private long nextDeadline = Long.MAX_VALUE;

    private EgressProxy(int resolverThreads) throws IOException {
        selector = Selector.open();
        resolver = new Resolver(this, resolverThreads);
        thread = new Thread(this, THREAD_NAME);
        thread.setDaemon(true);
        thread.start();
    }

    /** The JVM's proxy, started now if it is not running. */
    static synchronized EgressProxy shared() throws IOException {
        if (shared == null || !shared.thread.isAlive()) {
            shared = new EgressProxy(EgressBounds.DEFAULTS.resolverThreads());
        }
        return shared;
    }

    Selector selector() {
        return selector;
    }

    /** Runs {@code task} on the proxy thread, soon. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    /** Runs {@code task} on the proxy thread; the future completes with its result. */
    <T> CompletableFuture<T> call(Supplier<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        execute(() -> {
            try {
                f.complete(task.get());
            } catch (RuntimeException | Error e) {
                f.completeExceptionally(e);
                throw e;
            }
        });
        return f;
    }

    boolean alive() {
        return thread.isAlive();
    }

    boolean onProxyThread() {
        return Thread.currentThread() == thread;
    }

    /** The JVM's name lookups; proxy thread only. */
    Resolver resolver() {
        return resolver;
    }

    /** Makes the loop look at deadlines by {@code deadline} (System.nanoTime()) at the latest. */
    void deadline(long deadline) {
        if (deadline - nextDeadline < 0) {
            nextDeadline = deadline;
        }
    }

    void added(EgressSession s) {
        sessions.add(s);
    }

    void removed(EgressSession s) {
        sessions.remove(s);
    }

    @Override
    public void run() {
        while (true) {
            try {
                long wait = nextDeadline == Long.MAX_VALUE ? SCAN_NS : nextDeadline - System.nanoTime();
                if (wait <= 0) {
                    selector.selectNow();
                } else {
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
                }
            } catch (IOException e) {
                // A selector that cannot select cannot serve anyone: the thread ends, sessions
                // then close their channels themselves, and the next session starts a new one.
                throw new UncheckedIOException(e);
            }
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (Throwable e) {
                    // The task's own future has it; the loop goes on. An Error too (an
                    // OutOfMemoryError in one sandbox's work): this thread serves every sandbox.
                }
            }
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                Object handler = key.attachment();
                try {
                    if (handler instanceof EgressSession s) {
                        s.acceptReady();
                    } else if (handler instanceof ProxyConnection c) {
                        c.ready(key);
                    }
                } catch (Throwable e) {
                    // ready() closes its connection itself; a listener that failed is tried
                    // again at its next readiness. The thread serves every sandbox: it goes on.
                    if (handler instanceof ProxyConnection c) {
                        try {
                            c.close();
                        } catch (Throwable again) {
                            // Its channels are closed or unreachable; the thread goes on.
                        }
                    }
                }
            }
            long now = System.nanoTime();
            if (nextDeadline == Long.MAX_VALUE || now - nextDeadline >= 0) {
                long next = now + SCAN_NS;
                for (EgressSession s : new ArrayList<>(sessions)) {
                    long d;
                    try {
                        d = s.expire(now); // catches what its connections throw
                    } catch (Throwable e) {
                        d = now + SCAN_NS; // its own bookkeeping failed: tried again later
                    }
                    if (d - next < 0) {
                        next = d;
                    }
                }
                nextDeadline = next;
            }
        }
    }

    /** The sessions registered now (for tests: none is left behind). */
    List<EgressSession> sessions() {
        return call(() -> List.copyOf(sessions)).join();
    }
}
