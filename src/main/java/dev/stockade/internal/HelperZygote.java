package dev.stockade.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The helper zygote ({@code stockade-helper zygote}; stockade.h, {@code enum
 * stk_zygote_message_type}): one per JVM (per class loader that loads Stockade), started by the
 * first spawn, that forks every sandbox's helper. A fork of a process that is already exec'd
 * costs a fraction of the {@code posix_spawn} and exec the JVM would pay for each helper; the
 * helper it forks is this JVM's child, with the same fds, and runs the same code as a spawned
 * one.
 *
 * <p>Requests are served one at a time (the zygote does one fork per request, tens of
 * microseconds). The zygote lives until this JVM's end of its socket closes: at the JVM's exit,
 * or when it is found broken. A zygote that died between two spawns (killed by its user) is
 * replaced by the next spawn; one that fails during a request fails that spawn only, with an
 * {@link IOException}, and is replaced by the next. The request is never retried: the helper it
 * asked for may exist, holding the control socket the retry would hand to a second one.
 */
public final class HelperZygote {
    private static final String[] ARGV = {"stockade-helper", "zygote"};
    private static final int O_RDWR = 2; // asm-generic/fcntl.h
    private static final int SIGKILL = 9;
    private static final int FORKED_SIZE = Protocol.FRAME_HEADER_SIZE + 8;

    private static final Object LOCK = new Object();
    private static HelperZygote running; // guarded by LOCK

    private final int pidfd;
    private final int socket;

    private HelperZygote(int pidfd, int socket) {
        this.pidfd = pidfd;
        this.socket = socket;
    }

    /**
     * Forks a helper with {@code layout} as its fds 0 to 4 (stdin, stdout, stderr, the control
     * socket, the progress page or -1 for none), as {@link NativeBridge#spawn} would start it.
     * The descriptors stay the caller's. A zygote that has not answered by {@code deadline}
     * ({@link System#nanoTime()}; stopped, say) is killed, and the spawn fails.
     *
     * @return {pid, pidfd} of the helper, a child of this JVM
     * @throws NativeBridge.NativeException when the zygote could not fork (its errno, call
     *     {@code clone3}), or the zygote could not be started
     * @throws Unanswered when the zygote did not answer by the deadline
     * @throws IOException when the zygote failed during the request
     */
    public static int[] forkHelper(int[] layout, long deadline) throws IOException {
        int[] fds = layout[4] < 0 ? Arrays.copyOf(layout, 4) : layout.clone();
        synchronized (LOCK) {
            if (running != null && !running.idle()) {
                running.end();
                running = null;
            }
            if (running == null) {
                running = start();
            }
            try {
                return running.request(fds, deadline);
            } catch (NativeBridge.NativeException e) {
                if (!e.call().equals("clone3")) {
                    running.end();
                    running = null;
                }
                throw e;
            } catch (IOException | RuntimeException | Error e) {
                running.end();
                running = null;
                throw e;
            }
        }
    }

    /** The zygote did not answer a FORK by the deadline; it has been killed. */
    public static final class Unanswered extends IOException {
        private static final long serialVersionUID = 1L;

        Unanswered() {
            super("the helper zygote did not answer a FORK request within the set-up timeout;"
                    + " it was killed (a new one serves the next spawn)");
        }
    }

    private static HelperZygote start() throws IOException {
        DescriptorSet fds = new DescriptorSet();
        try {
            int[] sockets = NativeBridge.socketPair();
            int socket = fds.add(sockets[0]);
            int zygoteEnd = fds.add(sockets[1]);
            int devNull = fds.add(NativeBridge.open("/dev/null", O_RDWR, 0));
            int[] spawned = NativeBridge.spawn(NativeLoader.helperExecutable(), ARGV, devNull,
                    devNull, devNull, zygoteEnd, -1);
            fds.release(socket);
            fds.closeAll();
            return new HelperZygote(spawned[1], socket);
        } catch (IOException | RuntimeException | Error e) {
            fds.closeAll();
            throw e;
        }
    }

    /**
     * Whether the zygote waits for a request: between requests it sends nothing, so a readable
     * socket is its end (or a frame nobody asked for).
     */
    private boolean idle() throws IOException {
        return NativeBridge.poll(socket, NativeBridge.POLLIN, 0) == 0;
    }

    private int[] request(int[] fds, long deadline) throws IOException {
        byte[] fork = ByteBuffer.allocate(Protocol.FRAME_HEADER_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN).putInt(Protocol.MSG_FORK).putInt(0).array();
        // A stream socket the zygote has drained takes eight bytes whole; a short send would
        // leave the rest to go without the descriptors, so it is a broken zygote instead.
        if (NativeBridge.sendWithFds(socket, fork, 0, fork.length, fds) != fork.length) {
            throw new IOException("the helper zygote took part of a FORK request");
        }
        byte[] reply = new byte[FORKED_SIZE];
        int[] passed = new int[1];
        int got = 0;
        int helperPidfd = -1;
        try {
            while (got < reply.length) {
                if (!Readiness.awaitReadable(socket, deadline)) {
                    throw new Unanswered();
                }
                int n = NativeBridge.receive(socket, reply, got, reply.length - got, passed);
                if (passed[0] >= 0) {
                    if (helperPidfd < 0) {
                        helperPidfd = passed[0];
                    } else {
                        DescriptorSet.closeQuietly(passed[0]);
                    }
                }
                if (n == 0) {
                    throw new IOException("the helper zygote ended during a FORK request");
                }
                got += n;
            }
            ByteBuffer r = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
            int type = r.getInt();
            int length = r.getInt();
            int pid = r.getInt();
            int errno = r.getInt();
            if (type != Protocol.EVT_FORKED || length != 8 || pid < 0
                    || (pid == 0) == (errno == 0) || (pid > 0) != (helperPidfd >= 0)) {
                throw new ProtocolException("the helper zygote answered FORK with type "
                        + Integer.toUnsignedString(type) + ", length " + length + ", pid " + pid
                        + ", errno " + errno + (helperPidfd >= 0 ? ", a pidfd" : ", no pidfd"));
            }
            if (pid == 0) {
                throw new NativeBridge.NativeException("clone3", errno,
                        "the helper zygote could not fork a helper: " + Errno.message(errno));
            }
            int[] spawned = {pid, helperPidfd};
            helperPidfd = -1;
            return spawned;
        } finally {
            DescriptorSet.closeQuietly(helperPidfd);
        }
    }

    /**
     * Closes the socket, which ends a zygote still reading it, and kills it in case it no longer
     * reads; a reaper thread waits for it.
     */
    private void end() {
        DescriptorSet.closeQuietly(socket);
        try {
            NativeBridge.sendSignal(pidfd, SIGKILL);
        } catch (IOException e) {
            // Only a bad pidfd fails; the wait below then fails too and nothing is left.
        }
        ReaperThreads.start(() -> {
            try {
                NativeBridge.waitFor(pidfd);
            } catch (IOException e) {
                // Only a bad pidfd fails here; nothing is left to reap then.
            } finally {
                DescriptorSet.closeQuietly(pidfd);
            }
        });
    }
}
