package dev.stockade.internal;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Reads a sandbox's stdout and stderr pipes (one or both) on one reaper thread and hands each
 * line to its consumer as it comes: in order, UTF-8 decoded (malformed bytes replaced), without
 * the {@code \n} or {@code \r\n}; a final line without a newline too; a line longer than
 * {@code maxLineBytes} in pieces of at most that many bytes, each cut at a character boundary,
 * so a step printing an endless line costs a bounded buffer. A consumer that throws gets no
 * further lines, but its pipe is still drained, so the step never blocks on a full pipe.
 *
 * <p>Without writers the pipes end by themselves (EOF). {@link #finish()} ends the pump early,
 * for the owner that knows no writer is left but its helper's own copies: it wakes the poll
 * through a pipe of its own, reads what the pipes hold now, delivers it and closes them.
 */
public final class LinePump {
    private static final System.Logger LOG = System.getLogger("dev.stockade");
    private static final int READ_SIZE = 8192;

    private final int maxLineBytes;
    private final Stream[] streams;
    /** The poll set: the streams' fds (-1 once one ended), then the wake pipe's read end. */
    private final int[] pollFds;
    private final int wakeRead;
    private final FileOutputStream wake;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private final Object lock = new Object();
    private boolean finishing; // guarded by lock
    private boolean ended; // guarded by lock; the wake pipe is closed once set

    /** One pipe and its consumer: the bytes of the line not yet complete. */
    private static final class Stream {
        final String name;
        final FileInputStream in;
        Consumer<String> consumer; // null once it threw
        final byte[] line;
        int length;
        /** The last piece delivered was cut at the buffer's end: a newline next ends it. */
        boolean cut;
        boolean open = true;

        Stream(String name, int fd, Consumer<String> consumer, int maxLineBytes) {
            this.name = name;
            this.in = new FileInputStream(NativeBridge.newFileDescriptor(fd));
            this.consumer = consumer;
            this.line = new byte[maxLineBytes];
        }
    }

    private LinePump(int maxLineBytes, Stream[] streams, int[] wakePipe) {
        this.maxLineBytes = maxLineBytes;
        this.streams = streams;
        this.wakeRead = wakePipe[0];
        this.wake = new FileOutputStream(NativeBridge.newFileDescriptor(wakePipe[1]));
        this.pollFds = new int[streams.length + 1];
        for (int i = 0; i < streams.length; i++) {
            pollFds[i] = NativeBridge.fdNumber(streamFd(streams[i]));
        }
        pollFds[streams.length] = wakeRead;
    }

    private static java.io.FileDescriptor streamFd(Stream s) {
        try {
            return s.in.getFD();
        } catch (IOException e) {
            throw new IllegalStateException(e); // a FileInputStream just made on a descriptor
        }
    }

    /**
     * Starts pumping {@code stdoutFd} to {@code stdout} and {@code stderrFd} to {@code stderr}
     * (a pair may be -1 and null) on a reaper thread; takes ownership of both fds, closing them
     * when this throws too.
     *
     * @param maxLineBytes the longest piece of a line delivered at once, in bytes (at least 4)
     * @throws IOException when the wake pipe cannot be made
     */
    public static LinePump start(int stdoutFd, Consumer<String> stdout, int stderrFd,
            Consumer<String> stderr, int maxLineBytes) throws IOException {
        int count = (stdoutFd >= 0 ? 1 : 0) + (stderrFd >= 0 ? 1 : 0);
        Stream[] streams = new Stream[count];
        int i = 0;
        if (stdoutFd >= 0) {
            streams[i++] = new Stream("stdout", stdoutFd, stdout, maxLineBytes);
        }
        if (stderrFd >= 0) {
            streams[i] = new Stream("stderr", stderrFd, stderr, maxLineBytes);
        }
        int[] wakePipe;
        try {
            wakePipe = NativeBridge.pipe();
        } catch (IOException | RuntimeException | Error e) {
            for (Stream s : streams) {
                closeQuietly(s.in);
            }
            throw e;
        }
        LinePump pump = new LinePump(maxLineBytes, streams, wakePipe);
        try {
            ReaperThreads.start(pump::run);
        } catch (RuntimeException | Error e) {
            pump.closeAll();
            throw e;
        }
        return pump;
    }

    /** Completes once every line was delivered and the pipes are closed. */
    public CompletableFuture<Void> done() {
        return done;
    }

    /**
     * Delivers what the pipes hold now and ends, closing them; returns at once (see
     * {@link #done()}). For when no writer but the helper's own idle copies is left. Idempotent.
     */
    public void finish() {
        synchronized (lock) {
            if (ended || finishing) {
                return;
            }
            finishing = true;
            try {
                wake.write(1);
            } catch (IOException e) {
                // The pump's end of the wake pipe is open until it has ended: cannot happen.
            }
        }
    }

    private void run() {
        try {
            boolean drain = false;
            while (anyOpen() && !drain) {
                int[] revents = NativeBridge.pollAll(pollFds, NativeBridge.POLLIN, -1);
                for (int i = 0; i < streams.length; i++) {
                    if (revents[i] != 0) {
                        readOnce(i);
                    }
                }
                drain = revents[streams.length] != 0;
            }
            // Finishing: every writer is gone but idle ones, so what the pipes hold is all.
            while (anyOpen()) {
                int[] revents = NativeBridge.pollAll(pollFds, NativeBridge.POLLIN, 0);
                boolean any = false;
                for (int i = 0; i < streams.length; i++) {
                    if (streams[i].open && (revents[i] & NativeBridge.POLLIN) != 0) {
                        readOnce(i);
                        any = true;
                    }
                }
                if (!any) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // A pipe that cannot be polled or read has nothing more to give.
        } finally {
            for (Stream s : streams) {
                flush(s);
            }
            closeAll();
            done.complete(null);
        }
    }

    private boolean anyOpen() {
        for (Stream s : streams) {
            if (s.open) {
                return true;
            }
        }
        return false;
    }

    /** One read of a ready pipe (it does not block); its complete lines delivered. */
    private void readOnce(int index) throws IOException {
        Stream s = streams[index];
        int room = s.line.length - s.length;
        int n = s.in.read(s.line, s.length, Math.min(room, READ_SIZE));
        if (n < 0) {
            s.open = false;
            pollFds[index] = -1;
            flush(s);
            closeQuietly(s.in);
            return;
        }
        int scanFrom = s.length;
        s.length += n;
        int start = 0;
        for (int i = scanFrom; i < s.length; i++) {
            if (s.line[i] == '\n') {
                int end = i > start && s.line[i - 1] == '\r' ? i - 1 : i;
                if (end > start || !s.cut) { // not the end of a line just cut
                    deliver(s, start, end - start);
                }
                s.cut = false;
                start = i + 1;
            }
        }
        if (s.length - start == s.line.length) {
            // A full buffer without a newline: a piece, cut where no character is split.
            int cut = characterBoundary(s.line, s.line.length);
            deliver(s, 0, cut);
            s.cut = true;
            start = cut;
        }
        System.arraycopy(s.line, start, s.line, 0, s.length - start);
        s.length -= start;
    }

    /**
     * The end of the longest prefix of {@code bytes[0, length)} that splits no UTF-8 sequence:
     * a trailing lead byte and its continuation bytes, when fewer than the lead announces, go
     * to the next piece. Malformed input is cut anywhere (it is replaced when decoded).
     */
    static int characterBoundary(byte[] bytes, int length) {
        int i = length - 1;
        int continuation = 0;
        while (i >= 0 && continuation < 3 && (bytes[i] & 0xC0) == 0x80) {
            i--;
            continuation++;
        }
        if (i < 0) {
            return length;
        }
        int lead = bytes[i] & 0xFF;
        int needs = lead >= 0xF0 && lead < 0xF8 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
        return needs > continuation && i > 0 ? i : length;
    }

    /** A final line without a newline. */
    private void flush(Stream s) {
        s.cut = false;
        if (s.length > 0) {
            deliver(s, 0, s.length);
            s.length = 0;
        }
    }

    private void deliver(Stream s, int offset, int length) {
        if (s.consumer == null) {
            return;
        }
        String line = new String(s.line, offset, length, StandardCharsets.UTF_8);
        try {
            s.consumer.accept(line);
        } catch (RuntimeException | Error e) {
            s.consumer = null;
            LOG.log(System.Logger.Level.WARNING, "the " + s.name + " line consumer threw;"
                    + " it gets no further lines (the stream is still drained)", e);
        }
    }

    private void closeAll() {
        for (Stream s : streams) {
            s.open = false;
            closeQuietly(s.in);
        }
        synchronized (lock) {
            ended = true;
            closeQuietly(wake);
            DescriptorSet.closeQuietly(wakeRead);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // close(2) releases the descriptor on Linux.
        }
    }
}
