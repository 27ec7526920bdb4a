package dev.stockade;

import dev.stockade.internal.ControlChannel;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.DescriptorSet;
import dev.stockade.internal.Errno;
import dev.stockade.internal.HelperZygote;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.ProgressPage;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.Readiness;
import dev.stockade.internal.ReaperThreads;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.WaitStatus;
import dev.stockade.internal.WorkspaceCommit;
import dev.stockade.internal.egress.EgressSession;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;

/**
 * One spawn of a resolved, encoded spec, as {@code ProcessImpl.start} is for
 * {@link ProcessBuilder}: opens the command's stdio, has the {@link HelperZygote} fork a helper
 * with them and the control socket, sends the spec and waits for STARTED or ERROR.
 * {@link SandboxBuilder#start()} has made every decision and check before; this class only
 * spawns, and turns every way the helper can fail to start the command into one
 * {@link SandboxSetupException}. Every descriptor opened here
 * is closed on every path: the child's ends right after the spawn, the parent's ends on failure
 * (or handed to the {@link SandboxedProcess}).
 *
 * <p>Set-up has the policy's deadline ({@link SandboxPolicy#setupTimeout()}), from the spawn
 * to STARTED: the wait for the first event polls the control socket with what is left of it.
 * A step that hangs in the kernel cannot report anything, so the helper and pid 1 store the
 * step they are in in a shared page (a memfd, the helper's fd {@code STK_PROGRESS_FD}); when
 * the deadline passes the helper is killed through its pidfd (pid 1 follows through its
 * parent-death signal), and the page names the step.
 */
final class SandboxLauncher {
    private SandboxLauncher() {}

    // Linux open(2) flags (asm-generic/fcntl.h, the same on x86_64 and aarch64).
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;
    private static final int O_APPEND = 02000;
    private static final int O_NOCTTY = 0400;
    private static final int CREATE_MODE = 0666;
    private static final int SIGKILL = 9;
    private static final int ETIMEDOUT = Errno.number("ETIMEDOUT");

    private static final String[] STREAM_NAMES = {"stdin", "stdout", "stderr"};

    /**
     * One of the command's streams: the descriptor the helper gets as it, and the one this JVM
     * keeps (-1 when the stream is not a pipe).
     */
    record StreamEnds(int child, int parent) {}

    /**
     * The helper: its pid, pidfd, the zygote that forked it (which waits for it) and its control
     * socket, the progress page, and this JVM's stream ends.
     */
    record Spawned(int pid, int pidfd, HelperZygote zygote, int control, int progress,
            int[] parentEnds) {}

