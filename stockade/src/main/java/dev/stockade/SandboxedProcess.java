package dev.stockade;

import dev.stockade.internal.CallerIds;
import dev.stockade.internal.ControlChannel;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.DescriptorSet;
import dev.stockade.internal.HelperZygote;
import dev.stockade.internal.LinePump;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NullStreams;
import dev.stockade.internal.PipeInputStream;
import dev.stockade.internal.PipeOutputStream;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.ReaperThreads;
import dev.stockade.internal.WaitStatus;
import dev.stockade.internal.WorkspaceCommit;
import dev.stockade.internal.egress.EgressSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A running sandboxed command, used like the {@link Process} {@link ProcessBuilder} returns. Its
 * {@link #pid()} is the helper's, a child of this JVM; the command runs inside the sandbox under
 * it. When the command ends, the whole sandbox is gone (the helper is pid 1 of its pid
 * namespace) and every descriptor released before {@link #waitFor()} returns; output not yet
 * read stays readable from memory, as with the JDK's processes. The helper itself exits and is
 * reaped just after the result is complete, on the library's thread (it only frees the
 * sandbox's mount namespace then, which holds no process); {@link #close()} waits for that too.
 *
 * <p>{@link #destroy()} stops the sandbox gracefully (SIGTERM to every process in it, SIGKILL
 * after the policy's kill grace), {@link #destroyForcibly()} at once, and {@link #close()} kills
 * it and waits until everything is released. The sandbox never outlives this JVM: when the JVM
 * dies, its end of the control socket closes and the helper kills the sandbox.
 *
 * <p>{@link #result()} gives the full {@link SandboxResult} (signal, timeout, CPU times, memory).
 * With a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace the changes are
 * committed (or discarded) before the result is complete, or held for {@link #commit()} under
 * {@link CommitOn#MANUAL} until {@link #commit()}, {@link #discard()} or {@link #close()}.
 *
 * <p>What ends the command: {@link #destroy()}, {@link #destroyForcibly()}, {@link #close()},
 * the policy's timeout, and cancelling a future of {@link #onResult()} or {@link #onExit()}
 * while it runs ({@code cancel(true)} or {@code cancel(false)}: a graceful {@link #destroy()};
 * with the JDK's processes it changes nothing). What does not: interrupting a thread blocked in {@link #waitFor()},
 * {@link #waitFor(long, TimeUnit)}, {@link #result()} or {@link #commit()} (it gets an
 * {@link InterruptedException}; the command runs on), a future completing otherwise (a
 * {@link CompletableFuture#orTimeout timeout} of its own: only that future ends), and
 * dropping every reference to this object (the command runs until its end, its timeout or this
 * JVM's exit).
 */
public final class SandboxedProcess extends Process implements AutoCloseable {
    private static final int SIGKILL = 9;
    /** How long close() waits beyond the kill grace before killing the helper itself. */
    private static final Duration CLOSE_MARGIN = Duration.ofSeconds(10);
    /** More distinct syscalls than any architecture has: a helper sending more is broken. */
    private static final int MAX_VIOLATIONS = 4096;

    private final int pid;
    /** The zygote that forked the helper, which waits for it. */
    private final HelperZygote zygote;
    private final int sandboxPid;
    private final int commandPid;
    private final ProcessHandle handle;
    private final ControlChannel channel;
    private final SandboxPolicy policy;
    private final List<String> notes;
    /** The egress proxy's listener of a policy with an allow list, else null. */
    private final EgressSession egress;
    /** What {@link SandboxBuilder#measureSetup} asked for, else null. */
    private final SetupTimings setupTimings;
    private final boolean warm;
    private final PipeOutputStream stdinPipe;
    private final PipeInputStream stdoutPipe;
    private final PipeInputStream stderrPipe;
    /** Reads the streams that have a line consumer ({@link SandboxBuilder#onOutputLine}). */
    private final LinePump lines;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final CompletableFuture<SandboxResult> result = new CompletableFuture<>();
    private final CompletableFuture<Process> exit = new CompletableFuture<>();
    /** Completed once the helper is reaped (after the result, when it reported EXITED). */
    private final CompletableFuture<Void> helperReaped = new CompletableFuture<>();

    private final Object pidfdLock = new Object();
    private int pidfd; // guarded by pidfdLock; -1 once closed

    /** A transactional workspace's changes until committed or discarded (CommitOn.MANUAL). */
    private final Object upperLock = new Object();
    private int upperFd = -1; // guarded by upperLock
    /** The workspace directory the step saw (opened at the start), committed into. */
    private int workspaceFd; // guarded by upperLock; -1 once the changes are settled
    private boolean discarded; // guarded by upperLock
    private CommitResult manualCommit; // guarded by upperLock

    /**
     * Takes ownership of every descriptor passed (-1 for a stream that is not a pipe, and for
     * the workspace directory unless it is transactional).
     */
    SandboxedProcess(int pid, int pidfd, HelperZygote zygote, ControlEvent.Started started,
            ControlChannel channel, int stdinFd, int stdoutFd, int stderrFd, int workspaceFd,
            SandboxPolicy policy,
            List<String> notes, EgressSession egress, SetupTimings setupTimings, boolean warm,
            LineCallbacks callbacks) throws IOException {
        this.pid = pid;
        this.zygote = zygote;
        this.warm = warm;
        this.setupTimings = setupTimings;
        this.workspaceFd = workspaceFd;
        this.pidfd = pidfd;
        this.sandboxPid = started.sandboxPid();
        this.commandPid = started.commandPid();
        // Taken now, while the helper cannot have been reaped, so it names this very process.
        this.handle = ProcessHandle.of(pid).orElse(null);
        this.channel = channel;
        this.policy = policy;
        this.notes = List.copyOf(notes);
        this.egress = egress;
        this.stdinPipe = stdinFd < 0 ? null : new PipeOutputStream(stdinFd);
        // A stream with a line consumer is the pump's alone: its InputStream is empty.
        boolean pumpOut = callbacks.output() != null && stdoutFd >= 0;
        boolean pumpErr = callbacks.error() != null && stderrFd >= 0;
        this.stdoutPipe = stdoutFd < 0 || pumpOut ? null : new PipeInputStream(stdoutFd);
        this.stderrPipe = stderrFd < 0 || pumpErr ? null : new PipeInputStream(stderrFd);
        this.stdin = stdinPipe != null ? stdinPipe : NullStreams.output();
        this.stdout = stdoutPipe != null ? stdoutPipe : NullStreams.input();
        this.stderr = stderrPipe != null ? stderrPipe : NullStreams.input();
        LinePump pump = null;
        try {
            // Before the reaper: it waits for the pump, which must exist by then.
            if (pumpOut || pumpErr) {
                pump = LinePump.start(pumpOut ? stdoutFd : -1, callbacks.output(),
                        pumpErr ? stderrFd : -1, callbacks.error(), SandboxBuilder.MAX_LINE_BYTES);
            }
            this.lines = pump;
            ReaperThreads.start(this::reap);
        } catch (IOException | RuntimeException | Error e) {
            // No thread to watch it (the JVM is out of threads): end the sandbox now rather
            // than leave it running unwatched. Closing the socket is the helper's kill signal.
            channel.close();
            try {
                zygote.waitForHelper(pidfd);
            } catch (IOException waitFailure) {
                e.addSuppressed(waitFailure);
            }
            DescriptorSet.closeQuietly(pidfd);
            if (workspaceFd >= 0) {
                DescriptorSet.closeQuietly(workspaceFd);
            }
            closeQuietly(stdin);
            closeQuietly(stdout);
            closeQuietly(stderr);
            if (pump != null) {
                pump.finish(); // it closes its pipes; the sandbox is gone with the socket
            }
            throw e;
        }
    }

    /** The command's stdin when it is a pipe (unbuffered); otherwise a stream that fails. */
    @Override
    public OutputStream getOutputStream() {
        return stdin;
    }

    /** The command's stdout when it is a pipe; otherwise an empty stream. */
    @Override
    public InputStream getInputStream() {
        return stdout;
    }

    /** The command's stderr when it is a pipe; otherwise an empty stream. */
    @Override
    public InputStream getErrorStream() {
        return stderr;
    }

    @Override
    public int waitFor() throws InterruptedException {
        return result().exitCode();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            result.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Waits for the sandbox to end and returns how it ended.
     *
     * @return how the command ended and what it used, once the sandbox is gone and its
     *     descriptors released
     * @throws InterruptedException when the waiting thread is interrupted (the sandbox runs on)
     * @throws IllegalStateException when the library's thread watching the helper failed; the
     *     cause is its exception
     */
    public SandboxResult result() throws InterruptedException {
        try {
            return result.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** {@return the result if the sandbox has ended; empty while it runs} Does not wait. */
    public Optional<SandboxResult> resultNow() {
        return Optional.ofNullable(result.getNow(null));
    }

    /**
     * {@return a future that completes with the result when the sandbox has ended and
     * everything is released} Each call returns a new future. Cancelling it while the command
     * runs ends the command ({@link #destroy()}); completing it otherwise does not touch the
     * sandbox.
     */
    public CompletableFuture<SandboxResult> onResult() {
        return destroyOnCancel(result.copy());
    }

    /** The exit code; 128+N when the command was killed by signal N. */
    @Override
    public int exitValue() {
        SandboxResult r = result.getNow(null);
        if (r == null) {
            throw new IllegalThreadStateException("the sandboxed process has not exited");
        }
        return r.exitCode();
    }

    @Override
    public boolean isAlive() {
        return !result.isDone();
    }

    /**
     * Completes with this process when the sandbox has ended, as {@link #onResult()} does.
     * Cancelling it while the command runs ends the command ({@link #destroy()}).
     *
     * @return a new future each call; cancelling one cancels only that one
     */
    @Override
    public CompletableFuture<Process> onExit() {
        return destroyOnCancel(exit.copy());
    }

    /**
     * {@code copy}, which ends the command when it is cancelled before the end: a copy's
     * cancellation does not reach the future it copies, so it is watched on the copy itself.
     */
    private <T> CompletableFuture<T> destroyOnCancel(CompletableFuture<T> copy) {
        copy.whenComplete((value, failure) -> {
            if (failure instanceof CancellationException && !result.isDone()) {
                destroy();
            }
        });
        return copy;
    }

    /**
     * Whether the command ran in a warm sandbox: one a {@link SandboxPool} had set up before
     * {@code start()} was called.
     *
     * @return {@code true} for a warm start, {@code false} for a cold one
     */
    public boolean warm() {
        return warm;
    }

    /** The helper's pid (a child of this JVM). */
    @Override
    public long pid() {
        return pid;
    }

    /** {@return the pid of the sandbox's pid 1, as the host (this JVM's pid namespace) sees it} */
    public int sandboxPid() {
        return sandboxPid;
    }

    /** {@return the command's pid inside the sandbox's pid namespace} */
    public int commandPid() {
        return commandPid;
    }

    /** {@return the policy the sandbox runs under} */
    public SandboxPolicy policy() {
        return policy;
    }

    /** The helper's handle; the sandboxed processes are its descendants. */
    @Override
    public ProcessHandle toHandle() {
        if (handle == null) {
            throw new UnsupportedOperationException("no process handle for pid " + pid);
        }
        return handle;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    /**
     * Stops the sandbox gracefully: SIGTERM to every process in it, SIGKILL after the policy's
     * kill grace. Returns at once; the streams stay readable until the end.
     */
    @Override
    public void destroy() {
        channel.sendKill(Protocol.KILL_GRACEFUL);
    }

    /** Kills every process in the sandbox at once (SIGKILL). Returns at once. */
    @Override
    public SandboxedProcess destroyForcibly() {
        channel.sendKill(Protocol.KILL_NOW);
        return this;
    }

    /**
     * Applies a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's changes to
     * the workspace, under {@link CommitOn#MANUAL}: waits for the sandbox to end, then copies
     * (see {@link CommitResult}); whatever the command's exit status. Once applied, the same
     * result is returned again.
     *
     * @return what the commit applied, what it left out and why it stopped, if it did
     * @throws IllegalStateException when the policy has no transactional workspace or commits
     *     on {@link CommitOn#SUCCESS} (see {@link SandboxResult#commit()}), or the changes were
     *     {@linkplain #discard() discarded} or never passed (the sandbox did not start)
     * @throws InterruptedException when interrupted while waiting for the end
     */
    public CommitResult commit() throws InterruptedException {
        if (policy.workspaceMode() != WorkspaceMode.TRANSACTIONAL) {
            throw new IllegalStateException("commit(): the policy's workspace is not"
                    + " transactional");
        }
        if (policy.commitOn() != CommitOn.MANUAL) {
            throw new IllegalStateException("commit(): the policy commits on "
                    + policy.commitOn() + ", as the command ends; see result().commit()");
        }
        result();
        synchronized (upperLock) {
            if (manualCommit != null) {
                return manualCommit;
            }
            if (upperFd < 0) {
                throw new IllegalStateException(discarded
                        ? "commit(): the changes were discarded"
                        : "commit(): the sandbox passed no changes (it did not start)");
            }
            manualCommit = applyChanges(upperFd);
            releaseChanges();
            return manualCommit;
        }
    }

    /**
     * Drops a transactional workspace's changes not committed (the memory their tmpfs holds
     * is freed); the workspace stays as it was. Idempotent; {@link #close()} does it too.
     */
    public void discard() {
        synchronized (upperLock) {
            if (upperFd >= 0) {
                discarded = true;
            }
            releaseChanges();
        }
    }

    /** Closes the upper layer (freeing its tmpfs) and the workspace directory. */
    private void releaseChanges() {
        synchronized (upperLock) {
            if (upperFd >= 0) {
                DescriptorSet.closeQuietly(upperFd);
                upperFd = -1;
            }
            if (workspaceFd >= 0) {
                DescriptorSet.closeQuietly(workspaceFd);
                workspaceFd = -1;
            }
        }
    }

    /**
     * The commit never throws: whatever stops it, the result says so (and what was applied up
     * to there, which WorkspaceCommit counts); a reaper thread must still complete the result.
     */
    private CommitResult applyChanges(int fd) {
        int workspace;
        synchronized (upperLock) {
            workspace = workspaceFd;
        }
        try {
            return WorkspaceCommit.apply(fd, workspace, policy.workspace().orElseThrow(),
                    !CallerIds.isRoot(), policy.workspaceQuotaBytes(), policy.protectedPaths());
        } catch (RuntimeException | Error e) {
            return new CommitResult(0, 0, 0, 0, 0, List.of(), Optional.of("the commit failed: "
                    + e + "; what it applied before is not known"), List.of());
        }
    }

    /**
     * The workspace once the sandbox has ended: under {@link CommitOn#SUCCESS} committed when
     * the command exited 0 without filling its quota, and discarded otherwise; under
     * {@link CommitOn#MANUAL} kept for {@link #commit()}. Before waiters wake, so that
     * waitFor() returns with the workspace in its final state; never throws (the result must
     * complete).
     */
    private SandboxResult settleWorkspace(SandboxResult r, int upper, boolean reported,
            boolean upperFull) {
        if (policy.workspaceMode() != WorkspaceMode.TRANSACTIONAL) {
            if (upper >= 0) {
                DescriptorSet.closeQuietly(upper);
            }
            return r;
        }
        // A step that filled its quota and still exited 0 ignored a failed write: what it left
        // is likely cut short, so it is not committed on its word.
        // (From the helper's flag, not limitHit(): a limit that killed one of its processes
        // would name that limit instead.)
        boolean succeeded = reported && r.exitCode() == 0 && !r.timedOut() && !r.killed()
                && r.setupError().isEmpty() && !upperFull;
        if (policy.commitOn() == CommitOn.MANUAL) {
            synchronized (upperLock) {
                upperFd = upper;
            }
            return r;
        }
        synchronized (upperLock) {
            upperFd = upper;
        }
        try {
            if (!succeeded) {
                return r;
            }
            if (upper < 0) {
                return r.withCommit(new CommitResult(0, 0, 0, 0, 0, List.of(),
                        Optional.of("the helper passed no upper layer: nothing was applied"),
                        List.of()));
            }
            return r.withCommit(applyChanges(upper));
        } finally {
            releaseChanges();
        }
    }

    /**
     * Kills the sandbox (if it still runs), waits until it has ended and the helper is reaped,
     * and closes the streams. Should the helper not react within the kill grace plus a margin,
     * it is killed itself, which ends the sandbox too (its pid 1 goes with the socket).
     */
    @Override
    public void close() {
        boolean interrupted = false;
        destroyForcibly();
        long deadline = System.nanoTime() + policy.killGrace().plus(CLOSE_MARGIN).toNanos();
        boolean killedHelper = false;
        while (!result.isDone()) {
            long left = deadline - System.nanoTime();
            if (left <= 0 && !killedHelper) {
                signalHelper(SIGKILL);
                killedHelper = true;
            }
            try {
                result.get(killedHelper ? Long.MAX_VALUE : left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // closing must finish; the flag is restored below
            } catch (TimeoutException | ExecutionException e) {
                // Loop: the deadline or the helper kill comes next.
            }
        }
        // Moments after the result; a helper that does not end by then is killed.
        try {
            helperReaped.get(CLOSE_MARGIN.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException | InterruptedException e) {
            interrupted |= e instanceof InterruptedException;
            signalHelper(SIGKILL);
            helperReaped.join();
        }
        if (lines != null) {
            lines.finish();
            lines.done().join(); // the line consumers' last calls
        }
        closeQuietly(stdin);
        closeQuietly(stdout);
        closeQuietly(stderr);
        discard();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        SandboxResult r = result.getNow(null);
        return "SandboxedProcess[pid=" + pid + ", sandboxPid=" + sandboxPid + ", "
                + (r == null ? "alive" : "exitValue=" + r.exitCode()) + "]";
    }

    private void signalHelper(int signal) {
        synchronized (pidfdLock) {
            if (pidfd >= 0) {
                try {
                    NativeBridge.sendSignal(pidfd, signal);
                } catch (IOException e) {
                    // The helper is gone already; the reaper sees it.
                }
            }
        }
    }

    /** Runs on a reaper thread; whatever happens, waiters are released. */
    private void reap() {
        try {
            reapNow();
        } catch (Throwable t) {
            result.completeExceptionally(t);
            exit.completeExceptionally(t);
            throw t;
        } finally {
            helperReaped.complete(null);
        }
    }

    /** Events until the end, then reap the helper, release every descriptor, complete. */
    private void reapNow() {
        ControlEvent.Exited exited = null;
        SetupError error = null;
        // By pid 1's count (a syscall, and among its calls those the same rules tell apart), in
        // the order of first occurrence; a later frame (the final count) replaces the earlier
        // one in place.
        Map<List<Long>, ControlEvent.Violation> violations = new LinkedHashMap<>();
        try {
            for (ControlEvent event = channel.next(); event != null; event = channel.next()) {
                if (event instanceof ControlEvent.Exited e) {
                    exited = e;
                    break;
                }
                if (event instanceof ControlEvent.Violation v) {
                    List<Long> count = countKey(v);
                    if (violations.size() >= MAX_VIOLATIONS && !violations.containsKey(count)) {
                        error = HelperErrors.protocol("more than " + MAX_VIOLATIONS
                                + " distinct system calls reported by the helper");
                        break;
                    }
                    violations.put(count, v);
                    continue;
                }
                if (event instanceof ControlEvent.Error e) {
                    error = HelperErrors.reported(e);
                } else {
                    error = HelperErrors.protocol(event instanceof ControlEvent.Ready
                            ? "a READY after STARTED from the helper"
                            : "a second STARTED from the helper");
                    break;
                }
            }
        } catch (IOException e) {
            error = HelperErrors.badFrame(e);
        } catch (RuntimeException e) {
            error = HelperErrors.protocol("cannot read the helper's events: " + e);
        }
        // Taken before the close, which would drop it: the transactional workspace's changes.
        int upper = channel.takePassedFd();
        // The helper kills whatever still runs when the socket closes: after a protocol error
        // this is what ends the sandbox; after EXITED nothing is left to kill.
        channel.close();
        if (exited != null && (exited.flags() & Protocol.EXIT_HELPER_CRASHED) != 0) {
            zygote.taint(); // before anyone hears of the end and spawns again
        }
        // A well-formed EXITED comes once the sandbox is gone (pid 1 reaped, its cgroups read
        // and removed, its output drained): the report is final, and what the helper does
        // after it (free the sandbox's mount namespace, exit) is waited for after the waiters
        // are released, not before. Without one the helper's status is part of the result.
        boolean reapAfter = exited != null && error == null;
        int status = 0;
        if (!reapAfter) {
            try {
                status = reapHelper();
            } catch (IOException | RuntimeException e) {
                status = -1;
                if (error == null && exited == null) {
                    error = HelperErrors.helper("cannot wait for the helper: " + e);
                }
            }
        }
        SandboxResult r;
        if (exited != null) {
            r = SandboxResult.fromWaitStatus(exited.waitStatus(), exited.timedOut(),
                    exited.killed(), Duration.ofNanos(exited.wallTimeNs()),
                    Duration.of(exited.userCpuUs(), ChronoUnit.MICROS),
                    Duration.of(exited.sysCpuUs(), ChronoUnit.MICROS), exited.maxRssKb(), error)
                    .withUsage(LimitClassifier.usage(exited, policy.limits(), notes));
        } else {
            if (error == null) {
                error = HelperErrors.helper("the helper ended without reporting the"
                        + " command's end (" + (status == -1 ? "status unknown"
                                : WaitStatus.describe(status)) + ")");
            }
            r = status == -1
                    ? new SandboxResult(SandboxSetupException.EXIT_SETUP, 0, false, false, false,
                            Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, error)
                    : SandboxResult.fromWaitStatus(status, false, false, Duration.ZERO,
                            Duration.ZERO, Duration.ZERO, 0, error);
        }
        if (!violations.isEmpty()) {
            r = r.withViolations(toViolations(violations));
        }
        if (setupTimings != null) {
            r = r.withSetupTimings(setupTimings);
        }
        if (egress != null) {
            // The sandbox has ended: nothing inside can open another connection. What is still
            // open is closed now, and counted.
            r = r.withConnections(egress.finish());
        }
        r = settleWorkspace(r, upper, exited != null && error == null,
                exited != null && (exited.flags() & Protocol.EXIT_DISK_LIMIT) != 0);
        // stdin is closed before waiters wake (a write after waitFor() fails as "Stream
        // closed"); stdout and stderr are drained after: a leftover process that still holds
        // one (possible only without a pid namespace) keeps a reader blocked in read(), and
        // draining waits for that reader — it must not hold up waitFor().
        if (stdinPipe != null) {
            stdinPipe.processExited();
        }
        if (lines != null) {
            // With a pid namespace no writer is left but the helper's idle copies: what the
            // pipes hold is all, and every line is delivered before waiters wake. Without one
            // a leftover process may hold a pipe (and the pump's consumer may wait on it):
            // what is there now is delivered after, as the streams drain.
            lines.finish();
            if (policy.namespaces().contains(Namespace.PID)) {
                lines.done().join();
            }
        }
        result.complete(r);
        exit.complete(this);
        if (stdoutPipe != null) {
            stdoutPipe.processExited();
        }
        if (stderrPipe != null) {
            stderrPipe.processExited();
        }
        if (reapAfter) {
            try {
                reapHelper();
            } catch (IOException | RuntimeException e) {
                // Only a bad pidfd fails: nothing is left to reap then.
            }
        }
    }

    /** Waits for the helper's exit and closes its pidfd; the helper's wait status. */
    private int reapHelper() throws IOException {
        try {
            return zygote.waitForHelper(pidfd);
        } finally {
            synchronized (pidfdLock) {
                DescriptorSet.closeQuietly(pidfd);
                pidfd = -1;
            }
        }
    }

    /** Which of pid 1's counts a frame belongs to: the syscall and its args & the masks. */
    private List<Long> countKey(ControlEvent.Violation v) {
        List<Long> key = new ArrayList<>(7);
        key.add((long) v.syscall());
        long[] masks;
        try {
            masks = policy.seccomp().reportMasks(v.syscall());
        } catch (IOException | RuntimeException e) {
            masks = new long[6]; // compiled before the spawn: cannot fail
        }
        long[] args = v.argumentArray();
        for (int i = 0; i < 6; i++) {
            key.add(i < args.length ? args[i] & masks[i] : 0);
        }
        return key;
    }

    /**
     * One Violation per report rule that caught calls, in the order of first occurrence: pid 1
     * counts finer (per distinct tested argument bits), so counts of one rule are added up.
     */
    private List<Violation> toViolations(Map<List<Long>, ControlEvent.Violation> events) {
        Map<List<Object>, Violation> byRule = new LinkedHashMap<>();
        for (ControlEvent.Violation v : events.values()) {
            Violation one;
            List<Object> rule;
            try {
                one = policy.seccomp().violation(v.syscall(), v.errno(), v.count(), v.pid(),
                        v.argumentArray());
                rule = List.of(v.syscall(), String.valueOf(policy.seccomp()
                        .reportRule(v.syscall(), v.argumentArray())));
            } catch (IOException | RuntimeException e) {
                // The profile compiled before the spawn, so this cannot fail; keep the numbers.
                one = new Violation("syscall_" + v.syscall(), v.syscall(), v.errno(),
                        v.count(), v.pid(), v.arguments(), null,
                        policy.seccomp().name().orElse(null));
                rule = List.of(v.syscall(), "?");
            }
            byRule.merge(rule, one, (first, later) -> new Violation(first.syscall(),
                    first.number(), first.errno(), first.count() + later.count(), first.pid(),
                    first.arguments(), first.reason(), first.profile()));
        }
        return new ArrayList<>(byRule.values());
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // Nothing to do: close(2) releases the descriptor.
        }
    }
}
