package dev.stockade.internal;

import dev.stockade.Limits;
import dev.stockade.Mount;
import dev.stockade.Namespace;
import dev.stockade.SandboxPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Turns one call (command, working directory) under a built policy, with its compiled filter
 * programs, into the {@link SandboxSpec} the helper gets: every decision between a policy and
 * the wire is made here (the workspace becomes a bind, mounts are ordered, limits become
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
     * being hidden by it.
     *
     * @param argv the command, at least one element ({@code SandboxBuilder.start()} refuses an
     *     empty one, as ProcessBuilder does)
     * @param cwd the working directory inside the sandbox (absolute)
     * @throws SpecException listing every argument or path past a protocol bound
     */
    public static SandboxSpec resolve(List<String> argv, SandboxPolicy policy, Path cwd,
            FilterPrograms filters) throws SpecException {
        String dir = cwd.toString();
        checkCall(argv, dir);
        List<String> env = new ArrayList<>(policy.environment().size());
        for (Map.Entry<String, String> e : policy.environment().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        int namespaces = 0;
        for (Namespace ns : policy.namespaces()) {
            namespaces |= ns.cloneFlag();
        }
        Limits l = policy.limits();
        // The sandbox's own devpts, which the bound is for, needs its own mount namespace.
        int ptyMax = (namespaces & Protocol.CLONE_NEWNS) != 0 ? (int) l.ptys().orElse(0) : 0;
        long timeoutMs = policy.timeout().map(SpecResolver::positiveMillis).orElse(0L);
        return new SandboxSpec(argv, env, dir, namespaces, policy.uid(), policy.gid(),
                policy.hostname().orElse(null), mounts(policy), rlimits(l), timeoutMs,
                policy.killGrace().toMillis(), filters.filter(), filters.reports(),
                filters.guard(), userLimits(l, namespaces), ptyMax);
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

    /** The policy's mounts and the workspace's bind, shallowest target first. */
    private static List<SandboxSpec.MountSpec> mounts(SandboxPolicy policy) {
        List<Mount> ordered = new ArrayList<>(policy.mounts());
        policy.workspace().ifPresent(ws -> ordered.add(Mount.bind(ws, ws)));
        ordered.sort(Comparator.comparingInt(m -> m.target().normalize().getNameCount()));
        List<SandboxSpec.MountSpec> mounts = new ArrayList<>(ordered.size());
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
        return mounts;
    }

    /** Every limit set, soft = hard except for the open files' own soft limit. */
    private static List<SandboxSpec.RlimitSpec> rlimits(Limits l) {
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
        return rlimits;
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
