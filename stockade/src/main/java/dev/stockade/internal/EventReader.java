package dev.stockade.internal;

import dev.stockade.SetupStep;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the helper's frames from the control socket. Every frame is checked against its type's
 * exact layout before anything is allocated for it: an unknown type, a length outside the type's
 * bounds, a string running past the payload or bytes left over are a {@link ProtocolException}.
 * A clean end of stream between frames is {@code null}; an end inside a frame is an error.
 */
public final class EventReader {
    static final int STARTED_SIZE = 8;
    static final int EXITED_SIZE = 4 + 4 + 8 * 8;
    static final int ERROR_MIN_SIZE = 4 + 4 + 4 + 4;
    static final int ERROR_MAX_SIZE = ERROR_MIN_SIZE + Protocol.MAX_STEP_NAME + Protocol.MAX_DETAIL;
    static final int VIOLATION_SIZE = 4 + 4 + 8 + 4 + 4 + 6 * 8;

    private final InputStream in;

    public EventReader(InputStream in) {
        this.in = in;
    }

    /** The next event, or {@code null} when the helper closed the socket between frames. */
    public ControlEvent next() throws IOException {
        byte[] header = new byte[Protocol.FRAME_HEADER_SIZE];
        int got = readFully(header, true);
        if (got == 0) {
            return null;
        }
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int type = h.getInt();
        long length = Integer.toUnsignedLong(h.getInt());
        long min;
        long max;
        switch (type) {
            case Protocol.EVT_STARTED -> {
                min = STARTED_SIZE;
                max = STARTED_SIZE;
            }
            case Protocol.EVT_ERROR -> {
                min = ERROR_MIN_SIZE;
                max = ERROR_MAX_SIZE;
            }
            case Protocol.EVT_EXITED -> {
                min = EXITED_SIZE;
                max = EXITED_SIZE;
            }
            case Protocol.EVT_VIOLATION -> {
                min = VIOLATION_SIZE;
                max = VIOLATION_SIZE;
            }
            case Protocol.EVT_READY -> {
                min = 0;
                max = 0;
            }
            default -> throw new ProtocolException("unknown event type "
                    + Integer.toUnsignedString(type));
        }
        if (length < min || length > max) {
            throw new ProtocolException("event type " + type + " has length " + length
                    + ", expected " + (min == max ? String.valueOf(min) : min + ".." + max));
        }
        byte[] payload = new byte[(int) length];
        readFully(payload, false);
        ByteBuffer p = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        return switch (type) {
            case Protocol.EVT_STARTED -> started(p);
            case Protocol.EVT_ERROR -> error(p);
            case Protocol.EVT_VIOLATION -> violation(p);
            case Protocol.EVT_READY -> ControlEvent.Ready.INSTANCE;
            default -> exited(p);
        };
    }

    private static ControlEvent started(ByteBuffer p) throws ProtocolException {
        int sandboxPid = p.getInt();
        int commandPid = p.getInt();
        if (sandboxPid <= 0 || commandPid <= 0) {
            throw new ProtocolException("STARTED with pids " + sandboxPid + ", " + commandPid);
        }
        return new ControlEvent.Started(sandboxPid, commandPid);
    }

    private static ControlEvent error(ByteBuffer p) throws ProtocolException {
        long errno = Integer.toUnsignedLong(p.getInt());
        long exitCode = Integer.toUnsignedLong(p.getInt());
        if (errno > Protocol.MAX_REPORT_ERRNO) {
            throw new ProtocolException("ERROR with errno " + errno);
        }
        if (exitCode != Protocol.EXIT_SETUP && exitCode != Protocol.EXIT_NOT_EXECUTABLE
                && exitCode != Protocol.EXIT_NOT_FOUND) {
            throw new ProtocolException("ERROR with exit code " + exitCode + ", expected "
                    + Protocol.EXIT_SETUP + ", " + Protocol.EXIT_NOT_EXECUTABLE + " or "
                    + Protocol.EXIT_NOT_FOUND);
        }
        String stepName = string(p, Protocol.MAX_STEP_NAME, "step");
        if (stepName.isEmpty()) {
            throw new ProtocolException("ERROR with an empty step name");
        }
        String detail = string(p, Protocol.MAX_DETAIL, "detail");
        if (p.hasRemaining()) {
            throw new ProtocolException("ERROR has " + p.remaining() + " bytes after its fields");
        }
        SetupStep step = SetupStep.ofStepName(stepName).orElseThrow(() -> new ProtocolException(
                "ERROR with an unknown step '" + stepName + "'"));
        return new ControlEvent.Error((int) errno, (int) exitCode, step, detail);
    }

    private static ControlEvent violation(ByteBuffer p) throws ProtocolException {
        int nr = p.getInt();
        long errno = Integer.toUnsignedLong(p.getInt());
        long count = p.getLong();
        int pid = p.getInt();
        int reserved = p.getInt();
        if (nr < 0) {
            throw new ProtocolException("VIOLATION with syscall number "
                    + Integer.toUnsignedString(nr));
        }
        if (errno > Protocol.MAX_REPORT_ERRNO) {
            throw new ProtocolException("VIOLATION with errno " + errno);
        }
        if (count <= 0) {
            throw new ProtocolException("VIOLATION with count " + Long.toUnsignedString(count));
        }
        if (pid <= 0) {
            throw new ProtocolException("VIOLATION with pid " + pid);
        }
        if (reserved != 0) {
            throw new ProtocolException("VIOLATION with reserved field " + reserved);
        }
        List<Long> args = new ArrayList<>(6);
        for (int i = 0; i < 6; i++) {
            args.add(p.getLong());
        }
        return new ControlEvent.Violation(nr, (int) errno, count, pid, args);
    }

    private static ControlEvent exited(ByteBuffer p) {
        int status = p.getInt();
        int flags = p.getInt();
        return new ControlEvent.Exited(status, flags, p.getLong(), p.getLong(), p.getLong(),
                p.getLong(), p.getLong(), p.getLong(), p.getLong(), p.getLong());
    }

    private static String string(ByteBuffer p, int max, String what) throws ProtocolException {
        if (p.remaining() < 4) {
            throw new ProtocolException("ERROR ends before the " + what + " length");
        }
        long len = Integer.toUnsignedLong(p.getInt());
        if (len > max) {
            throw new ProtocolException("ERROR " + what + " is " + len + " bytes, at most " + max);
        }
        if (len > p.remaining()) {
            throw new ProtocolException("ERROR " + what + " runs past the frame (" + len
                    + " bytes, " + p.remaining() + " left)");
        }
        byte[] b = new byte[(int) len];
        p.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Fills {@code buf}; returns 0 only for a clean EOF before the first byte when allowed. */
    private int readFully(byte[] buf, boolean eofAllowedAtStart) throws IOException {
        int off = 0;
        while (off < buf.length) {
            int n = in.read(buf, off, buf.length - off);
            if (n < 0) {
                if (off == 0 && eofAllowedAtStart) {
                    return 0;
                }
                throw new ProtocolException("the control socket closed inside a frame (" + off
                        + " of " + buf.length + " bytes)");
            }
            off += n;
        }
        return off;
    }
}
