package dev.stockade;

import dev.stockade.internal.ControlChannel;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.Errno;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SpecEncoder;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One spawn: opens the command's stdio, spawns the helper with them and the control socket,
 * sends the spec and waits for STARTED or ERROR. Every descriptor opened here is closed on every
 * path: the child's ends right after the spawn, the parent's ends on failure (or handed to the
 * {@link SandboxedProcess}).
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

    /** The helper's argv: argv[0] only; it reads everything else from the control socket. */
    private static final String[] HELPER_ARGV = {"stockade-helper"};

    /** Descriptors opened for one spawn, closed together unless handed over. */
    private static final class Fds {
        private final List<Integer> open = new ArrayList<>();

        int add(int fd) {
            open.add(fd);
            return fd;
        }

        void close(int fd) {
            if (open.remove(Integer.valueOf(fd))) {
                closeQuietly(fd);
            }
        }

        /** Stops tracking {@code fd}: its new owner closes it. */
        int release(int fd) {
            open.remove(Integer.valueOf(fd));
            return fd;
        }

        void closeAll() {
            for (int fd : open) {
                closeQuietly(fd);
            }
            open.clear();
        }
    }

    /**
     * @param stderr {@code null} when stderr goes where stdout goes
     */
    static SandboxedProcess launch(List<String> argv, SandboxPolicy policy, Path cwd,
            Redirect stdin, Redirect stdout, Redirect stderr) throws IOException {
        // Everything that can fail without side effects happens before the first descriptor.
        SeccompProfile seccomp = policy.seccomp();
        byte[] bpf = null;
        List<SandboxSpec.ReportSpec> reports = List.of();
        if (seccomp.installsFilter()) {
            boolean notify = seccomp.hasReports() && userNotification();
            bpf = seccomp.program(notify || !seccomp.hasReports());
            if (notify) {
                reports = seccomp.reportSpecs();
            }
        }
        byte[] guard = policy.allowsSetIdFiles() ? null : SetIdGuard.program();
        byte[] spec = SpecEncoder.encode(SpecEncoder.fromPolicy(argv, policy, cwd, bpf,
                reports, guard));
        NativeLoader.ensureLoaded();
        String helper = NativeLoader.helperExecutable();

        Fds fds = new Fds();
        Fds childEnds = new Fds();
        int parentIn = -1;
        int parentOut = -1;
        int parentErr = -1;
        int control = -1;
        int pid;
        int pidfd;
        try {
            int childIn;
            if (stdin.type() == Redirect.Type.PIPE) {
                int[] p = NativeBridge.pipe();
                childIn = childEnds.add(p[0]);
                parentIn = fds.add(p[1]);
            } else {
                childIn = stdin.type() == Redirect.Type.INHERIT ? 0
                        : childEnds.add(openRedirect(stdin, "stdin"));
            }
            int childOut;
            if (stdout.type() == Redirect.Type.PIPE) {
                int[] p = NativeBridge.pipe();
                parentOut = fds.add(p[0]);
                childOut = childEnds.add(p[1]);
            } else {
                childOut = stdout.type() == Redirect.Type.INHERIT ? 1
                        : childEnds.add(openRedirect(stdout, "stdout"));
            }
            int childErr;
            if (stderr == null) {
                childErr = childOut;
            } else if (stderr.type() == Redirect.Type.PIPE) {
                int[] p = NativeBridge.pipe();
                parentErr = fds.add(p[0]);
                childErr = childEnds.add(p[1]);
            } else {
                childErr = stderr.type() == Redirect.Type.INHERIT ? 2
                        : childEnds.add(openRedirect(stderr, "stderr"));
            }
            int[] sockets = NativeBridge.socketPair();
            control = fds.add(sockets[0]);
            int helperControl = childEnds.add(sockets[1]);
            int[] spawned = NativeBridge.spawn(helper, HELPER_ARGV, childIn, childOut, childErr,
                    helperControl);
            pid = spawned[0];
            pidfd = fds.add(spawned[1]);
        } catch (IOException | RuntimeException | Error e) {
            childEnds.closeAll();
            fds.closeAll();
            throw e;
        }
        // The helper has its own copies; ours would keep the pipes open after it is gone.
        childEnds.closeAll();

        ControlChannel channel = new ControlChannel(fds.release(control));
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
                NativeBridge.sendSignal(pidfd, SIGKILL);
                waitFor(pidfd);
            } finally {
                fds.closeAll();
            }
            throw new SandboxSetupException(new SetupError(SetupStep.PROTOCOL, 0,
                    "bad frame from the helper: " + e.getMessage()),
                    SandboxSetupException.EXIT_SETUP);
        }
        if (first instanceof ControlEvent.Started started) {
            return new SandboxedProcess(pid, fds.release(pidfd), started, channel,
                    release(fds, parentIn), release(fds, parentOut), release(fds, parentErr),
                    policy);
        }
        // Set-up failed: closing the socket is also the kill, in case the helper still waits.
        channel.close();
        int status;
        try {
            status = waitFor(pidfd);
        } finally {
            fds.closeAll();
        }
        if (first instanceof ControlEvent.Error error) {
            throw new SandboxSetupException(new SetupError(error.step(), error.errno(),
                    error.detail()), error.exitCode());
        }
        String what = first == null ? "ended before starting the command"
                : "reported the command's end before its start";
        throw new SandboxSetupException(new SetupError(SetupStep.HELPER, 0, "the helper ("
                + NativeLoader.helperPath() + ") " + what + ": " + describeStatus(status)),
                SandboxSetupException.EXIT_SETUP);
    }

    /** Whether the kernel has seccomp user notification; probed once per JVM. */
    private static volatile Boolean userNotification;

    /**
     * Whether report rules can use user notification here. Without it they deny with their
     * errno (report(allow): run) and record nothing, as Sandbox.probe() says. A probe that
     * cannot run is an error: the spawn would need the same helper anyway.
     */
    static boolean userNotification() throws IOException {
        Boolean known = userNotification;
        if (known == null) {
            known = Sandbox.probe().seccompUserNotification();
            userNotification = known;
        }
        return known;
    }

    private static int release(Fds fds, int fd) {
        return fd < 0 ? -1 : fds.release(fd);
    }

    private static int openRedirect(Redirect r, String stream) throws IOException {
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

    /** Reaps the helper; returns its wait status. The caller closes the pidfd. */
    static int waitFor(int pidfd) throws IOException {
        return NativeBridge.waitFor(pidfd);
    }

    /** "exit status N" or "killed by signal N", from a waitpid status. */
    static String describeStatus(int status) {
        int sig = status & 0x7f;
        if (sig == 0) {
            return "exit status " + ((status >> 8) & 0xff);
        }
        return "killed by signal " + sig + ((status & 0x80) != 0 ? " (core dumped)" : "");
    }

    static void closeQuietly(int fd) {
        try {
            NativeBridge.close(fd);
        } catch (IOException e) {
            // close(2) releases the descriptor even when it reports an error.
        }
    }
}
