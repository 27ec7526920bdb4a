package dev.stockade;

import dev.stockade.internal.ControlChannel;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.DescriptorSet;
import dev.stockade.internal.Errno;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.WaitStatus;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.util.List;

/**
 * One spawn of a resolved, encoded spec, as {@code ProcessImpl.start} is for
 * {@link ProcessBuilder}: opens the command's stdio, spawns the helper with them and the control
 * socket, sends the spec and waits for STARTED or ERROR. {@link SandboxBuilder#start()} has made
 * every decision and check before; this class only spawns, and turns every way the helper can
 * fail to start the command into one {@link SandboxSetupException}. Every descriptor opened here
 * is closed on every path: the child's ends right after the spawn, the parent's ends on failure
 * (or handed to the {@link SandboxedProcess}).
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

    private static final String[] STREAM_NAMES = {"stdin", "stdout", "stderr"};

    /** The helper's argv: argv[0] only; it reads everything else from the control socket. */
    private static final String[] HELPER_ARGV = {"stockade-helper"};

    /**
     * One of the command's streams: the descriptor the helper gets as it, and the one this JVM
     * keeps (-1 when the stream is not a pipe).
     */
    private record StreamEnds(int child, int parent) {}

    /** The spawned helper: its pid, pidfd and control socket, and this JVM's stream ends. */
    private record Spawned(int pid, int pidfd, int control, int[] parentEnds) {}

    /**
     * @param spec the SPEC frame (SpecEncoder)
     * @param notes what is applied differently from the policy (SandboxSpec.notes)
     * @param stdio the redirects of stdin, stdout and stderr; stderr {@code null} when it goes
     *     where stdout goes
     */
    static SandboxedProcess launch(byte[] spec, SandboxPolicy policy, List<String> notes,
            Redirect... stdio)
            throws IOException {
        NativeLoader.ensureLoaded();
        DescriptorSet fds = new DescriptorSet();
        Spawned helper = spawn(stdio, fds);
        ControlChannel channel = new ControlChannel(fds.release(helper.control()));
        ControlEvent first;
        try {
            try {
                channel.send(spec);
            } catch (IOException e) {
                // The helper is gone or refused the spec; its report (or its exit) follows.
            }
            first = channel.next();
        } catch (IOException e) {
            channel.close();
            try {
                NativeBridge.sendSignal(helper.pidfd(), SIGKILL);
                NativeBridge.waitFor(helper.pidfd());
            } finally {
                fds.closeAll();
            }
            throw new SandboxSetupException(HelperErrors.badFrame(e),
                    SandboxSetupException.EXIT_SETUP);
        }
        if (first instanceof ControlEvent.Started started) {
            int[] ends = helper.parentEnds();
            return new SandboxedProcess(helper.pid(), fds.release(helper.pidfd()), started,
                    channel, fds.release(ends[0]), fds.release(ends[1]), fds.release(ends[2]),
                    policy, notes);
        }
        // Set-up failed: closing the socket is also the kill, in case the helper still waits.
        channel.close();
        int status;
        try {
            status = NativeBridge.waitFor(helper.pidfd());
        } finally {
            fds.closeAll();
        }
        if (first instanceof ControlEvent.Error error) {
            throw new SandboxSetupException(HelperErrors.reported(error), error.exitCode());
        }
        String what = first == null ? "ended before starting the command"
                : "reported the command's end before its start";
        throw new SandboxSetupException(HelperErrors.helper("the helper ("
                + NativeLoader.helperPath() + ") " + what + ": " + WaitStatus.describe(status)),
                SandboxSetupException.EXIT_SETUP);
    }

    /**
     * Opens the three streams and the control socket and spawns the helper with them. The
     * child's ends are closed once it has its own copies (ours would keep the pipes open after
     * it is gone); on failure every descriptor opened here is closed.
     */
    private static Spawned spawn(Redirect[] stdio, DescriptorSet fds) throws IOException {
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
            int[] spawned = NativeBridge.spawn(NativeLoader.helperExecutable(), HELPER_ARGV,
                    child[0], child[1], child[2], helperControl);
            return new Spawned(spawned[0], fds.add(spawned[1]), control, parent);
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
    private static StreamEnds open(int stream, Redirect r, DescriptorSet childEnds,
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
