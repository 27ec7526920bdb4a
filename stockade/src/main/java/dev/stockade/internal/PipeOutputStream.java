package dev.stockade.internal;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The write end of a sandbox's stdin pipe. Unbuffered: bytes reach the command when
 * {@code write} returns. When the sandbox has ended, {@link #processExited()} closes the
 * descriptor, like the JDK's process stdin; later writes fail with "Stream closed".
 */
public final class PipeOutputStream extends OutputStream {
    private final FileOutputStream out;
    private boolean closed; // guarded by this

    /** Takes ownership of {@code fd}. */
    public PipeOutputStream(int fd) {
        this.out = new FileOutputStream(NativeBridge.newFileDescriptor(fd));
    }

    @Override
    public synchronized void write(int b) throws IOException {
        ensureOpen();
        out.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        out.write(b, off, len);
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    /** The sandbox has ended: release the descriptor. */
    public void processExited() {
        try {
            close();
        } catch (IOException e) {
            // close(2) always releases the descriptor on Linux.
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("Stream closed");
        }
    }
}
