package dev.stockade.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The helper zygote ({@code stockade-helper zygote}; stockade.h, {@code enum
 * stk_zygote_message_type}): started by the first spawn, it forks every sandbox's helper. A
 * fork of a process that is already exec'd costs a fraction of the {@code posix_spawn} and exec
 * the JVM would pay for each helper; the helper it forks is this JVM's child, with the same
 * fds, and runs the same code as a spawned one.
 *
 * <p>A helper inherits from the zygote what a spawned one inherited from the spawning thread,
 * so each zygote serves the threads whose {@link NativeBridge#spawnContext} (namespaces,
 * cgroups, credentials, limits, scheduling; the method says which) is the one of the thread
 * that started it. A JVM keeps up to {@link #MAX_ZYGOTES} of them (per class loader that loads
 * Stockade), one per context, the least recently used retired beyond that. A thread whose
 * context cannot be read gets a zygote of its own for each spawn, retired once it forked.
 *
 * <p>Requests are served one at a time (a fork each, tens of microseconds), in a lock that
 * every caller waits for at most until its set-up deadline. A zygote is retired, and the next
 * spawn of its context starts a new one, when it ended (killed by its user) or broke the
 * protocol; when it did not answer a request by the caller's deadline (the request fails; the
 * zygote's late answer is still awaited, for {@link #RETIRE_WAIT}, so that the helper it names
 * is killed and reaped, never left a zombie); and when a helper it forked died of a signal
 * or reported that a process of its sandbox running the helper's code did
 * ({@link #waitForHelper}): every such process shares the zygote's stack canary and layout,
 * which a crash-and-retry attack would otherwise keep guessing at. A request is never retried:
 * the helper it asked for may exist, holding the control socket a retry would hand to a second
 * one.
 */
public final class HelperZygote {
    private static final String[] ARGV = {"stockade-helper", "zygote"};
    private static final int O_RDWR = 2; // asm-generic/fcntl.h
    private static final int SIGKILL = 9;
    private static final int EPROTO = Errno.number("EPROTO");
    private static final int FORKED_SIZE = Protocol.FRAME_HEADER_SIZE + 8;

    /** How long a retired zygote may take to answer the request it owes before it is killed. */
    public static final Duration RETIRE_WAIT = Duration.ofSeconds(60);

    /**
     * The most zygotes a JVM keeps, one per spawn context: threads of a few contexts (a
     * namespace or cgroup each) take turns without a new zygote for every other spawn.
     */
    public static final int MAX_ZYGOTES = 4;

    private static final ReentrantLock LOCK = new ReentrantLock();
    // By spawn context, least recently used first; guarded by LOCK.
    private static final Map<String, HelperZygote> ZYGOTES = new LinkedHashMap<>(8, 0.75f, true);

    private final int pidfd;
    private final int socket;
    // Set by any thread that saw a crash of one of its helpers' processes; read under LOCK.
    private volatile boolean tainted;
    // The answer being read; a retired zygote's reaper thread goes on where the caller stopped.
    private final byte[] reply = new byte[FORKED_SIZE];
    private int got;
    private int answerPidfd = -1;
    // A FORK was sent and its whole answer not read yet: a helper may exist that only the
    // answer names, so a retire reads it first.
    private boolean owed;

    private HelperZygote(int pidfd, int socket) {
        this.pidfd = pidfd;
        this.socket = socket;
    }

    /** A helper the zygote forked: this JVM's child, and the zygote it came from. */
    public record Forked(int pid, int pidfd, HelperZygote zygote) {}

    /** The zygote did not answer, or was not free, by the caller's set-up deadline. */
    public static final class Unanswered extends IOException {
        private static final long serialVersionUID = 1L;

        Unanswered(String message) {
            super(message);
        }
    }

    /**
     * Forks a helper with {@code layout} as its fds 0 to 4 (stdin, stdout, stderr, the control
     * socket, the progress page or -1 for none), as {@link NativeBridge#spawn} would start it
     * from the calling thread. The descriptors stay the caller's. The thread's spawn context is
     * read when the call begins, before any wait for the lock: the helper has the context of
     * that moment, as a ProcessBuilder child has the state of its fork; a change another thread
     * makes during the call is ordered with neither. A zygote this call has to start has the
     * thread's state of its start: it serves the context read at the call only if that is
     * still the thread's, else this one fork.
     *
     * @param deadline ({@link System#nanoTime()}) the latest the zygote may answer
     * @return the helper; its pidfd is the caller's to close
     * @throws Unanswered when the zygote was busy, or did not answer, until the deadline
     * @throws NativeBridge.NativeException when the zygote could not fork (its errno, call
     *     {@code clone3}), or could not be started
     * @throws IOException when the zygote failed during the request
     */
    public static Forked forkHelper(int[] layout, long deadline) throws IOException {
        return forkHelper(layout, deadline, contextOfThisThread());
    }

    /** {@link NativeBridge#spawnContext} as a key, null when it could not be read. */
    static String contextOfThisThread() {
        byte[] context = NativeBridge.spawnContext();
        return context == null ? null : new String(context, StandardCharsets.ISO_8859_1);
    }

    /**
     * {@link #forkHelper(int[], long)} for a thread of spawn context {@code context}; null for
     * one that could not be read, which gets a zygote of its own for this one fork (started
     * from the calling thread, so it has the thread's context whatever it is).
     */
    static Forked forkHelper(int[] layout, long deadline, String context) throws IOException {
        int[] fds = layout[4] < 0 ? Arrays.copyOf(layout, 4) : layout.clone();
        lock(deadline);
        try {
            // A caller that waited for the lock until its deadline has no time left to be
            // answered in: sent, its request would retire a zygote that did nothing wrong.
            if (deadline - System.nanoTime() <= 0) {
                throw busy();
            }
            retireTainted();
            HelperZygote zygote = context == null ? null : ZYGOTES.get(context);
            if (zygote != null && (zygote.tainted || !zygote.idle())) {
                ZYGOTES.remove(context);
                zygote.retire();
                zygote = null;
            }
            boolean keep = context != null;
            if (zygote == null) {
                zygote = start();
                keep = keep && context.equals(contextOfThisThread());
                if (keep) {
                    ZYGOTES.put(context, zygote);
                    retireBeyond(MAX_ZYGOTES);
                }
            }
            try {
                int[] forked = zygote.request(fds, deadline);
                keep &= !zygote.tainted; // a crash seen during the fork: it was the last one
                return new Forked(forked[0], forked[1], zygote);
            } catch (NativeBridge.NativeException e) {
                keep &= e.call().equals("clone3"); // the zygote's answer: it could not fork
                throw e;
            } catch (IOException | RuntimeException | Error e) {
                keep = false;
                throw e;
            } finally {
                if (!keep) {
                    ZYGOTES.values().remove(zygote);
                    zygote.retire();
                }
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Retires every zygote a crash was seen against: {@link #taint} does it only when the lock
     * is free, and the next spawn of that context may be long in coming.
     */
    private static void retireTainted() {
        Iterator<HelperZygote> all = ZYGOTES.values().iterator();
        while (all.hasNext()) {
            HelperZygote zygote = all.next();
            if (zygote.tainted) {
                all.remove();
                zygote.retire();
            }
        }
    }

    /**
     * Takes the lock by {@code deadline}. Free, it is taken even by an interrupted thread (as
     * {@code ProcessBuilder.start} does not look at the interrupt either); only the wait for a
     * busy zygote is interruptible.
     */
    private static void lock(long deadline) throws IOException {
        if (LOCK.tryLock()) {
            return;
        }
        try {
            if (!LOCK.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw busy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the helper zygote");
        }
    }

    private static Unanswered busy() {
        return new Unanswered("the helper zygote was busy with other spawns for the whole"
                + " set-up timeout");
    }

    /** Retires the least recently used zygotes until at most {@code max} are left. */
    private static void retireBeyond(int max) {
        Iterator<HelperZygote> eldest = ZYGOTES.values().iterator();
        while (ZYGOTES.size() > max) {
            HelperZygote zygote = eldest.next();
            eldest.remove();
            zygote.retire();
        }
    }

    /**
     * Waits for a helper this zygote forked ({@link #forkHelper}) and returns its wait status
     * ({@link NativeBridge#waitFor}). A helper that died of any signal (SIGKILL too: a hostile
     * step that can signal the helper could dress a crash up as the library's own kill, and
     * the library kills a helper only on rare error paths), that exited
     * {@code STK_EXIT_OWN_CRASH} (pid 1 or the egress forwarder of its sandbox died of a
     * signal), or whose wait failed taints the zygote ({@link #taint}).
     */
    public int waitForHelper(int helperPidfd) throws IOException {
        int status;
        try {
            status = NativeBridge.waitFor(helperPidfd);
        } catch (IOException | RuntimeException e) {
            taint(); // what ended the helper is unknown (another reaper took its status)
            throw e;
        }
        int signal = status & 0x7f;
        if (signal != 0 || (status >> 8 & 0xff) == Protocol.EXIT_OWN_CRASH) {
            taint();
        }
        return status;
    }

    /** Whether a crash was seen against this zygote ({@link #taint}). */
    public boolean tainted() {
        return tainted;
    }

    /**
     * Forks nothing more from this zygote: a process of one of its helpers' sandboxes that runs
     * the helper's code crashed (also reported ahead of the helper's exit, by the EXITED flag
     * {@code STK_EXIT_HELPER_CRASHED}). Retired now when the lock is free, else by the next
     * spawn (of any context); never waits for the lock.
     */
    public void taint() {
        tainted = true;
        if (LOCK.tryLock()) {
            try {
                if (ZYGOTES.values().remove(this)) {
                    retire();
                }
            } finally {
                LOCK.unlock();
            }
        }
    }

    /** Starts a zygote from the calling thread, whose spawn context it then has. */
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
    private boolean idle() {
        try {
            return NativeBridge.poll(socket, NativeBridge.POLLIN, 0) == 0;
        } catch (IOException e) {
            return false; // a socket that cannot be polled serves nobody
        }
    }

    private int[] request(int[] fds, long deadline) throws IOException {
        byte[] fork = ByteBuffer.allocate(Protocol.FRAME_HEADER_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN).putInt(Protocol.MSG_FORK).putInt(0).array();
        // A stream socket the zygote has drained takes eight bytes whole; a short send would
        // leave the rest to go without the descriptors, so it is a broken zygote instead.
        int sent = NativeBridge.sendWithFds(socket, fork, 0, fork.length, fds);
        owed = true; // a part sent with the descriptors may be enough for the zygote to fork
        if (sent != fork.length) {
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
        owed = false;
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
     * Ends this zygote on a reaper thread. One that owes an answer (a FORK sent, however the
     * request failed after) gets {@link #RETIRE_WAIT} to give it, and the helper it names is
     * killed and reaped; then the socket is closed (the zygote's end), the zygote killed in
     * case it does not read any more (stopped), and reaped.
     */
    private void retire() {
        try {
            ReaperThreads.start(() -> {
                try {
                    if (owed) {
                        int[] late = answer(System.nanoTime() + RETIRE_WAIT.toNanos());
                        killAndReap(late[1]);
                    }
                } catch (IOException | RuntimeException e) {
                    // No helper was made, or the zygote went first: nothing more to reap for it.
                } finally {
                    end();
                }
            });
        } catch (RuntimeException | Error e) {
            // No thread for the wait (the JVM is out of threads): the zygote ends now, unread.
            end();
        }
    }

    /**
     * Closes the socket (the zygote's end) and kills and reaps the zygote and the helper of an
     * answer cut short, whose pidfd came before the rest of its frame.
     */
    private void end() {
        if (answerPidfd >= 0) {
            killAndReap(answerPidfd);
            answerPidfd = -1;
        }
        DescriptorSet.closeQuietly(socket);
        killAndReap(pidfd);
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
