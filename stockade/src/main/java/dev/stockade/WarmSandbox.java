package dev.stockade;

import dev.stockade.internal.ControlChannel;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.DescriptorSet;
import dev.stockade.internal.HelperZygote;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.ProgressPage;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.Readiness;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SpecEncoder;
import dev.stockade.internal.WaitStatus;
import dev.stockade.internal.WorkspaceCommit;
import dev.stockade.internal.WorkspaceFingerprint;
import dev.stockade.internal.egress.EgressSession;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.util.List;

/**
 * One warm sandbox ({@code STK_F_WARM}, docs/protocol.md): a helper whose pid 1 has set the
 * whole sandbox up and waits for its one command. {@link #prepare} spawns it and waits for
 * READY; {@link #start} sends the COMMAND frame with the command's stdio and waits for
 * STARTED, as {@link SandboxLauncher#launch} does for a cold spawn, with the same set-up
 * deadline on each wait; {@link #discard} ends one that will not be used. Each is used once.
 * Not thread-safe: its pool hands it to one thread.
 */
final class WarmSandbox {
    /** What the helper's fds 0-2 are while it waits: the command's come with COMMAND. */
    private static final Redirect[] IDLE_STDIO = {
        Redirect.from(new File("/dev/null")), Redirect.DISCARD, Redirect.DISCARD};

    private final SandboxLauncher.Spawned helper;
    private final ControlChannel channel;
    private final DescriptorSet fds;
    private final int workspace;
    private final SandboxPolicy policy;
    private final List<SandboxSpec.MountSpec> mounts;
    private final List<String> notes;
    private final EgressSession egress;
    private final ProgressPage.Snapshot ready;
    private final WorkspaceFingerprint setUpFor;
    /** The files {@code setUpFor} names, held open while this sandbox waits. */
    private final DescriptorSet held;
    private boolean used;
    /** Its helper was reaped or abandoned, its descriptors closed. */
    private boolean ended;

    private WarmSandbox(SandboxLauncher.Spawned helper, ControlChannel channel,
            DescriptorSet fds, int workspace, SandboxPolicy policy,
            List<SandboxSpec.MountSpec> mounts, List<String> notes, EgressSession egress,
            ProgressPage.Snapshot ready, WorkspaceFingerprint setUpFor,
            DescriptorSet held) {
        this.helper = helper;
        this.channel = channel;
        this.fds = fds;
        this.workspace = workspace;
        this.policy = policy;
        this.mounts = mounts;
        this.notes = notes;
        this.egress = egress;
        this.ready = ready;
        this.setUpFor = setUpFor;
        this.held = held;
    }

    /**
     * Spawns a helper with {@code spec} (a warm SPEC frame, {@code SpecEncoder.encodeWarm}) and
     * returns once it reported READY. {@code resolved}: the workspace {@code spec}'s protected
     * paths were resolved from. On failure everything is closed and reaped (the egress session
     * is the caller's to finish) and the error thrown as a cold spawn throws it.
     */
    static WarmSandbox prepare(byte[] spec, List<SandboxSpec.MountSpec> mounts,
            SandboxPolicy policy, List<String> notes, EgressSession egress,
            WorkspaceFingerprint resolved) throws IOException {
        NativeLoader.ensureLoaded();
        DescriptorSet fds = new DescriptorSet();
        int workspace = policy.workspaceMode() == WorkspaceMode.TRANSACTIONAL
                ? fds.add(WorkspaceCommit.openWorkspace(policy.workspace().orElseThrow())) : -1;
        // Stamped always: the READY snapshot is the prewarm part of any later start's timings.
        long deadline = System.nanoTime() + policy.setupTimeout().toNanos();
        SandboxLauncher.Spawned helper = SandboxLauncher.spawn(IDLE_STDIO, fds, true, deadline);
        ControlChannel channel = new ControlChannel(fds.release(helper.control()));
        ControlEvent first = null;
        SetupError failure = null;
        try {
            try {
                channel.send(spec);
            } catch (IOException e) {
                // The helper is gone or refused the spec; its report (or its exit) follows.
            }
            if (Readiness.awaitReadable(helper.control(), deadline)) {
                first = channel.next();
            } else {
                SandboxLauncher.abandon(helper, channel, fds);
                throw new SandboxSetupException(SandboxLauncher.timedOut(helper, mounts,
                        policy.setupTimeout()), SandboxSetupException.EXIT_SETUP);
            }
        } catch (IOException e) {
            if (e instanceof SandboxSetupException) {
                throw e;
            }
            failure = HelperErrors.badFrame(e);
        }
        if (first == ControlEvent.Ready.INSTANCE) {
            try {
                ProgressPage.Snapshot ready = ProgressPage.read(helper.progress());
                DescriptorSet held = new DescriptorSet();
                return new WarmSandbox(helper, channel, fds, workspace, policy, mounts, notes,
                        egress, ready, resolved.hold(held), held);
            } catch (IOException e) {
                failure = HelperErrors.helper("reading the set-up timings: " + e.getMessage());
            }
        }
        int status = end(helper, channel, fds);
        if (failure == null && first instanceof ControlEvent.Error error) {
            throw new SandboxSetupException(HelperErrors.reported(error), error.exitCode());
        }
        if (failure == null) {
            failure = HelperErrors.helper("the helper (" + NativeLoader.helperPath() + ") "
                    + (first == null ? "ended before its sandbox was ready"
                            : "sent " + first + " before READY")
                    + ": " + WaitStatus.describe(status));
        }
        throw new SandboxSetupException(failure, SandboxSetupException.EXIT_SETUP);
    }

