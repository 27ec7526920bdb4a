package dev.stockade;

import dev.stockade.internal.FilterPrograms;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.ProgressPage;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SpecEncoder;
import dev.stockade.internal.SpecException;
import dev.stockade.internal.SpecResolver;
import dev.stockade.internal.WorkspaceFingerprint;
import dev.stockade.internal.egress.EgressSession;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sandboxes for one policy, set up ahead of time, so that starting a command in one costs
 * little more than the command's own fork and exec. A warm sandbox has everything a cold
 * spawn builds — helper, every namespace, the filesystem view, the network, the cgroups, the
 * egress forwarder — waiting for its command; {@code start()} sends only the command, its
 * environment, its working directory and its stdio, and the sandbox execs it under the same
 * filter, limits and identity as a cold spawn (with a pid namespace in a process pid 1 forked
 * ahead of time, so a start forks nothing). Each warm sandbox runs exactly one command
 * and is then destroyed; the pool sets the next one up in the background, on at most
 * {@value #MAX_WARMING_THREADS} threads of its own, never on the caller's.
 *
 * <pre>{@code
 * try (SandboxPool pool = SandboxPool.create(policy, 2)) {
 *     SandboxResult r = pool.command("javac", "-d", "out", "A.java").start().result();
 * }
 * }</pre>
 *
 * <p>{@link #command} gives a {@link SandboxBuilder} like {@link Sandbox#command}'s, whose
 * {@code start()} takes a warm sandbox when one is ready at that moment and spawns a cold one
 * otherwise: it never waits for the pool. It also spawns cold when the builder's policy is no
 * longer the pool's, when one of the command's streams is a terminal (a warm sandbox has no
 * pty of its own for it), and after {@link #close()}. It spawns cold too when the workspace
 * changed since the ready sandboxes were set up in a way that changes what a start protects
 * (a {@code .git} made, a protected path replaced, the workspace directory itself replaced):
 * their view would not be what a cold start gives; they are ended and the pool sets up new
 * ones. {@link SandboxedProcess#warm()} tells which it was.
 *
 * <p>A warm sandbox waiting in the pool holds two processes (its helper and pid 1; three when
 * the policy has a pid namespace: pid 1 has forked the command's process already), a few
 * descriptors, and what the policy gives it (a cgroup, an egress proxy session); it dies with
 * this JVM, like every sandbox. Thread-safe.
 */
public final class SandboxPool implements AutoCloseable {
    /** The most sandboxes one pool keeps ready. */
    public static final int MAX_SIZE = 64;
    /** The most sandboxes one pool sets up at once. */
    public static final int MAX_WARMING_THREADS = 2;
    /** How long a warm start's command runs before the pool sets its slot up again. */
    static final Duration REFILL_DELAY = Duration.ofMillis(20);

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final SandboxPolicy policy;
    private final int size;
    private final ThreadPoolExecutor warmers;
    private final Object lock = new Object();
    private final ArrayDeque<WarmSandbox> idle = new ArrayDeque<>(); // guarded by lock
    private int warming; // guarded by lock
    private IOException failure; // the last set-up that failed; guarded by lock
    private boolean closed; // guarded by lock

    private SandboxPool(SandboxPolicy policy, int size) {
        this.policy = policy;
        this.size = size;
        int pool = POOLS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        int n = Math.min(size, MAX_WARMING_THREADS);
        this.warmers = new ThreadPoolExecutor(n, n, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(null, r, "stockade-pool-" + pool + "-"
                            + threads.incrementAndGet(), 0, false);
                    t.setDaemon(true);
                    return t;
                });
        warmers.allowCoreThreadTimeOut(true); // an idle pool holds no thread
    }

    /**
     * A pool of {@code size} warm sandboxes for {@code policy}; setting them up starts at once,
     * in the background.
     *
     * @param policy the policy every sandbox of the pool has
     * @param size how many to keep ready, 1 to {@link #MAX_SIZE}
     * @return the pool, warming
     * @throws IllegalArgumentException when {@code size} is out of range
     */
    public static SandboxPool create(SandboxPolicy policy, int size) {
        Objects.requireNonNull(policy, "policy");
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("a sandbox pool holds 1 to " + MAX_SIZE
                    + " sandboxes, not " + size);
        }
        SandboxPool pool = new SandboxPool(policy, size);
        synchronized (pool.lock) {
            pool.refill();
        }
        return pool;
    }

    /**
     * The policy of every sandbox of this pool.
     *
     * @return the policy
     */
    public SandboxPolicy policy() {
        return policy;
    }

    /**
     * How many sandboxes the pool keeps ready.
     *
     * @return the size it was created with
     */
    public int size() {
        return size;
    }

    /**
     * How many warm sandboxes are ready now.
     *
     * @return the count, 0 after {@link #close()}
     */
    public int ready() {
        synchronized (lock) {
            return idle.size();
        }
    }

    /**
     * Waits until at least {@code n} warm sandboxes are ready: for callers that want to pay
     * the set-up up front, and for tests and benchmarks.
     *
     * @param n how many, 1 to {@link #size()}
     * @param timeout how long to wait at most
     * @return {@code true} once {@code n} are ready, {@code false} when the timeout passed or
     *     the pool was closed first
     * @throws SandboxSetupException (or another {@code IOException}) when setting a sandbox up
     *     failed while waiting: the error of that attempt
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitReady(int n, Duration timeout) throws IOException, InterruptedException {
        if (n < 1 || n > size) {
            throw new IllegalArgumentException("await 1 to " + size + " sandboxes, not " + n);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            failure = null;
            refill();
            while (!closed && idle.size() < n) {
                if (failure != null) {
                    throw failure;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return !closed;
        }
    }

    /**
     * A builder for {@code command} whose {@code start()} uses this pool (see the class
     * comment); its policy is this pool's.
     *
     * @param command the program and its arguments
     * @return the builder
     */
    public SandboxBuilder command(String... command) {
        return command(Arrays.asList(command));
    }

    /**
     * As {@link #command(String...)}, with a copy of {@code command}.
     *
     * @param command the program and its arguments
     * @return the builder
     */
    public SandboxBuilder command(List<String> command) {
        return new SandboxBuilder(command, this).policy(policy);
    }

    /**
     * Kills and reaps every warm sandbox not yet used, those being set up included, before it
     * returns. Processes already started are the caller's and go on; later starts through this
     * pool's builders spawn cold. Idempotent.
     */
    @Override
    public void close() {
        List<WarmSandbox> unused;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            unused = new ArrayList<>(idle);
            idle.clear();
            lock.notifyAll();
        }
        warmers.shutdown();
        for (WarmSandbox w : unused) {
            w.discard();
        }
        // A set-up in flight ends within its own deadline, then discards what it made.
        long wait = policy.setupTimeout().toMillis() + TimeUnit.SECONDS.toMillis(10);
        boolean interrupted = false;
        for (;;) {
            try {
                warmers.awaitTermination(wait, TimeUnit.MILLISECONDS);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts {@code argv} in a warm sandbox, or returns {@code null} for the caller to spawn a
     * cold one: none is ready now, a stream is a terminal, the workspace is not as the ready
     * ones were set up for (their protected paths would not be what a cold start protects),
     * the one taken turned out to be gone before it got the command, or its pid 1 found a
     * protected path's mount moved or removed on the host before the command's fork. Called
     * by {@link SandboxBuilder#start()} only.
     */
    SandboxedProcess start(List<String> argv, Map<String, String> environment, Path cwd,
            Redirect[] stdio, boolean measure, long startNanos, LineCallbacks callbacks)
            throws IOException {
        // A warm sandbox has no pty: the helper refuses a terminal, so such a start is cold.
        for (int stream = 0; stream < 3; stream++) {
            Redirect r = stdio[stream];
            if (r != null && r.type() == Redirect.Type.INHERIT
                    && NativeBridge.isTerminal(stream)) {
                return null;
            }
        }
        // Checked before a sandbox is taken: a command past a bound wastes none.
        // The environment, like argv and cwd, comes with the COMMAND frame: a builder's own
        // additions (SandboxBuilder.environment()) start warm as well.
        SandboxSpec.CommandSpec command = SpecResolver.command(argv, environment, cwd,
                policy.egressRules() != null);
        WorkspaceFingerprint workspace;
        try {
            workspace = SpecResolver.workspace(policy);
        } catch (SpecException e) {
            return null; // the cold start fails with it, as any start now would
        }
        WarmSandbox warm = take(workspace);
        if (warm == null) {
            return null;
        }
        ProgressPage.Measured measured = measure
                ? new ProgressPage.Measured(startNanos, System.nanoTime() - startNanos) : null;
        SandboxedProcess started = null;
        try {
            started = warm.start(command, stdio, measured, callbacks);
            return started;
        } finally {
            refillAfter(started);
        }
    }

    /**
     * Sets the slot a start took up again once its command ended or ran for
     * {@link #REFILL_DELAY}, whichever comes first (at once when it did not start): a set-up
     * running beside a short command would take the cores (2 here) that the command's own hops
     * between the JVM, the monitor, pid 1 and the command wait for, while a long step still
     * finds its successor ready when it ends.
     */
    private void refillAfter(SandboxedProcess started) {
        if (started == null) {
            refillNow();
            return;
        }
        started.onExit().thenRun(this::refillNow);
        CompletableFuture.runAsync(this::refillNow, CompletableFuture.delayedExecutor(
                REFILL_DELAY.toNanos(), TimeUnit.NANOSECONDS));
    }

    private void refillNow() {
        synchronized (lock) {
            refill();
        }
    }

    /**
     * A ready sandbox set up for {@code workspace}, or {@code null}; those found gone, or set
     * up for the workspace as it was before, are ended on a warming thread. The pool refills
     * now when none was taken, else after the start ({@link #refillAfter}).
     */
    private WarmSandbox take(WorkspaceFingerprint workspace) {
        List<WarmSandbox> gone = new ArrayList<>();
        WarmSandbox taken = null;
        synchronized (lock) {
            while (taken == null && !idle.isEmpty()) {
                WarmSandbox w = idle.poll();
                if (w.idle() && w.setUpFor().equals(workspace)) {
                    taken = w;
                } else {
                    gone.add(w);
                }
            }
            failure = null; // a start is when a failed set-up is tried again
        }
        // Ended before the refill's set-ups begin: one still alive beside a new sandbox keeps
        // the lock a placeholder is removed under (docs/protocol.md), and the placeholder stays.
        for (WarmSandbox w : gone) {
            try {
                warmers.execute(w::discard);
            } catch (RejectedExecutionException e) {
                w.discard(); // closed meanwhile
            }
        }
        if (taken == null) {
            refillNow();
        }
        return taken;
    }

    /** Sets up as many as are missing, unless closed or the last set-up failed. */
    private void refill() {
        while (!closed && failure == null && idle.size() + warming < size) {
            warming++;
            warmers.execute(this::warmOne);
        }
    }

    private void warmOne() {
        WarmSandbox made = null;
        IOException failed = null;
        try {
            made = prepare();
        } catch (IOException e) {
            failed = e;
        } catch (RuntimeException e) {
            failed = new IOException("setting a warm sandbox up: " + e, e);
        }
        boolean keep;
        synchronized (lock) {
            warming--;
            keep = made != null && !closed;
            if (keep) {
                idle.add(made);
            } else if (failed != null) {
                failure = failed;
            }
            lock.notifyAll();
        }
        if (made != null && !keep) {
            made.discard();
        }
    }

    /** One warm sandbox of this pool's policy, as {@code SandboxBuilder.start()} resolves it. */
    private WarmSandbox prepare() throws IOException {
        FilterPrograms filters = SandboxFilters.of(policy);
        EgressSession egress = policy.egressRules() == null ? null
                : EgressSession.open(policy.egressRules());
        try {
            SpecResolver.WarmSpec warm = SpecResolver.resolveWarm(policy, filters,
                    CgroupAvailability::unusableReason,
                    egress == null ? null : egress.socketPath(),
                    egress == null ? null : egress.token());
            SandboxSpec spec = warm.spec();
            return WarmSandbox.prepare(SpecEncoder.encodeWarm(spec), spec.mounts(), policy,
                    spec.notes(), egress, warm.workspace());
        } catch (IOException | RuntimeException | Error e) {
            if (egress != null) {
                egress.finish();
            }
            throw e;
        }
    }
}