    /**
     * @param spec the SPEC frame (SpecEncoder)
     * @param mounts the spec's mounts, in its order (the progress page names one by index)
     * @param environment the command's environment in the spec (NAME=VALUE), for the message
     *     of a command not found
     * @param notes what is applied differently from the policy (SandboxSpec.notes)
     * @param egress the egress proxy's listener, which the process owns once started; the
     *     caller closes it when this throws
     * @param measured what the JVM timed of this start when set-up timings were asked for
     *     ({@link SandboxBuilder#measureSetup}), else null
     * @param callbacks the line consumers of stdout and stderr, each on a pipe
     * @param stdio the redirects of stdin, stdout and stderr; stderr {@code null} when it goes
     *     where stdout goes
     */
    static SandboxedProcess launch(byte[] spec, List<SandboxSpec.MountSpec> mounts,
            List<String> environment, SandboxPolicy policy, List<String> notes, EgressSession egress,
            ProgressPage.Measured measured, LineCallbacks callbacks, Redirect... stdio)
            throws IOException {
        NativeLoader.ensureLoaded();
        DescriptorSet fds = new DescriptorSet();
        // Opened before the helper's overlay takes it as its lower layer: the commit goes into
        // this directory, and refuses should the path name another by then.
        int workspace = policy.workspaceMode() == WorkspaceMode.TRANSACTIONAL
                ? WorkspaceCommit.openWorkspace(policy.workspace().orElseThrow()) : -1;
        if (workspace >= 0) {
            fds.add(workspace);
        }
        long deadline = System.nanoTime() + policy.setupTimeout().toNanos();
        Spawned helper = spawn(stdio, fds, measured != null, deadline);
        int controlFd = helper.control();
        ControlChannel channel = new ControlChannel(fds.release(helper.control()));
        ControlEvent first = null;
        SetupError late = null;
        try {
            try {
                channel.send(spec);
            } catch (IOException e) {
                // The helper is gone or refused the spec; its report (or its exit) follows.
            }
            if (Readiness.awaitReadable(controlFd, deadline)) {
                first = channel.next();
            } else {
                late = timedOut(helper, mounts, policy.setupTimeout());
            }
        } catch (IOException e) {
            channel.close();
            try {
                NativeBridge.sendSignal(helper.pidfd(), SIGKILL);
                helper.zygote().waitForHelper(helper.pidfd());
            } finally {
                fds.closeAll();
            }
            throw new SandboxSetupException(HelperErrors.badFrame(e),
                    SandboxSetupException.EXIT_SETUP);
        }
        if (late != null) {
            abandon(helper, channel, fds);
            throw new SandboxSetupException(late, SandboxSetupException.EXIT_SETUP);
        }
        SetupTimings timings = null;
        if (first instanceof ControlEvent.Started && measured != null) {
            try {
                timings = measured.cold(ProgressPage.read(helper.progress()), System.nanoTime());
            } catch (IOException e) {
                first = null; // a memfd of our own that cannot be read: fail, never guess
                late = HelperErrors.helper("reading the set-up timings: " + e.getMessage());
            }
        }
        DescriptorSet.closeQuietly(fds.release(helper.progress()));
        if (first instanceof ControlEvent.Started started) {
            int[] ends = helper.parentEnds();
            return new SandboxedProcess(helper.pid(), fds.release(helper.pidfd()),
                    helper.zygote(), started,
                    channel, fds.release(ends[0]), fds.release(ends[1]), fds.release(ends[2]),
                    fds.release(workspace), policy, notes, egress, timings, false, callbacks);
        }
        // Set-up failed: closing the socket is also the kill, in case the helper still waits.
        channel.close();
        int status;
        try {
            status = helper.zygote().waitForHelper(helper.pidfd());
        } finally {
            fds.closeAll();
        }
        if (first instanceof ControlEvent.Error error) {
            throw HelperErrors.failed(error, environment);
        }
        if (late != null) {
            throw new SandboxSetupException(late, SandboxSetupException.EXIT_SETUP);
        }
        String what = first == null ? "ended before starting the command"
                : "reported the command's end before its start";
        throw new SandboxSetupException(HelperErrors.helper("the helper ("
                + NativeLoader.helperPath() + ") " + what + ": " + WaitStatus.describe(status)),
                SandboxSetupException.EXIT_SETUP);
    }

    /**
     * The error of a set-up that missed its deadline: the step the progress page names (read
     * before the kill, while the helper still holds it as it was), and the mount it worked on.
     */
    static SetupError timedOut(Spawned helper, List<SandboxSpec.MountSpec> mounts,
            Duration timeout) {
        byte[] page = new byte[8];
        SetupStep step = SetupStep.HELPER;
        String where = "";
        try {
            if (NativeBridge.pread(helper.progress(), page, 0) == page.length) {
                ByteBuffer le = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
                long code = Integer.toUnsignedLong(le.getInt(Protocol.PROGRESS_STEP_OFFSET));
                long mount = Integer.toUnsignedLong(le.getInt(Protocol.PROGRESS_MOUNT_OFFSET));
                step = SetupStep.ofCode(code).orElse(SetupStep.HELPER);
                if (mount > 0 && mount <= mounts.size()) {
                    SandboxSpec.MountSpec m = mounts.get((int) (mount - 1));
                    where = ", at the mount of " + (m.source().isEmpty() ? "" : m.source()
                            + " on ") + m.target();
                }
            }
        } catch (IOException e) {
            where = " (the progress page could not be read: " + e.getMessage() + ")";
        }
        return new SetupError(step, ETIMEDOUT, "set-up did not finish within the set-up"
                + " timeout of " + timeout.toMillis() + " ms" + where
                + "; the helper was killed");
    }

