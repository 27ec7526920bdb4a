package dev.stockade.internal;

import dev.stockade.Limits;
import dev.stockade.Mount;
import dev.stockade.Namespace;
import dev.stockade.SandboxPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Writes the SPEC frame ({@code native/include/stockade.h}): frame header, magic, version, then
 * one field per setting, every integer little-endian. Checks every protocol limit on the way, so
 * the helper never has to reject what Java could have caught.
 */
public final class SpecEncoder {
    private SpecEncoder() {}

    /**
     * Resolves a command and a policy to wire values. Mounts go in the order the helper applies
     * them: shallowest target first (stable for equal depth), so that the workspace or a bind
     * under {@code /tmp} lands inside the {@code /tmp} tmpfs instead of being hidden by it.
     *
     * @param cwd the working directory inside the sandbox (absolute)
     * @param seccompBpf the compiled filter, or {@code null} when the policy installs none
     */
    public static SandboxSpec fromPolicy(List<String> command, SandboxPolicy policy, Path cwd,
            byte[] seccompBpf) {
        return fromPolicy(command, policy, cwd, seccompBpf, List.of(), null);
    }

    /**
     * As {@link #fromPolicy(List, SandboxPolicy, Path, byte[])}, with the syscalls the program
     * sends to user notification (one REPORT field each: the errno pid 1 answers with, 0 = let
     * it run, and the argument bits that tell its rules apart), and the set-id guard's program
     * ({@code null} when the policy allows set-id files).
     */
    public static SandboxSpec fromPolicy(List<String> command, SandboxPolicy policy, Path cwd,
            byte[] seccompBpf, List<SandboxSpec.ReportSpec> reports, byte[] guardBpf) {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : policy.environment().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        int namespaces = 0;
        for (Namespace ns : policy.namespaces()) {
            namespaces |= ns.cloneFlag();
        }
        List<SandboxSpec.MountSpec> mounts = new ArrayList<>();
        List<Mount> ordered = new ArrayList<>(policy.mounts());
        policy.workspace().ifPresent(ws -> ordered.add(Mount.bind(ws, ws)));
        ordered.sort(Comparator.comparingInt(m -> m.target().normalize().getNameCount()));
        for (Mount m : ordered) {
            if (m.type() == Mount.Type.BIND) {
                int flags = (m.readOnly() ? Protocol.MOUNT_READONLY : 0)
                        | (m.idmapped() ? Protocol.MOUNT_IDMAP : 0)
                        | (m.specialSource() ? Protocol.MOUNT_SPECIAL : 0);
                mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, flags, 0,
                        m.source().toString(), m.target().toString()));
            } else {
                mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, m.sizeBytes(), "",
                        m.target().toString()));
            }
        }
        Limits l = policy.limits();
        List<SandboxSpec.RlimitSpec> rlimits = new ArrayList<>();
        if (l.openFiles().isPresent()) {
            rlimits.add(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE,
                    l.openFilesSoft().orElse(l.openFiles().getAsLong()),
                    l.openFiles().getAsLong()));
        }
        addLimit(rlimits, Protocol.RLIMIT_NPROC, l.processes());
        addLimit(rlimits, Protocol.RLIMIT_FSIZE, l.fileSizeBytes());
        addLimit(rlimits, Protocol.RLIMIT_CPU, l.cpuTimeSeconds());
        addLimit(rlimits, Protocol.RLIMIT_AS, l.addressSpaceBytes());
        addLimit(rlimits, Protocol.RLIMIT_STACK, l.stackBytes());
        addLimit(rlimits, Protocol.RLIMIT_CORE, l.coreBytes());
        List<SandboxSpec.UserLimitSpec> userLimits = new ArrayList<>();
        if ((namespaces & Protocol.CLONE_NEWUSER) != 0) {
            addUserLimit(userLimits, Protocol.USER_LIMIT_INOTIFY_INSTANCES, l.inotifyInstances());
            addUserLimit(userLimits, Protocol.USER_LIMIT_INOTIFY_WATCHES, l.inotifyWatches());
            addUserLimit(userLimits, Protocol.USER_LIMIT_FANOTIFY_GROUPS, l.fanotifyGroups());
            addUserLimit(userLimits, Protocol.USER_LIMIT_FANOTIFY_MARKS, l.fanotifyMarks());
            addUserLimit(userLimits, Protocol.USER_LIMIT_NAMESPACES, l.namespaces());
        }
        int ptyMax = (namespaces & Protocol.CLONE_NEWNS) != 0 ? (int) l.ptys().orElse(0) : 0;
        long timeoutMs = policy.timeout().map(SpecEncoder::positiveMillis).orElse(0L);
        return new SandboxSpec(command, env, cwd.toString(), namespaces, policy.uid(),
                policy.gid(), policy.hostname().orElse(null), mounts, rlimits, timeoutMs,
                policy.killGrace().toMillis(), seccompBpf, reports, guardBpf, userLimits,
                ptyMax);
    }

    /** A timeout shorter than 1 ms still has to be one, not "none" (0 on the wire). */
    private static long positiveMillis(Duration d) {
        return Math.max(1, d.toMillis());
    }

    private static void addUserLimit(List<SandboxSpec.UserLimitSpec> out, int limit,
            OptionalLong v) {
        if (v.isPresent()) {
            out.add(new SandboxSpec.UserLimitSpec(limit, v.getAsLong()));
        }
    }

    private static void addLimit(List<SandboxSpec.RlimitSpec> out, int resource, OptionalLong v) {
        if (v.isPresent()) {
            out.add(new SandboxSpec.RlimitSpec(resource, v.getAsLong(), v.getAsLong()));
        }
    }

    /** The complete SPEC frame (header included) for {@code spec}. */
    public static byte[] encode(SandboxSpec spec) throws SpecException {
        Writer w = new Writer();
        w.u32(Protocol.MAGIC);
        w.u32(Protocol.VERSION);
        if (spec.argv().isEmpty()) {
            throw new SpecException("the command is empty");
        }
        if (spec.argv().size() > Protocol.MAX_ARGS) {
            throw new SpecException("the command has " + spec.argv().size()
                    + " arguments, at most " + Protocol.MAX_ARGS);
        }
        for (String arg : spec.argv()) {
            w.stringField(Protocol.F_ARG, arg, "argument");
        }
        if (spec.environment().size() > Protocol.MAX_ENV) {
            throw new SpecException("the environment has " + spec.environment().size()
                    + " variables, at most " + Protocol.MAX_ENV);
        }
        for (String var : spec.environment()) {
            w.stringField(Protocol.F_ENV, var, "environment variable");
        }
        if (!spec.cwd().startsWith("/")) {
            throw new SpecException("the working directory " + spec.cwd() + " is not absolute");
        }
        w.stringField(Protocol.F_CWD, spec.cwd(), "working directory");
        w.u32Field(Protocol.F_NAMESPACES, spec.namespaces());
        w.u32Field(Protocol.F_UID, spec.uid());
        w.u32Field(Protocol.F_GID, spec.gid());
        if (spec.hostname() != null) {
            byte[] h = spec.hostname().getBytes(StandardCharsets.UTF_8);
            if (h.length == 0 || h.length > Protocol.MAX_HOSTNAME) {
                throw new SpecException("the hostname must be 1.." + Protocol.MAX_HOSTNAME
                        + " bytes");
            }
            w.stringField(Protocol.F_HOSTNAME, spec.hostname(), "hostname");
        }
        if (spec.mounts().size() > Protocol.MAX_MOUNTS) {
            throw new SpecException(spec.mounts().size() + " mounts, at most "
                    + Protocol.MAX_MOUNTS);
        }
        for (SandboxSpec.MountSpec m : spec.mounts()) {
            byte[] src = checked(m.source(), "mount source");
            byte[] dst = checked(m.target(), "mount target");
            w.fieldHeader(Protocol.F_MOUNT, 4 + 4 + 8 + 4 + src.length + 4 + dst.length);
            w.u32(m.type());
            w.u32(m.flags());
            w.u64(m.size());
            w.u32(src.length);
            w.bytes(src);
            w.u32(dst.length);
            w.bytes(dst);
        }
        if (spec.rlimits().size() > Protocol.MAX_RLIMITS) {
            throw new SpecException(spec.rlimits().size() + " rlimits, at most "
                    + Protocol.MAX_RLIMITS);
        }
        for (SandboxSpec.RlimitSpec r : spec.rlimits()) {
            w.fieldHeader(Protocol.F_RLIMIT, 4 + 4 + 8 + 8);
            w.u32(r.resource());
            w.u32(0);
            w.u64(r.soft());
            w.u64(r.hard());
        }
        if (spec.timeoutMs() < 0 || spec.killGraceMs() < 0) {
            throw new SpecException("negative timeout or kill grace");
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
        program(w, Protocol.F_GUARD_BPF, spec.guardBpf(), "set-id guard");
        program(w, Protocol.F_SECCOMP_BPF, spec.seccompBpf(), "seccomp");
        if (!spec.reports().isEmpty()) {
            if (spec.seccompBpf() == null) {
                throw new SpecException("reported system calls without a seccomp program");
            }
            if (spec.reports().size() > Protocol.MAX_REPORTS) {
                throw new SpecException(spec.reports().size() + " reported system calls, at"
                        + " most " + Protocol.MAX_REPORTS);
            }
            Set<Integer> seen = new HashSet<>();
            for (SandboxSpec.ReportSpec r : spec.reports()) {
                if (r.syscall() < 0 || r.errno() < 0 || r.errno() > 4095) {
                    throw new SpecException("reported system call " + r.syscall()
                            + " with errno " + r.errno() + ": need a syscall number >= 0 and"
                            + " an errno 0..4095");
                }
                if (!seen.add(r.syscall())) {
                    throw new SpecException("system call " + r.syscall()
                            + " is reported twice");
                }
                w.fieldHeader(Protocol.F_REPORT, r.masks() == null ? 8 : 8 + 6 * 8);
                w.u32(r.syscall());
                w.u32(r.errno());
                if (r.masks() != null) {
                    for (long mask : r.masks()) {
                        w.u64(mask);
                    }
                }
            }
        }
        byte[] payload = w.toByteArray();
        if (payload.length > Protocol.MAX_SPEC_SIZE) {
            throw new SpecException("the spec is " + payload.length + " bytes, at most "
                    + Protocol.MAX_SPEC_SIZE + " (command line and environment too large)");
        }
        Writer frame = new Writer();
        frame.u32(Protocol.MSG_SPEC);
        frame.u32(payload.length);
        frame.bytes(payload);
        return frame.toByteArray();
    }

    private static void program(Writer w, int tag, byte[] bpf, String what)
            throws SpecException {
        if (bpf == null) {
            return;
        }
        if (bpf.length == 0 || bpf.length % Protocol.BPF_INSN_SIZE != 0
                || bpf.length / Protocol.BPF_INSN_SIZE > Protocol.MAX_BPF_INSNS) {
            throw new SpecException("the " + what + " program has " + bpf.length + " bytes: it"
                    + " must be 1.." + Protocol.MAX_BPF_INSNS + " instructions of "
                    + Protocol.BPF_INSN_SIZE + " bytes");
        }
        w.fieldHeader(tag, bpf.length);
        w.bytes(bpf);
    }

    /** The KILL frame for {@code mode} (Protocol.KILL_GRACEFUL or KILL_NOW). */
    public static byte[] killFrame(int mode) {
        Writer w = new Writer();
        w.u32(Protocol.MSG_KILL);
        w.u32(4);
        w.u32(mode);
        return w.toByteArray();
    }

    private static byte[] checked(String s, String what) throws SpecException {
        if (s.indexOf('\0') >= 0) {
            throw new SpecException("the " + what + " contains a NUL character: "
                    + s.replace("\0", "\\0"));
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > Protocol.MAX_STRING) {
            throw new SpecException("the " + what + " is " + b.length + " bytes long, at most "
                    + Protocol.MAX_STRING);
        }
        return b;
    }

    /** A little-endian byte sink. */
    private static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

        void u32(int v) {
            out.write(v);
            out.write(v >>> 8);
            out.write(v >>> 16);
            out.write(v >>> 24);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void bytes(byte[] b) {
            out.write(b, 0, b.length);
        }

        /** Stops before the payload grows past the limit, not after building all of it. */
        void fieldHeader(int tag, int length) throws SpecException {
            if ((long) out.size() + Protocol.FIELD_HEADER_SIZE + length > Protocol.MAX_SPEC_SIZE) {
                throw new SpecException("the spec is larger than " + Protocol.MAX_SPEC_SIZE
                        + " bytes (command line and environment too large)");
            }
            out.write(tag);
            out.write(tag >>> 8);
            out.write(0);
            out.write(0);
            u32(length);
        }

        void stringField(int tag, String s, String what) throws SpecException {
            byte[] b = checked(s, what);
            fieldHeader(tag, b.length);
            bytes(b);
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
            return out.toByteArray();
        }
    }
}
