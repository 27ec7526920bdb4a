package dev.stockade.internal;

import dev.stockade.Limits;
import dev.stockade.Mount;
import dev.stockade.Namespace;
import dev.stockade.SandboxPolicy;
import dev.stockade.WorkspaceMode;
import dev.stockade.internal.egress.ProxyEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Turns one call (command, working directory) under a built policy, with its compiled filter
 * programs, into the {@link SandboxSpec} the helper gets: every decision between a policy and
 * the wire is made here (the workspace becomes a bind, the private home, identity files and
 * protected paths become mounts, mounts are ordered, limits become
 * rlimits, a namespace switched off drops what needs it), so that {@link SpecEncoder} only
 * writes bytes. The policy's own values were checked by {@link SandboxPolicy.Builder#build()};
 * what is checked here are the bounds that depend on the call, before anything starts.
 */
public final class SpecResolver {
    private SpecResolver() {}

    /**
     * The spec for running {@code argv} in {@code cwd} under {@code policy}. Mounts go in the
     * order the helper applies them: shallowest target first (stable for equal depth), so that
     * the workspace or a bind under {@code /tmp} lands inside the {@code /tmp} tmpfs instead of
     * being hidden by it. The protected paths are looked up in the workspace now.
     *
     * @param argv the command, at least one element ({@code SandboxBuilder.start()} refuses an
     *     empty one, as ProcessBuilder does)
     * @param cwd the working directory inside the sandbox (absolute)
     * @throws SpecException listing every argument or path past a protocol bound, or naming a
     *     protected path that goes through a symbolic link
     */
    public static SandboxSpec resolve(List<String> argv, SandboxPolicy policy, Path cwd,
            FilterPrograms filters) throws SpecException {
        return resolve(argv, policy, cwd, filters, () -> null, null, null);
    }

    /**
     * As {@link #resolve(List, SandboxPolicy, Path, FilterPrograms)}, with what decides a
     * best-effort memory bound: {@code cgroupUnusable} returns {@code null} where a cgroup is
     * usable, else why not (the probe's reason). It is asked only for a best-effort bound; any
     * other cgroup limit is always sent, and the helper fails closed where it cannot apply it.
     * {@code egressSocket} is the host path of the sandbox's egress proxy socket for a policy
     * with an allow list (bound read-only at {@code STK_EGRESS_SOCKET}, the forwarder asked
     * for with {@code egressToken}, the tools' proxy variables set), {@code null} otherwise.
     */
    public static SandboxSpec resolve(List<String> argv, SandboxPolicy policy, Path cwd,
            FilterPrograms filters, Supplier<String> cgroupUnusable, Path egressSocket,
            byte[] egressToken) throws SpecException {
        return resolve(argv, policy, policy.environment(), cwd, filters, cgroupUnusable,
                egressSocket, egressToken);
    }

    /**
     * As {@link #resolve(List, SandboxPolicy, Path, FilterPrograms, Supplier, Path, byte[])},
     * with the command's {@code environment}: the policy's with the start's own additions
     * ({@code SandboxBuilder.environment()}).
     */
    public static SandboxSpec resolve(List<String> argv, SandboxPolicy policy,
            Map<String, String> environment, Path cwd, FilterPrograms filters,
            Supplier<String> cgroupUnusable, Path egressSocket, byte[] egressToken)
            throws SpecException {
        return resolve(command(argv, environment, cwd, egressSocket != null), policy, filters,
                cgroupUnusable, egressSocket, egressToken, protectedPaths(policy));
    }

    /**
     * The spec of a warm sandbox ({@code STK_F_WARM}, written by
     * {@link SpecEncoder#encodeWarm}): everything of {@link #resolve(List, SandboxPolicy, Map,
     * Path, FilterPrograms, Supplier, Path, byte[])} but the command, whose argv, environment and
     * working directory {@link #command} resolves when it starts; the spec's own are empty.
     * With it, the fingerprint of the workspace its protected paths were resolved from (the
     * same walk), for {@link #workspace} to be compared with at the start.
     */
    public static WarmSpec resolveWarm(SandboxPolicy policy, FilterPrograms filters,
            Supplier<String> cgroupUnusable, Path egressSocket, byte[] egressToken)
            throws SpecException {
        ProtectedPaths walk = protectedPaths(policy);
        SandboxSpec spec = resolve(new SandboxSpec.CommandSpec(List.of(), List.of(), ""),
                policy, filters, cgroupUnusable, egressSocket, egressToken, walk);
        return new WarmSpec(spec, walk == null ? WorkspaceFingerprint.NONE : walk.fingerprint());
    }

