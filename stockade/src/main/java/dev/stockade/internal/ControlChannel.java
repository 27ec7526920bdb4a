package dev.stockade.internal;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;

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
    private final int fd;
    private final Object lock = new Object();
    private boolean closed; // guarded by lock
    /** The descriptor EXITED carried (the transactional upper layer); reading thread only. */
    private int passedFd = -1;

    /** Takes ownership of {@code fd}, a connected AF_UNIX stream socket. */
    public ControlChannel(int fd) {
        FileDescriptor descriptor = NativeBridge.newFileDescriptor(fd);
        this.in = new FileInputStream(descriptor);
        this.out = new FileOutputStream(descriptor);
        this.reader = new EventReader(new ReceivingStream(fd));
        this.fd = fd;
    }

    /**
     * Reads with recvmsg, so that a descriptor the helper passes (SCM_RIGHTS, only with the
     * EXITED of a transactional workspace) is taken instead of being lost in a plain read; a
     * second one is closed.
     */
    private final class ReceivingStream extends InputStream {
        private final int fd;
        private final int[] passed = new int[1];

        ReceivingStream(int fd) {
            this.fd = fd;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int n = NativeBridge.receive(fd, b, off, len, passed);
            if (passed[0] >= 0) {
                if (passedFd < 0) {
                    passedFd = passed[0];
                } else {
                    DescriptorSet.closeQuietly(passed[0]);
                }
            }
            return n == 0 ? -1 : n;
        }
    }

    /**
     * The descriptor the helper passed with EXITED, now the caller's to close; -1 when none
     * came. Only the reading thread calls this.
     */
    public int takePassedFd() {
        int fd = passedFd;
        passedFd = -1;
        return fd;
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
     * Writes a complete frame with {@code fds} attached to its first byte (SCM_RIGHTS): the
     * COMMAND frame of a warm sandbox and its stdio. The descriptors stay the caller's.
     */
    public void send(byte[] frame, int[] fds) throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("the control channel is closed");
            }
            int sent = NativeBridge.sendWithFds(fd, frame, 0, frame.length, fds);
            out.write(frame, sent, frame.length - sent);
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
            DescriptorSet.closeQuietly(passedFd);
            passedFd = -1;
            try {
                in.close(); // closes the shared descriptor and the output stream with it
            } catch (IOException e) {
                // close(2) always releases the descriptor on Linux; nothing is left to undo.
            }
        }
    }
}
