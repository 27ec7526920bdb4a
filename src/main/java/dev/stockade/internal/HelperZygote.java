package dev.stockade.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The helper zygote ({@code stockade-helper zygote}; stockade.h, {@code enum
 * stk_zygote_message_type}): one per JVM (per class loader that loads Stockade), started by the
 * first spawn, that forks every sandbox's helper. A fork of a process that is already exec'd
 * costs a fraction of the {@code posix_spawn} and exec the JVM would pay for each helper; the
 * helper it forks is this JVM's child, with the same fds, and runs the same code as a spawned
 * one.
 *
 * <p>Requests are served one at a time (a fork each, tens of microseconds), in a lock that
 * every caller waits for at most until its set-up deadline. A helper inherits from the zygote
 * what a spawned one inherited from the spawning thread, so the zygote is started again, from
 * the spawning thread, when that thread's {@link NativeBridge#spawnContext} (cgroups, rlimits,
 * {@code oom_score_adj}, no_new_privs, seccomp mode) is not the zygote's any more.
 *
 * <p>A zygote is retired, and the next spawn starts a new one, when it ended (killed by its
 * user) or broke the protocol; when it did not answer a request by the caller's deadline (the
 * request fails; the zygote's late answer is still awaited, for {@link #RETIRE_WAIT}, so that
 * the helper it names is killed and reaped, never left a zombie); and when a helper it forked
 * died of a signal other than SIGKILL ({@link #waitForHelper}): every helper shares the
 * zygote's stack canary and layout, which a crash-and-retry attack would otherwise keep
 * guessing at. A request is never retried: the helper it asked for may exist, holding the
 * control socket a retry would hand to a second one.
 */
public final class HelperZygote {
    private static final String[] ARGV = {"stockade-helper", "zygote"};
    private static final int O_RDWR = 2; // asm-generic/fcntl.h
    private static final int SIGKILL = 9;
    private static final int EPROTO = Errno.number("EPROTO");
    private static final int FORKED_SIZE = Protocol.FRAME_HEADER_SIZE + 8;

    /** How long a retired zygote may take to answer the request it owes before it is killed. */
    public static final Duration RETIRE_WAIT = Duration.ofSeconds(60);

    private static final ReentrantLock LOCK = new ReentrantLock();
    private static HelperZygote running; // guarded by LOCK

    private final int pidfd;
    private final int socket;
    private final byte[] context;
    // The answer being read; a retired zygote's reaper thread goes on where the caller stopped.
    private final byte[] reply = new byte[FORKED_SIZE];
    private int got;
    private int answerPidfd = -1;

    private HelperZygote(int pidfd, int socket, byte[] context) {
        this.pidfd = pidfd;
        this.socket = socket;
        this.context = context;
    }

    /** The zygote did not answer, or was not free, by the caller's set-up deadline. */
    public static final class Unanswered extends IOException {
        private static final long serialVersionUID = 1L;

        Unanswered(String message) {
            super(message);
        }
    }

    /**
     * Forks a helper with {@code layout} as its fds 0 to 4 (stdin, stdout, stderr, the control
     * socket, the progress page or -1 for none), as {@link NativeBridge#spawn} would start it.
     * The descriptors stay the caller's.
     *
     * @param deadline ({@link System#nanoTime()}) the latest the zygote may answer
     * @return {pid, pidfd} of the helper, a child of this JVM
     * @throws Unanswered when the zygote was busy, or did not answer, until the deadline
     * @throws NativeBridge.NativeException when the zygote could not fork (its errno, call
     *     {@code clone3}), or could not be started
     * @throws IOException when the zygote failed during the request
     */
    public static int[] forkHelper(int[] layout, long deadline) throws IOException {
        int[] fds = layout[4] < 0 ? Arrays.copyOf(layout, 4) : layout.clone();
        byte[] context = NativeBridge.spawnContext();
        try {
            if (!LOCK.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new Unanswered("the helper zygote was busy with other spawns for the"
                        + " whole set-up timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the helper zygote");
        }
        try {
            if (running != null && (!running.idle() || !Arrays.equals(running.context, context))) {
                running.retire(false);
                running = null;
            }
            if (running == null) {
                running = start(context);
            }
            HelperZygote zygote = running;
            try {
                return zygote.request(fds, deadline);
            } catch (Unanswered e) {
                running = null;
                zygote.retire(true);
                throw e;
            } catch (NativeBridge.NativeException e) {
                if (!e.call().equals("clone3")) {
                    running = null;
                    zygote.retire(false);
                }
                throw e;
            } catch (IOException | RuntimeException | Error e) {
                running = null;
                zygote.retire(false);
                throw e;
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Waits for a helper this JVM has (from {@link #forkHelper}) and returns its wait status
     * ({@link NativeBridge#waitFor}). A helper that died of a signal other than SIGKILL (the
     * one this library sends) retires the zygote that forked it (class comment).
     */
    public static int waitForHelper(int helperPidfd) throws IOException {
        int status = NativeBridge.waitFor(helperPidfd);
        int signal = status & 0x7f;
        if (signal != 0 && signal != 0x7f && signal != SIGKILL) {
            LOCK.lock();
            try {
                if (running != null) {
                    running.retire(false);
                    running = null;
                }
            } finally {
                LOCK.unlock();
            }
        }
        return status;
    }

    private static HelperZygote start(byte[] context) throws IOException {
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
            return new HelperZygote(spawned[1], socket, context);
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
        return answer(deadline);
    }

    /**
     * Reads the FORKED frame, from where an earlier call stopped, until {@code deadline}:
     * {pid, pidfd} of the helper. A pidfd that came with a frame that is not a well-formed
     * answer is the helper's too: it is killed and reaped.
     */
    private int[] answer(long deadline) throws IOException {
        int[] passed = new int[1];
        while (got < reply.length) {
            if (!Readiness.awaitReadable(socket, deadline)) {
                throw new Unanswered("the helper zygote did not answer a FORK request within"
                        + " the set-up timeout (a new one serves the next spawn)");
            }
            int n = NativeBridge.receive(socket, reply, got, reply.length - got, passed);
            if (passed[0] >= 0) {
                if (answerPidfd < 0) {
                    answerPidfd = passed[0];
                } else {
                    killAndReap(passed[0]);
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
        int helperPidfd = answerPidfd;
        answerPidfd = -1;
        got = 0;
        if (type != Protocol.EVT_FORKED || length != 8 || pid < 0
                || (pid == 0) == (errno == 0) || (pid > 0) != (helperPidfd >= 0)) {
            if (helperPidfd >= 0) {
                killAndReap(helperPidfd);
            }
            throw new ProtocolException("the helper zygote answered FORK with type "
                    + Integer.toUnsignedString(type) + ", length " + length + ", pid " + pid
                    + ", errno " + errno + (helperPidfd >= 0 ? ", a pidfd" : ", no pidfd"));
        }
        if (pid == 0 && errno == EPROTO) {
            throw new ProtocolException("the helper zygote refused a FORK request (EPROTO)");
        }
        if (pid == 0) {
            throw new NativeBridge.NativeException("clone3", errno,
                    "the helper zygote could not fork a helper: " + Errno.message(errno));
        }
        return new int[] {pid, helperPidfd};
    }

    /**
     * Ends this zygote on a reaper thread. One that owes an answer ({@code answerOwed}) gets
     * {@link #RETIRE_WAIT} to give it, and the helper it names is killed and reaped; then the
     * socket is closed (the zygote's end), the zygote killed in case it does not read any more
     * (stopped), and reaped.
     */
    private void retire(boolean answerOwed) {
        ReaperThreads.start(() -> {
            try {
                if (answerOwed) {
                    int[] late = answer(System.nanoTime() + RETIRE_WAIT.toNanos());
                    killAndReap(late[1]);
                }
            } catch (IOException | RuntimeException e) {
                // No helper was made, or the zygote went first: nothing more to reap for it.
            } finally {
                DescriptorSet.closeQuietly(answerPidfd);
                DescriptorSet.closeQuietly(socket);
                killAndReap(pidfd);
            }
        });
    }

    private static void killAndReap(int fd) {
        try {
            NativeBridge.sendSignal(fd, SIGKILL);
            NativeBridge.waitFor(fd);
        } catch (IOException e) {
            // Only a bad pidfd fails: nothing is left to reap then.
        } finally {
            DescriptorSet.closeQuietly(fd);
        }
    }
}
