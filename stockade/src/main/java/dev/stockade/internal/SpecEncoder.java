package dev.stockade.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Writes the SPEC frame ({@code native/include/stockade.h}): frame header, magic, version, then
 * one field per setting, every integer little-endian. It only writes bytes: {@link SpecResolver}
 * made every decision and, with {@code SandboxPolicy.Builder.build()}, checked every bound. The
 * one bound checked here is the frame's own size, which only the written bytes tell.
 */
public final class SpecEncoder {
    private SpecEncoder() {}

    /**
     * The complete SPEC frame (header included) for {@code spec}.
     *
     * @throws SpecException when the frame would be larger than {@link Protocol#MAX_SPEC_SIZE}
     */
    public static byte[] encode(SandboxSpec spec) throws SpecException {
        Writer w = new Writer();
        w.u32(Protocol.MAGIC);
        w.u32(Protocol.VERSION);
        commandFields(w, spec.argv(), spec.environment(), spec.cwd());
        return frame(Protocol.MSG_SPEC, policyFields(w, spec));
    }

    /**
     * The SPEC frame of a warm sandbox: {@code STK_F_WARM} in place of the command's fields
     * ({@link SpecResolver#resolveWarm} leaves them empty), which its COMMAND frame
     * ({@link #commandFrame}) brings later.
     *
     * @throws SpecException when the frame would be larger than {@link Protocol#MAX_SPEC_SIZE}
     */
    public static byte[] encodeWarm(SandboxSpec spec) throws SpecException {
        if (!spec.argv().isEmpty() || !spec.environment().isEmpty() || !spec.cwd().isEmpty()) {
            throw new IllegalArgumentException("a warm spec has no command of its own");
        }
        Writer w = new Writer();
        w.u32(Protocol.MAGIC);
        w.u32(Protocol.VERSION);
        w.fieldHeader(Protocol.F_WARM, 0);
        return frame(Protocol.MSG_SPEC, policyFields(w, spec));
    }

    /**
     * The COMMAND frame of a warm sandbox: the command's fields as in a SPEC payload, without
     * its magic and version, under the same size bound.
     *
     * @throws SpecException when the frame would be larger than {@link Protocol#MAX_SPEC_SIZE}
     */
    public static byte[] commandFrame(SandboxSpec.CommandSpec command) throws SpecException {
        Writer w = new Writer();
        commandFields(w, command.argv(), command.environment(), command.cwd());
        return frame(Protocol.MSG_COMMAND, w.toByteArray());
    }

    private static void commandFields(Writer w, List<String> argv, List<String> environment,
            String cwd) throws SpecException {
        for (String arg : argv) {
            w.stringField(Protocol.F_ARG, arg);
        }
        for (String var : environment) {
            w.stringField(Protocol.F_ENV, var);
        }
        w.stringField(Protocol.F_CWD, cwd);
    }

    private static byte[] frame(int type, byte[] payload) {
        Writer frame = new Writer();
        frame.u32(type);
        frame.u32(payload.length);
        frame.bytes(payload);
        return frame.toByteArray();
    }

