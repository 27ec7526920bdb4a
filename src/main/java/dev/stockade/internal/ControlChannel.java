package dev.stockade.internal;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * The Java end of the control socket: frames out (SPEC, KILL) from any thread, events in from one
 * reader thread. The helper treats the socket's end as "kill everything", so closing this
 * channel is itself a kill.
 *
 * <p>Only the reading thread may {@link #close()} the channel, once it no longer reads:
 * closing a descriptor another thread is blocked reading on neither wakes that thread nor is
 * safe against the number being reused. Writes and close share a lock, so a KILL from another
 * thread can never go to a reused descriptor number.
 */
public final class ControlChannel {
    private final FileInputStream in;
    private final FileOutputStream out;
    private final EventReader reader;
    private final Object lock = new Object();
    private boolean closed; // guarded by lock

    /** Takes ownership of {@code fd}, a connected AF_UNIX stream socket. */
    public ControlChannel(int fd) {
        FileDescriptor descriptor = NativeBridge.newFileDescriptor(fd);
        this.in = new FileInputStream(descriptor);
        this.out = new FileOutputStream(descriptor);
        this.reader = new EventReader(in);
    }

    /** Writes a complete frame. */
    public void send(byte[] frame) throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("the control channel is closed");
            }
            out.write(frame);
        }
    }

    /**
     * Asks the helper to kill the sandbox. Returns {@code false} when the helper can no longer
     * be asked (the channel is closed or the helper has gone): the sandbox is then already
     * ending, because the helper kills it when the socket closes.
     */
    public boolean sendKill(int mode) {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            try {
                out.write(SpecEncoder.killFrame(mode));
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** The next event, or {@code null} at the end of stream. Only the reading thread calls this. */
    public ControlEvent next() throws IOException {
        return reader.next();
    }

    /** Closes the socket; idempotent. Only the reading thread calls this (see class comment). */
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                in.close(); // closes the shared descriptor and the output stream with it
            } catch (IOException e) {
                // close(2) always releases the descriptor on Linux; nothing is left to undo.
            }
        }
    }
}
