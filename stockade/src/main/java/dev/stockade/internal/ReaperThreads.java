package dev.stockade.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that watch running sandboxes: one per sandbox while it runs (and one more that
 * reads both streams of a sandbox with line consumers, {@link LinePump}), taken from a shared
 * cached pool of daemon threads named {@code stockade-reaper-N} (idle ones end after a minute),
 * so a JVM running no sandbox keeps none and a pending sandbox never keeps a JVM alive.
 */
public final class ReaperThreads {
    private ReaperThreads() {}

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private static final ExecutorService POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
            60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
                // A small stack is enough: the thread only decodes frames and waits.
                Thread t = new Thread(null, r, "stockade-reaper-" + COUNTER.incrementAndGet(),
                        256 * 1024);
                t.setDaemon(true);
                return t;
            });

    /** Runs {@code task} on a reaper thread. */
    public static void start(Runnable task) {
        POOL.execute(task);
    }
}