    /**
     * The workspace this sandbox's view was made for, as it is with the view set up: a start
     * uses this sandbox only when the workspace is still so.
     */
    WorkspaceFingerprint setUpFor() {
        return setUpFor;
    }

    /**
     * Whether it still waits for its command: nothing has arrived on the control socket (any
     * event now, or its end, means the sandbox is gone or going).
     */
    boolean idle() {
        try {
            // A helper of a tainted zygote shares a layout a crash was seen against.
            return !used && !helper.zygote().tainted()
                    && NativeBridge.poll(helper.control(), NativeBridge.POLLIN, 0) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Runs {@code command} with {@code stdio} (stderr {@code null}: where stdout goes).
     * Returns {@code null}, having sent nothing, when a stream is a terminal (a warm sandbox
     * has no pty; the caller spawns cold) or when the helper is already gone (the COMMAND
     * frame could not be written: the command never reached it); this sandbox is then
     * discarded. Also {@code null}, the sandbox ended, when pid 1 found its view stale before
     * the command's fork (a protected path moved or removed on the host: the command never
     * ran). Otherwise as {@link SandboxLauncher#launch}: the process once STARTED, or the
     * set-up error.
     */
    SandboxedProcess start(SandboxSpec.CommandSpec command, Redirect[] stdio,
            ProgressPage.Measured measured, LineCallbacks callbacks) throws IOException {
        used = true;
        held.closeAll(); // compared by the pool when it took this one
        byte[] frame = SpecEncoder.commandFrame(command);
        DescriptorSet childEnds = new DescriptorSet();
        int[] child = new int[3];
        int[] parent = {-1, -1, -1};
        try {
            for (int stream = 0; stream < 3; stream++) {
                SandboxLauncher.StreamEnds ends = stdio[stream] == null
                        ? new SandboxLauncher.StreamEnds(child[1], -1)
                        : SandboxLauncher.open(stream, stdio[stream], childEnds, fds);
                child[stream] = ends.child();
                parent[stream] = ends.parent();
            }
            for (int fd : child) {
                if (NativeBridge.isTerminal(fd)) {
                    closeParentEnds(parent);
                    discard();
                    return null;
                }
            }
            long deadline = System.nanoTime() + policy.setupTimeout().toNanos();
            try {
                channel.send(frame, child);
            } catch (IOException e) {
                closeParentEnds(parent);
                discard();
                return null;
            }
            childEnds.closeAll(); // the helper has its own copies now
            return awaitStarted(command, parent, deadline, measured, callbacks);
        } catch (IOException | RuntimeException | Error e) {
            closeParentEnds(parent);
            discard();
            throw e;
        } finally {
            childEnds.closeAll();
        }
    }

    private SandboxedProcess awaitStarted(SandboxSpec.CommandSpec command, int[] parent,
            long deadline, ProgressPage.Measured measured, LineCallbacks callbacks)
            throws IOException {
        ControlEvent first;
        try {
            if (!Readiness.awaitReadable(helper.control(), deadline)) {
                SetupError late = SandboxLauncher.timedOut(helper, mounts, policy.setupTimeout());
                closeParentEnds(parent);
                ended = true;
                SandboxLauncher.abandon(helper, channel, fds);
                finishEgress();
                throw new SandboxSetupException(late, SandboxSetupException.EXIT_SETUP);
            }
            first = channel.next();
        } catch (SandboxSetupException e) {
            throw e;
        } catch (IOException e) {
            closeParentEnds(parent);
            discard();
            throw new SandboxSetupException(HelperErrors.badFrame(e),
                    SandboxSetupException.EXIT_SETUP);
        }
        SetupTimings timings = null;
        SetupError failure = null;
        if (first instanceof ControlEvent.Started && measured != null) {
            try {
                timings = measured.warm(ready, ProgressPage.read(helper.progress()),
                        System.nanoTime());
            } catch (IOException e) {
                failure = HelperErrors.helper("reading the set-up timings: " + e.getMessage());
            }
        }
        if (failure == null && first instanceof ControlEvent.Started started) {
            ended = true; // the process owns the helper from here
            DescriptorSet.closeQuietly(fds.release(helper.progress()));
            return new SandboxedProcess(helper.pid(), fds.release(helper.pidfd()),
                    helper.zygote(), started,
                    channel, fds.release(parent[0]), fds.release(parent[1]),
                    fds.release(parent[2]), fds.release(workspace), policy, notes, egress,
                    timings, true, callbacks);
        }
        closeParentEnds(parent);
        ended = true;
        int status = end(helper, channel, fds);
        finishEgress();
        if (failure == null && first instanceof ControlEvent.Error error && isStale(error)) {
            return null; // the command never ran: the caller starts it cold
        }
        if (failure == null && first instanceof ControlEvent.Error error) {
            throw HelperErrors.failed(error, command.environment());
        }
        if (failure == null) {
            failure = HelperErrors.helper("the helper (" + NativeLoader.helperPath() + ") "
                    + (first == null ? "ended before starting the command"
                            : "sent " + first + " instead of STARTED")
                    + ": " + WaitStatus.describe(status));
        }
        throw new SandboxSetupException(failure, SandboxSetupException.EXIT_SETUP);
    }

    /**
     * pid 1 found a protected path's mount gone from its path before it forked the command
     * ({@code STK_WARM_STALE_ERRNO}): the host moved or removed the path while this sandbox
     * waited, in a way the pool's fingerprint of the workspace did not show.
     */
    private static boolean isStale(ControlEvent.Error error) {
        return error.step() == SetupStep.PROTECT && error.errno() == Protocol.WARM_STALE_ERRNO;
    }

    /**
     * Ends a warm sandbox that will not run a command: closing the control socket is the
     * helper's kill; it is reaped before this returns (pid 1 dies with it). Idempotent.
     */
    void discard() {
        used = true;
        held.closeAll();
        if (!ended) {
            ended = true;
            end(helper, channel, fds);
            finishEgress();
        }
    }

    private void finishEgress() {
        if (egress != null) {
            egress.finish();
        }
    }

    /** Closes this JVM's stream ends once; each slot is -1 afterwards. */
    private void closeParentEnds(int[] parent) {
        for (int i = 0; i < parent.length; i++) {
            if (parent[i] >= 0) {
                DescriptorSet.closeQuietly(fds.release(parent[i]));
                parent[i] = -1;
            }
        }
    }

    /** Closes the channel (the kill), reaps the helper, closes every descriptor; its status. */
    private static int end(SandboxLauncher.Spawned helper, ControlChannel channel,
            DescriptorSet fds) {
        channel.close();
        try {
            return helper.zygote().waitForHelper(helper.pidfd());
        } catch (IOException e) {
            return -1;
        } finally {
            fds.closeAll(); // the pidfd and the progress page among them
        }
    }
}