    /** Every field but the command's, after what {@code w} holds; the payload. */
    private static byte[] policyFields(Writer w, SandboxSpec spec) throws SpecException {
        w.u32Field(Protocol.F_NAMESPACES, spec.namespaces());
        w.u32Field(Protocol.F_UID, spec.uid());
        w.u32Field(Protocol.F_GID, spec.gid());
        if (spec.hostname() != null) {
            w.stringField(Protocol.F_HOSTNAME, spec.hostname());
        }
        for (SandboxSpec.MountSpec m : spec.mounts()) {
            byte[] src = utf8(m.source());
            byte[] dst = utf8(m.target());
            w.fieldHeader(Protocol.F_MOUNT, 4 + 4 + 8 + 4 + src.length + 4 + dst.length);
            w.u32(m.type());
            w.u32(m.flags());
            w.u64(m.size());
            w.u32(src.length);
            w.bytes(src);
            w.u32(dst.length);
            w.bytes(dst);
        }
        for (SandboxSpec.RlimitSpec r : spec.rlimits()) {
            w.fieldHeader(Protocol.F_RLIMIT, 4 + 4 + 8 + 8);
            w.u32(r.resource());
            w.u32(0);
            w.u64(r.soft());
            w.u64(r.hard());
        }
        if (spec.timeoutMs() > 0) {
            w.u64Field(Protocol.F_TIMEOUT_MS, spec.timeoutMs());
        }
        w.u64Field(Protocol.F_KILL_GRACE_MS, spec.killGraceMs());
        for (SandboxSpec.UserLimitSpec u : spec.userLimits()) {
            w.fieldHeader(Protocol.F_USER_LIMIT, 16);
            w.u32(u.limit());
            w.u32(0);
            w.u64(u.value());
        }
        if (spec.ptyMax() > 0) {
            w.u32Field(Protocol.F_PTY_MAX, spec.ptyMax());
        }
        SandboxSpec.CgroupSpec cg = spec.cgroup();
        if (cg != null) {
            if (cg.memoryMax() > 0) {
                w.u64Field(Protocol.F_MEMORY_MAX, cg.memoryMax());
                if (cg.swapMax() >= 0) {
                    w.u64Field(Protocol.F_MEMORY_SWAP_MAX, cg.swapMax());
                }
            }
            if (cg.pidsMax() > 0) {
                w.u64Field(Protocol.F_PIDS_MAX, cg.pidsMax());
            }
            if (cg.cpuQuotaUs() > 0) {
                w.fieldHeader(Protocol.F_CPU_MAX, 8);
                w.u32(cg.cpuQuotaUs());
                w.u32(cg.cpuPeriodUs());
            }
        }
        if (spec.maxOutputBytes() > 0) {
            w.fieldHeader(Protocol.F_MAX_OUTPUT, 16);
            w.u64(spec.maxOutputBytes());
            w.u32(spec.outputAction());
            w.u32(0);
        }
        SandboxSpec.EgressSpec egress = spec.egress();
        if (egress != null) {
            byte[] path = egress.socketPath().getBytes(StandardCharsets.UTF_8);
            byte[] token = egress.token();
            w.fieldHeader(Protocol.F_EGRESS, 8 + token.length + path.length);
            w.u32(egress.port());
            w.u32(egress.maxConnections());
            w.bytes(token);
            w.bytes(path);
        }
        w.bytesField(Protocol.F_GUARD_BPF, spec.guardBpf());
        w.bytesField(Protocol.F_SECCOMP_BPF, spec.seccompBpf());
        for (SandboxSpec.ReportSpec r : spec.reports()) {
            w.fieldHeader(Protocol.F_REPORT, r.masks() == null ? 8 : 8 + 6 * 8);
            w.u32(r.syscall());
            w.u32(r.errno());
            if (r.masks() != null) {
                for (long mask : r.masks()) {
                    w.u64(mask);
                }
            }
        }
        return w.toByteArray();
    }

    /** The KILL frame for {@code mode} (Protocol.KILL_GRACEFUL or KILL_NOW). */
    public static byte[] killFrame(int mode) {
        Writer w = new Writer();
        w.u32(Protocol.MSG_KILL);
        w.u32(4);
        w.u32(mode);
        return w.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A little-endian byte sink. Its own array, not a ByteArrayOutputStream: that one's write
     * is synchronized, per byte, and a default spec is some 6000 of them (measured: 75 us of
     * a spawn's "resolve").
     */
    private static final class Writer {
        private byte[] buf = new byte[256];
        private int size;

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }

        private void put(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        void u32(int v) {
            ensure(4);
            buf[size++] = (byte) v;
            buf[size++] = (byte) (v >>> 8);
            buf[size++] = (byte) (v >>> 16);
            buf[size++] = (byte) (v >>> 24);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        /** Stops before the payload grows past the limit, not after building all of it. */
        void fieldHeader(int tag, int length) throws SpecException {
            if ((long) size + Protocol.FIELD_HEADER_SIZE + length > Protocol.MAX_SPEC_SIZE) {
                throw new SpecException("the spec is larger than " + Protocol.MAX_SPEC_SIZE
                        + " bytes (command line and environment too large)");
            }
            put(tag);
            put(tag >>> 8);
            put(0);
            put(0);
            u32(length);
        }

        void stringField(int tag, String s) throws SpecException {
            bytesField(tag, utf8(s));
        }

        /** Nothing for {@code null} (an optional field left out). */
        void bytesField(int tag, byte[] b) throws SpecException {
            if (b != null) {
                fieldHeader(tag, b.length);
                bytes(b);
            }
        }

        void u32Field(int tag, int v) throws SpecException {
            fieldHeader(tag, 4);
            u32(v);
        }

        void u64Field(int tag, long v) throws SpecException {
            fieldHeader(tag, 8);
            u64(v);
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }
}
