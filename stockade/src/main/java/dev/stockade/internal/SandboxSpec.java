package dev.stockade.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Everything the helper needs to start one sandbox, already resolved to wire values: what
 * {@link SpecEncoder} writes as a SPEC frame. Built from a command and a policy by
 * {@link SpecResolver#resolve}.
 *
 * @param argv the command, argv[0] the program (at least one element)
 * @param environment "NAME=VALUE" strings, the complete environment
 * @param cwd the working directory inside the sandbox
 * @param namespaces CLONE_NEW* flags
 * @param uid the command's uid inside
 * @param gid the command's gid inside
 * @param hostname the hostname inside, or {@code null} to send none
 * @param mounts in the order the helper applies them
 * @param rlimits limits to set
 * @param timeoutMs wall-clock limit, 0 for none
 * @param killGraceMs SIGTERM to SIGKILL delay
 * @param seccompBpf the filter program, or {@code null} for none
 * @param reports the syscalls the program sends to user notification, with the errno pid 1
 *     answers them with (STK_F_REPORT fields); empty when it sends none
 * @param guardBpf the set-id guard's program (STK_F_GUARD_BPF), installed before
 *     {@code seccompBpf}, or {@code null} for none
 * @param userLimits the bounds of the sandbox's user namespace (STK_F_USER_LIMIT)
 * @param ptyMax the devpts instance's max= (STK_F_PTY_MAX), 0 for none
 * @param cgroup the sandbox's cgroup limits (STK_F_MEMORY_MAX..STK_F_CPU_MAX), or {@code null}
 *     when it has none
 * @param notes what is applied differently from the policy (a best-effort fallback), for
 *     {@code SandboxResult.notes()}; not sent
 * @param maxOutputBytes the output bound (STK_F_MAX_OUTPUT), 0 for none
 * @param outputAction what happens past it (Protocol.OUTPUT_DROP or OUTPUT_KILL)
 * @param egress the egress forwarder (STK_F_EGRESS), or {@code null} for none
 */
public record SandboxSpec(List<String> argv, List<String> environment, String cwd,
        int namespaces, int uid, int gid, String hostname, List<MountSpec> mounts,
        List<RlimitSpec> rlimits, long timeoutMs, long killGraceMs, byte[] seccompBpf,
        List<ReportSpec> reports, byte[] guardBpf, List<UserLimitSpec> userLimits,
        int ptyMax, CgroupSpec cgroup, List<String> notes, long maxOutputBytes,
        int outputAction, EgressSpec egress) {

    public SandboxSpec {
        notes = List.copyOf(notes);
        argv = List.copyOf(argv);
        environment = List.copyOf(environment);
        Objects.requireNonNull(cwd, "cwd");
        mounts = List.copyOf(mounts);
        rlimits = List.copyOf(rlimits);
        reports = List.copyOf(reports);
        userLimits = List.copyOf(userLimits);
    }

    /** A spec without cgroups or an output bound. */
    public SandboxSpec(List<String> argv, List<String> environment, String cwd, int namespaces,
            int uid, int gid, String hostname, List<MountSpec> mounts, List<RlimitSpec> rlimits,
            long timeoutMs, long killGraceMs, byte[] seccompBpf, List<ReportSpec> reports,
            byte[] guardBpf, List<UserLimitSpec> userLimits, int ptyMax) {
        this(argv, environment, cwd, namespaces, uid, gid, hostname, mounts, rlimits, timeoutMs,
                killGraceMs, seccompBpf, reports, guardBpf, userLimits, ptyMax, null, List.of(), 0,
                Protocol.OUTPUT_DROP, null);
    }

    /**
     * The command's part of a spec: argv, the complete environment ("NAME=VALUE") and the
     * working directory inside the sandbox. A warm sandbox's spec has none (all empty); its
     * COMMAND frame carries it.
     */
    public record CommandSpec(List<String> argv, List<String> environment, String cwd) {
        public CommandSpec {
            argv = List.copyOf(argv);
            environment = List.copyOf(environment);
            Objects.requireNonNull(cwd, "cwd");
        }
    }

    /**
     * The egress forwarder: the port pid 1 listens on inside, the most connections it holds at
     * once, the token it sends first on each stream (Protocol.EGRESS_TOKEN_SIZE bytes), and
     * the path inside the view of the socket it relays each one to.
     */
    public record EgressSpec(int port, int maxConnections, byte[] token, String socketPath) {
        public EgressSpec {
            Objects.requireNonNull(socketPath, "socketPath");
            if (token.length != Protocol.EGRESS_TOKEN_SIZE) {
                throw new IllegalArgumentException("the egress token has " + token.length
                        + " bytes, not " + Protocol.EGRESS_TOKEN_SIZE);
            }
            token = token.clone();
        }

        @Override
        public byte[] token() {
            return token.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof EgressSpec e && e.port == port
                    && e.maxConnections == maxConnections && Arrays.equals(e.token, token)
                    && e.socketPath.equals(socketPath);
        }

        @Override
        public int hashCode() {
            return Objects.hash(port, maxConnections, Arrays.hashCode(token), socketPath);
        }

        @Override
        public String toString() {
            return "EgressSpec[port=" + port + ", maxConnections=" + maxConnections
                    + ", socketPath=" + socketPath + "]"; // never the token
        }
    }

    /**
     * The sandbox's cgroup limits; 0 = not asked for. {@code swapMax} -1: none sent (the helper
     * then allows no swap).
     */
    public record CgroupSpec(long memoryMax, long swapMax, long pidsMax, int cpuQuotaUs,
            int cpuPeriodUs) {}

    /** A spec without a guard program. */
    public SandboxSpec(List<String> argv, List<String> environment, String cwd, int namespaces,
            int uid, int gid, String hostname, List<MountSpec> mounts, List<RlimitSpec> rlimits,
            long timeoutMs, long killGraceMs, byte[] seccompBpf, List<ReportSpec> reports) {
        this(argv, environment, cwd, namespaces, uid, gid, hostname, mounts, rlimits, timeoutMs,
                killGraceMs, seccompBpf, reports, null, List.of(), 0);
    }

    /** A spec without reported syscalls or a guard program. */
    public SandboxSpec(List<String> argv, List<String> environment, String cwd, int namespaces,
            int uid, int gid, String hostname, List<MountSpec> mounts, List<RlimitSpec> rlimits,
            long timeoutMs, long killGraceMs, byte[] seccompBpf) {
        this(argv, environment, cwd, namespaces, uid, gid, hostname, mounts, rlimits, timeoutMs,
                killGraceMs, seccompBpf, List.of(), null, List.of(), 0);
    }

    /** One STK_F_MOUNT value: type (Protocol.MOUNT_*), flags, tmpfs size, source, target. */
    public record MountSpec(int type, int flags, long size, String source, String target) {
        public MountSpec {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
        }
    }

    /** One STK_F_RLIMIT value: RLIMIT_* resource, soft and hard limit. */
    public record RlimitSpec(int resource, long soft, long hard) {}

    /**
     * One STK_F_REPORT value: a syscall number the filter sends to user notification and the
     * errno pid 1 answers it with (0: let it run).
     */
    public record ReportSpec(int syscall, int errno, long[] masks) {
        /** Counted per syscall (no masks: an 8-byte field). */
        public ReportSpec(int syscall, int errno) {
            this(syscall, errno, null);
        }

        public ReportSpec {
            if (masks != null && masks.length != 6) {
                throw new IllegalArgumentException("six argument masks, not " + masks.length);
            }
            masks = masks == null ? null : masks.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ReportSpec r && r.syscall == syscall && r.errno == errno
                    && java.util.Arrays.equals(r.masks, masks);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * syscall + errno) + java.util.Arrays.hashCode(masks);
        }

        @Override
        public String toString() {
            return "ReportSpec[syscall=" + syscall + ", errno=" + errno + ", masks="
                    + java.util.Arrays.toString(masks) + "]";
        }
    }

    /** One STK_F_USER_LIMIT value: the limit (Protocol.USER_LIMIT_*) and its value. */
    public record UserLimitSpec(int limit, long value) {}
}
