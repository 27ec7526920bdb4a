package dev.stockade.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The read end of a sandbox's stdout or stderr pipe, as the JDK's process streams behave: when
 * the sandbox has ended, {@link #processExited()} moves whatever the pipe still holds into memory
 * and closes the descriptor, so a stream nobody reads never keeps an fd open, and data written
 * before the end can still be read afterwards.
 */
public final class PipeInputStream extends InputStream {
    private InputStream in; // guarded by this
    private boolean closed; // guarded by this

    /** Takes ownership of {@code fd}. */
    public PipeInputStream(int fd) {
        this.in = new FileInputStream(NativeBridge.newFileDescriptor(fd));
    }

    @Override
    public synchronized int read() throws IOException {
        ensureOpen();
        return in.read();
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        return in.read(b, off, len);
    }

    @Override
    public synchronized int available() throws IOException {
        ensureOpen();
        return in.available();
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            in.close();
        }
    }

    /**
     * Called once every writer of the pipe is gone (the helper has been reaped): drains the
     * pipe into memory and closes the descriptor. Waits for a reader thread in {@code read},
     * which returns promptly since no writer is left.
     */
    public synchronized void processExited() {
        if (closed || !(in instanceof FileInputStream)) {
            return;
        }
        InputStream pipe = in;
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            // No writer is left, so available() is everything the pipe still holds. Plain
            // read(): FileInputStream's readNBytes/readAllBytes seek, which fails on a pipe.
            int n = pipe.available();
            while (n > 0) {
                int got = pipe.read(buf, 0, Math.min(buf.length, n));
                if (got < 0) {
                    break;
                }
                rest.write(buf, 0, got);
                n = pipe.available();
            }
        } catch (IOException e) {
            // The bytes read so far are kept; a pipe without writers has nothing else to give.
        }
        try {
            pipe.close();
        } catch (IOException e) {
            // close(2) always releases the descriptor on Linux.
        }
        in = new ByteArrayInputStream(rest.toByteArray());
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("Stream closed");
        }
    }
}