    /**
     * A warm sandbox's spec and the workspace it was resolved for.
     *
     * @param spec the warm spec
     * @param workspace the fingerprint of the walk its protected paths came from
     */
    public record WarmSpec(SandboxSpec spec, WorkspaceFingerprint workspace) {}

    /**
     * The workspace as a spec resolved now would see it: compared with a warm sandbox's,
     * {@link WarmSpec#workspace()} (as it is once set up), at its start.
     *
     * @throws SpecException when a protected path goes through a symbolic link (a cold start
     *     fails the same way)
     */
    public static WorkspaceFingerprint workspace(SandboxPolicy policy) throws SpecException {
        ProtectedPaths walk = protectedPaths(policy);
        return walk == null ? WorkspaceFingerprint.NONE : walk.fingerprint();
    }

    /** One walk of the workspace's protected paths, {@code null} when it has none in a view. */
    private static ProtectedPaths protectedPaths(SandboxPolicy policy) throws SpecException {
        Path workspace = policy.workspace().orElse(null);
        if (workspace == null || !policy.namespaces().contains(Namespace.MOUNT)) {
            return null;
        }
        return ProtectedPaths.walk(workspace, policy.protectedPaths());
    }

    /**
     * The command's part of a spec: {@code argv}, its {@code environment} (the policy's, with
     * the start's own additions; the proxy variables put over it when the sandbox has an
     * egress proxy) and {@code cwd}, each checked against the protocol's bounds. A cold spec
     * carries it; a warm sandbox gets it in its COMMAND frame.
     *
     * @throws SpecException listing every argument or path past a protocol bound
     */
    public static SandboxSpec.CommandSpec command(List<String> argv,
            Map<String, String> environment, Path cwd, boolean egress) throws SpecException {
        String dir = cwd.toString();
        checkCall(argv, dir);
        Map<String, String> sent = egress
                ? ProxyEnvironment.apply(environment, Protocol.EGRESS_PORT)
                : environment;
        List<String> env = new ArrayList<>(sent.size());
        for (Map.Entry<String, String> e : sent.entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        return new SandboxSpec.CommandSpec(argv, env, dir);
    }

    private static SandboxSpec resolve(SandboxSpec.CommandSpec command, SandboxPolicy policy,
            FilterPrograms filters, Supplier<String> cgroupUnusable, Path egressSocket,
            byte[] egressToken, ProtectedPaths walk) throws SpecException {
        int namespaces = 0;
        for (Namespace ns : policy.namespaces()) {
            namespaces |= ns.cloneFlag();
        }
        Limits l = policy.limits();
        // The sandbox's own devpts, which the bound is for, needs its own mount namespace.
        int ptyMax = (namespaces & Protocol.CLONE_NEWNS) != 0 ? (int) l.ptys().orElse(0) : 0;
        long timeoutMs = policy.timeout().map(SpecResolver::positiveMillis).orElse(0L);
        List<String> notes = new ArrayList<>();
        boolean memoryFallback = memoryFallback(l, cgroupUnusable, notes);
        OptionalLong processes = processes(l, egressSocket != null);
        SandboxSpec.CgroupSpec cgroup = cgroup(l, memoryFallback, processes);
        return new SandboxSpec(command.argv(), command.environment(), command.cwd(), namespaces,
                policy.uid(), policy.gid(),
                policy.hostname().orElse(null), mounts(policy, egressSocket, walk),
                rlimits(l, cgroup, memoryFallback, processes),
                timeoutMs, policy.killGrace().toMillis(), filters.filter(), filters.reports(),
                filters.guard(), userLimits(l, namespaces), ptyMax, cgroup, notes,
                policy.maxOutputBytes().orElse(0), policy.killsAtMaxOutput()
                        ? Protocol.OUTPUT_KILL : Protocol.OUTPUT_DROP,
                egressSocket == null ? null : new SandboxSpec.EgressSpec(
                        Protocol.EGRESS_PORT, Protocol.EGRESS_MAX_CONNECTIONS, egressToken,
                        Protocol.EGRESS_SOCKET));
    }

    /**
     * Whether a best-effort memory bound falls back to the per-process one (no usable cgroup);
     * the note saying so goes to {@code notes}.
     */
    private static boolean memoryFallback(Limits l,
            Supplier<String> cgroupUnusable, List<String> notes) {
        if (l.memoryBytes().isEmpty() || !l.memoryBestEffort()) {
            return false;
        }
        String why = cgroupUnusable.get();
        if (why == null) {
            return false;
        }
        long memory = l.memoryBytes().getAsLong();
        long perProcess = l.memoryPerProcessBytes().orElse(memory);
        notes.add("memory " + memory + " bytes (best effort): no usable cgroup (" + why
                + "); each process is bounded instead to " + perProcess
                + " bytes of private memory (RLIMIT_DATA)");
        return true;
    }

    /**
     * The sandbox's cgroup limits, or {@code null} for none: a memory bound (unless best-effort
     * where no cgroup is usable: then the per-process bound stands in, and a note says so) or a
     * CPU share puts the sandbox in cgroups of its own, and then its process bound is
     * {@code pids.max} there instead of {@code RLIMIT_NPROC}.
     */
    private static SandboxSpec.CgroupSpec cgroup(Limits l, boolean memoryFallback,
            OptionalLong processes) {
        long memory = memoryFallback ? 0 : l.memoryBytes().orElse(0);
        int quota = 0;
        if (l.cpus() != Limits.CPUS_UNSET) {
            quota = (int) Math.max(Protocol.MIN_CPU_QUOTA_US,
                    Math.round(l.cpus() * Limits.CPU_PERIOD_US));
        }
        if (memory == 0 && quota == 0) {
            return null;
        }
        long swap = memory > 0 ? l.memorySwapBytes().orElse(-1) : -1;
        return new SandboxSpec.CgroupSpec(memory, swap, processes.orElse(0), quota,
                (int) Limits.CPU_PERIOD_US);
    }

    /** The call's own bounds: how many arguments, and each argument and the directory. */
    private static void checkCall(List<String> argv, String dir) throws SpecException {
        List<String> problems = new ArrayList<>();
        if (argv.size() > Protocol.MAX_ARGS) {
            problems.add("the command has " + argv.size() + " arguments, at most "
                    + Protocol.MAX_ARGS);
        }
        for (int i = 0; i < argv.size(); i++) {
            checkString(problems, "argument " + i, argv.get(i));
        }
        checkString(problems, "the working directory", dir);
        if (!problems.isEmpty()) {
            throw new SpecException(String.join("; ", problems));
        }
    }

    private static void checkString(List<String> problems, String what, String s) {
        if (s.indexOf('\0') >= 0) {
            problems.add(what + " contains a NUL character: " + s.replace("\0", "\\0"));
        } else if (!WireStrings.fits(s, Protocol.MAX_STRING)) {
            problems.add(WireStrings.tooLong(what, s, Protocol.MAX_STRING));
        }
    }

    /**
     * The whole view but {@code /proc} and {@code /dev}, shallowest target first (stable for
     * equal depth, so a policy's mounts keep their order): the policy's mounts, the workspace's
     * bind, the private home and what is put into it, the identity files, the protected paths
     * as {@code walk} found them. Nothing without a mount namespace of its own (the policy
     * allows no mount then).
     */
    private static List<SandboxSpec.MountSpec> mounts(SandboxPolicy policy, Path egressSocket,
            ProtectedPaths walk) throws SpecException {
        if (!policy.namespaces().contains(Namespace.MOUNT)) {
            return List.of();
        }
        // A root caller's writable binds are idmapped to their source's owner: design rule 7
        // holds (the command is an unprivileged uid without capabilities) and what it writes
        // is the owner's. Safe only with the set-id guard, which is there exactly when set-id
        // files are not allowed, and without CAP_SETFCAP, which the guard keeps from the
        // command by refusing it a user namespace of its own (SandboxFilters).
        int writableFlags = idmapsWritableBinds(policy) ? Protocol.MOUNT_IDMAP_OWNER : 0;
        List<SandboxSpec.MountSpec> mounts = new ArrayList<>();
        Set<Path> taken = new HashSet<>();
        for (Mount m : policy.mounts()) {
            checkWritable(m);
            mounts.add(spec(m, writableFlags));
            taken.add(m.target());
        }
        Path workspace = policy.workspace().orElse(null);
        if (workspace != null) {
            // Transactional too: what the step changes there is applied to it on success.
            Installation.checkNotWritable(workspace, "the workspace " + workspace);
        }
        if (workspace != null && policy.workspaceMode() == WorkspaceMode.TRANSACTIONAL) {
            // The real workspace is only ever the lower layer: the step's changes stay in the
            // upper tmpfs, which the helper passes back with EXITED (WorkspaceCommit).
            mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_OVERLAY,
                    Protocol.MOUNT_TRANSACTIONAL, policy.workspaceQuotaBytes(),
                    workspace.toString(), workspace.toString()));
            taken.add(workspace);
        } else if (workspace != null) {
            mounts.add(spec(Mount.bind(workspace, workspace), writableFlags));
            taken.add(workspace);
        }
        mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, Protocol.MOUNT_PRIVATE,
                policy.homeSizeBytes(), "", policy.home().toString()));
        for (Mount m : policy.homeMounts()) {
            checkWritable(m);
            mounts.add(spec(m, writableFlags));
            taken.add(m.target());
        }
        mounts.addAll(IdentityFiles.mounts(policy, taken));
        if (egressSocket != null) {
            // Read-only does not stop connect(): it keeps the name from being replaced.
            mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_BIND,
                    Protocol.MOUNT_READONLY | Protocol.MOUNT_SPECIAL, 0, egressSocket.toString(),
                    Protocol.EGRESS_SOCKET));
        }
        if (walk != null) {
            for (SandboxSpec.MountSpec p : walk.mounts()) {
                if (!coveredByAnother(Path.of(p.target()), workspace, taken)) {
                    mounts.add(p);
                }
            }
        }
        if (mounts.size() > Protocol.MAX_MOUNTS) {
            throw new SpecException("the view needs " + mounts.size() + " mounts (the"
                    + " protected paths included), at most " + Protocol.MAX_MOUNTS);
        }
        List<SandboxSpec.MountSpec> ordered = new ArrayList<>(mounts);
        ordered.sort(Comparator.comparingInt(m -> Path.of(m.target()).getNameCount()));
        return ordered;
    }

    /** A writable bind of a host directory must not expose Stockade's own installation. */
    private static void checkWritable(Mount m) throws SpecException {
        if (m.type() == Mount.Type.BIND && !m.readOnly() && !m.specialSource()) {
            Installation.checkNotWritable(m.source(), "the writable bind of " + m.source());
        }
    }

    /** A protected path under another mount inside the workspace is not the workspace's. */
    private static boolean coveredByAnother(Path p, Path workspace, Set<Path> taken) {
        for (Path t : taken) {
            if (!t.equals(workspace) && t.startsWith(workspace) && p.startsWith(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code policy}'s writable binds (the workspace among them) are idmapped to their
     * source's owner (STK_MOUNT_IDMAP_OWNER): a root caller's, unless set-id files are allowed.
     * What the command writes there is then the owner's, root's for a root-owned workspace.
     */
    public static boolean idmapsWritableBinds(SandboxPolicy policy) {
        if (!CallerIds.isRoot() || policy.allowsSetIdFiles()
                || !policy.namespaces().contains(Namespace.MOUNT)) {
            return false;
        }
        return policy.workspace().isPresent() || policy.mounts().stream()
                .anyMatch(m -> m.type() == Mount.Type.BIND && !m.readOnly());
    }

    private static SandboxSpec.MountSpec spec(Mount m, int writableFlags) {
        String target = m.target().toString();
        return switch (m.type()) {
            case BIND -> new SandboxSpec.MountSpec(Protocol.MOUNT_BIND,
                    (m.readOnly() ? Protocol.MOUNT_READONLY : writableFlags)
                            | (m.idmapped() ? Protocol.MOUNT_IDMAP : 0)
                            | (m.specialSource() ? Protocol.MOUNT_SPECIAL : 0),
                    0, m.source().toString(), target);
            case TMPFS -> new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, m.sizeBytes(), "",
                    target);
            case SYMLINK -> new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0,
                    m.linkTarget(), target);
            case OVERLAY -> new SandboxSpec.MountSpec(Protocol.MOUNT_OVERLAY, 0, m.sizeBytes(),
                    m.source().toString(), target);
        };
    }

    /**
     * Every limit set, soft = hard except for the open files' own soft limit and CPU time: its
     * hard limit is one second above the soft one, so the command gets SIGXCPU (which says
     * why it died) before the kernel's SIGKILL at the hard limit, which looks like any kill.
     */
    private static List<SandboxSpec.RlimitSpec> rlimits(Limits l, SandboxSpec.CgroupSpec cgroup,
            boolean memoryFallback, OptionalLong processes) {
        List<SandboxSpec.RlimitSpec> rlimits = new ArrayList<>();
        if (l.openFiles().isPresent()) {
            rlimits.add(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE,
                    l.openFilesSoft().orElse(l.openFiles().getAsLong()),
                    l.openFiles().getAsLong()));
        }
        if (cgroup == null || cgroup.pidsMax() == 0) {
            addLimit(rlimits, Protocol.RLIMIT_NPROC, processes);
        }
        addLimit(rlimits, Protocol.RLIMIT_FSIZE, l.fileSizeBytes());
        if (l.cpuTimeSeconds().isPresent()) {
            long soft = l.cpuTimeSeconds().getAsLong();
            rlimits.add(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CPU, soft,
                    soft + Limits.CPU_TIME_KILL_AFTER_SECONDS));
        }
        addLimit(rlimits, Protocol.RLIMIT_AS, l.addressSpaceBytes());
        OptionalLong data = l.memoryPerProcessBytes();
        if (data.isEmpty() && memoryFallback) {
            data = l.memoryBytes(); // the best-effort fallback (the note says so)
        }
        addLimit(rlimits, Protocol.RLIMIT_DATA, data);
        addLimit(rlimits, Protocol.RLIMIT_STACK, l.stackBytes());
        addLimit(rlimits, Protocol.RLIMIT_CORE, l.coreBytes());
        return rlimits;
    }

    /**
     * The process bound sent: the policy's, and one more with the egress forwarder, a process
     * of the sandbox (and of the command's uid) that the command did not ask for.
     */
    private static OptionalLong processes(Limits l, boolean egress) {
        if (l.processes().isEmpty() || !egress) {
            return l.processes();
        }
        return OptionalLong.of(Math.min(l.processes().getAsLong() + 1, Protocol.MAX_PIDS));
    }

    private static void addLimit(List<SandboxSpec.RlimitSpec> out, int resource, OptionalLong v) {
        if (v.isPresent()) {
            out.add(new SandboxSpec.RlimitSpec(resource, v.getAsLong(), v.getAsLong()));
        }
    }

    /**
     * The user namespace's own bounds; none without a user namespace of its own, where they
     * would be the host's.
     */
    private static List<SandboxSpec.UserLimitSpec> userLimits(Limits l, int namespaces) {
        List<SandboxSpec.UserLimitSpec> userLimits = new ArrayList<>();
        if ((namespaces & Protocol.CLONE_NEWUSER) != 0) {
            addUserLimit(userLimits, Protocol.USER_LIMIT_INOTIFY_INSTANCES, l.inotifyInstances());
            addUserLimit(userLimits, Protocol.USER_LIMIT_INOTIFY_WATCHES, l.inotifyWatches());
            addUserLimit(userLimits, Protocol.USER_LIMIT_FANOTIFY_GROUPS, l.fanotifyGroups());
            addUserLimit(userLimits, Protocol.USER_LIMIT_FANOTIFY_MARKS, l.fanotifyMarks());
            addUserLimit(userLimits, Protocol.USER_LIMIT_NAMESPACES, l.namespaces());
        }
        return userLimits;
    }

    private static void addUserLimit(List<SandboxSpec.UserLimitSpec> out, int limit,
            OptionalLong v) {
        if (v.isPresent()) {
            out.add(new SandboxSpec.UserLimitSpec(limit, v.getAsLong()));
        }
    }

    /** A timeout shorter than 1 ms still has to be one, not "none" (0 on the wire). */
    private static long positiveMillis(Duration d) {
        return Math.max(1, d.toMillis());
    }
}