    /**
     * Kills a helper that missed the set-up deadline and leaves its reaping to a reaper thread.
     * The helper may be blocked in the kernel, beyond the reach of a KILL frame: SIGKILL ends a
     * wait for a FUSE server that has not read the request yet, but one that has read it and
     * never answers holds the helper (uninterruptibly) until it answers or its connection is
     * aborted, and {@code start()} must not wait for that. The helper dies the moment the
     * kernel lets go; pid 1, if it exists yet, follows through its parent-death signal.
     */
    static void abandon(Spawned helper, ControlChannel channel, DescriptorSet fds) {
        channel.close();
        int pidfd = fds.release(helper.pidfd());
        fds.closeAll();
        try {
            NativeBridge.sendSignal(pidfd, SIGKILL);
        } catch (IOException e) {
            // pidfd_send_signal fails only for a bad pidfd; the reaper's wait still ends it.
        }
        ReaperThreads.start(() -> {
            try {
                helper.zygote().waitForHelper(pidfd);
            } catch (IOException e) {
                // Only a bad pidfd fails here; nothing is left to reap then.
            } finally {
                DescriptorSet.closeQuietly(pidfd);
            }
        });
    }

    /**
     * Opens the three streams and the control socket and has the zygote fork a helper with them
     * ({@link HelperZygote}). A zygote that has not answered by {@code deadline}
     * ({@link System#nanoTime()}) fails the start at step {@code helper}, ETIMEDOUT. The child's
     * ends are closed once it has its own copies (ours would keep the pipes open after it is
     * gone); on failure every descriptor opened here is closed.
     */
    static Spawned spawn(Redirect[] stdio, DescriptorSet fds, boolean stamp, long deadline)
            throws IOException {
        DescriptorSet childEnds = new DescriptorSet();
        try {
            int[] child = new int[3];
            int[] parent = new int[3];
            for (int stream = 0; stream < 3; stream++) {
                StreamEnds ends = stdio[stream] == null
                        ? new StreamEnds(child[1], -1) // stderr where stdout goes
                        : open(stream, stdio[stream], childEnds, fds);
                child[stream] = ends.child();
                parent[stream] = ends.parent();
            }
            int[] sockets = NativeBridge.socketPair();
            int control = fds.add(sockets[0]);
            int helperControl = childEnds.add(sockets[1]);
            int progress = fds.add(NativeBridge.progressPage());
            if (stamp) {
                ProgressPage.stamp(progress); // the helper's start is step "helper" from here
            }
            HelperZygote.Forked forked = HelperZygote.forkHelper(new int[] {child[0], child[1],
                child[2], helperControl, progress}, deadline);
            return new Spawned(forked.pid(), fds.add(forked.pidfd()), forked.zygote(), control,
                    progress, parent);
        } catch (HelperZygote.Unanswered e) {
            fds.closeAll();
            throw new SandboxSetupException(new SetupError(SetupStep.HELPER, ETIMEDOUT,
                    e.getMessage()), SandboxSetupException.EXIT_SETUP);
        } catch (IOException | RuntimeException | Error e) {
            fds.closeAll();
            throw e;
        } finally {
            childEnds.closeAll();
        }
    }

    /**
     * The ends of stream {@code stream} (0 stdin, 1 stdout, 2 stderr): a pipe, whose read end is
     * the command's for stdin and this JVM's otherwise; the JVM's own stream; or a file.
     */
    static StreamEnds open(int stream, Redirect r, DescriptorSet childEnds,
            DescriptorSet parentEnds) throws IOException {
        switch (r.type()) {
            case PIPE -> {
                int[] p = NativeBridge.pipe();
                boolean commandReads = stream == 0;
                int child = childEnds.add(commandReads ? p[0] : p[1]);
                return new StreamEnds(child, parentEnds.add(commandReads ? p[1] : p[0]));
            }
            case INHERIT -> {
                return new StreamEnds(stream, -1);
            }
            default -> {
                return new StreamEnds(childEnds.add(openFile(r, STREAM_NAMES[stream])), -1);
            }
        }
    }

    private static int openFile(Redirect r, String stream) throws IOException {
        File file = r.file();
        int flags = switch (r.type()) {
            case READ -> O_RDONLY | O_NOCTTY;
            case WRITE -> O_WRONLY | O_NOCTTY | O_CREAT | O_TRUNC;
            case APPEND -> O_WRONLY | O_NOCTTY | O_CREAT | O_APPEND;
            default -> throw new IllegalArgumentException("not a file redirect: " + r);
        };
        try {
            return NativeBridge.open(file.getPath(), flags, CREATE_MODE);
        } catch (NativeBridge.NativeException e) {
            throw new IOException("cannot open " + file + " for the sandbox's " + stream + ": "
                    + Errno.message(e.errno()) + " (errno " + e.errno()
                    + ")", e);
        }
    }
}
