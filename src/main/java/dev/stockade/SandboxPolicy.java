package dev.stockade;

import dev.stockade.internal.CallerIds;
import dev.stockade.internal.Protocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a sandboxed command may do: namespaces, network, filesystem view, environment, limits,
 * identity and system call filter. Immutable and reusable: build one policy and start any number
 * of sandboxes with it (its seccomp program is compiled once).
 *
 * <p>{@link #defaults()} (and a fresh {@link #builder()}) means: every namespace, no network, the
 * host root read-only with a 512 MiB tmpfs at {@code /tmp} ({@link #DEFAULT_TMP_SIZE_BYTES}) and a
 * 16 MiB one at {@code /run} ({@link #DEFAULT_RUN_SIZE_BYTES}), no
 * workspace, an environment of only {@code PATH}, {@code HOME}, and {@code LANG}/{@code TERM}
 * when the caller has them, core dumps off, no timeout, a {@link #DEFAULT_KILL_GRACE} of 2 s,
 * the caller's uid/gid (65534 when the caller is root: the command never runs as host root),
 * hostname {@code "stockade"}, and {@link SeccompProfile#defaults()}.
 *
 * <p>{@link Builder#build()} validates everything and reports every problem at once in a
 * {@link PolicyException}.
 */
public final class SandboxPolicy {
    /** Size of the default tmpfs at {@code /tmp}: room for a build's temporary files. */
    public static final long DEFAULT_TMP_SIZE_BYTES = 512L * 1024 * 1024;
    /**
     * Size of the default tmpfs at {@code /run}. It hides the host's {@code /run} (and
     * {@code /var/run}, a link to it): a read-only mount does not stop {@code connect()} on a
     * UNIX socket file, so without it a step could talk to the host's daemons (D-Bus,
     * {@code docker.sock}) despite having no network.
     */
    public static final long DEFAULT_RUN_SIZE_BYTES = 16L * 1024 * 1024;
    /** Time between SIGTERM and SIGKILL when a sandbox is stopped gracefully or times out. */
    public static final Duration DEFAULT_KILL_GRACE =
            Duration.ofMillis(Protocol.DEFAULT_KILL_GRACE_MS);
    /** The hostname inside the sandbox unless the policy sets one. */
    public static final String DEFAULT_HOSTNAME = Protocol.DEFAULT_HOSTNAME;
    /** {@code PATH} inside the sandbox unless the policy sets one. */
    public static final String DEFAULT_PATH = Protocol.DEFAULT_PATH;
    /** {@code HOME} inside the sandbox unless the policy sets one (the tmpfs). */
    public static final String DEFAULT_HOME = "/tmp";
    /** The uid and gid a root caller's command runs as unless the policy sets them ("nobody"). */
    public static final int ROOT_CALLER_DEFAULT_ID = Protocol.NOBODY_ID;

    private static volatile SandboxPolicy defaults;

    private final Path workspace;
    private final Set<Namespace> namespaces;
    private final List<Mount> mounts;
    private final Map<String, String> environment;
    private final Limits limits;
    private final Duration timeout;
    private final Duration killGrace;
    private final int uid;
    private final int gid;
    private final String hostnameSetting;
    private final SeccompProfile seccomp;
    private final boolean allowSetIdFiles;

    private SandboxPolicy(Builder b, Map<String, String> environment, int uid, int gid) {
        this.workspace = b.workspace == null ? null : b.workspace.normalize();
        this.namespaces = Collections.unmodifiableSet(EnumSet.copyOf(b.namespaces));
        List<Mount> normalized = new ArrayList<>();
        for (Mount m : b.mounts) {
            normalized.add(new Mount(m.type(), m.source() == null ? null : m.source().normalize(),
                    m.target().normalize(), m.readOnly(), m.sizeBytes(), m.idmapped(),
                    m.specialSource()));
        }
        this.mounts = List.copyOf(normalized);
        this.environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        this.limits = b.limits;
        this.timeout = b.timeout;
        this.killGrace = b.killGrace;
        this.uid = uid;
        this.gid = gid;
        this.hostnameSetting = b.hostname;
        this.seccomp = b.seccomp;
        this.allowSetIdFiles = b.allowSetIdFiles;
    }

    /**
     * The default policy (see the class description). Built once per JVM, so the
     * {@code LANG}/{@code TERM} it passes are the caller's at that time.
     */
    public static SandboxPolicy defaults() {
        SandboxPolicy p = defaults;
        if (p == null) {
            p = builder().build();
            defaults = p;
        }
        return p;
    }

    /** A builder holding the default settings. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this policy's settings; its environment is this policy's complete
     * environment (values passed from the caller stay as they were captured).
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.workspace = workspace;
        b.namespaces.clear();
        b.namespaces.addAll(namespaces);
        b.mounts.clear();
        b.mounts.addAll(mounts);
        b.baseEnvironment = false;
        b.env.putAll(environment);
        b.limits = limits;
        b.timeout = timeout;
        b.killGrace = killGrace;
        b.uid = uid;
        b.gid = gid;
        b.hostname = hostnameSetting;
        b.seccomp = seccomp;
        b.allowSetIdFiles = allowSetIdFiles;
        return b;
    }

    /** The host directory bound read-write at the same path inside, if any. */
    public Optional<Path> workspace() {
        return Optional.ofNullable(workspace);
    }

    /** The namespaces the sandbox gets. */
    public Set<Namespace> namespaces() {
        return namespaces;
    }

    /** {@link Network#HOST} exactly when the {@link Namespace#NETWORK} namespace is off. */
    public Network network() {
        return namespaces.contains(Namespace.NETWORK) ? Network.NONE : Network.HOST;
    }

    /** The mounts added to the base view (the workspace is not among them). */
    public List<Mount> mounts() {
        return mounts;
    }

    /** The command's complete environment, in the order it is passed. */
    public Map<String, String> environment() {
        return environment;
    }

    public Limits limits() {
        return limits;
    }

    /** The wall-clock limit from the command's start; empty for none. */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /** The time between SIGTERM and SIGKILL for timeouts and {@link Process#destroy()}. */
    public Duration killGrace() {
        return killGrace;
    }

    /** The command's uid inside the sandbox. */
    public int uid() {
        return uid;
    }

    /** The command's gid inside the sandbox. */
    public int gid() {
        return gid;
    }

    /**
     * The hostname inside the sandbox: the one set, or {@link #DEFAULT_HOSTNAME}; empty when the
     * {@link Namespace#UTS} namespace is off (the host's name shows).
     */
    public Optional<String> hostname() {
        if (!namespaces.contains(Namespace.UTS)) {
            return Optional.empty();
        }
        return Optional.of(hostnameSetting == null ? DEFAULT_HOSTNAME : hostnameSetting);
    }

    public SeccompProfile seccomp() {
        return seccomp;
    }

    /**
     * Whether the command may create set-user-ID and set-group-ID files ({@code false} by
     * default: the set-id guard, a seccomp filter under every profile, refuses them with EPERM).
     */
    public boolean allowsSetIdFiles() {
        return allowSetIdFiles;
    }

    @Override
    public String toString() {
        return "SandboxPolicy[workspace=" + workspace + ", namespaces=" + namespaces
                + ", mounts=" + mounts + ", env=" + environment.keySet() + ", limits=" + limits
                + ", timeout=" + timeout + ", killGrace=" + killGrace + ", uid=" + uid
                + ", gid=" + gid + ", hostname=" + hostname().orElse("(host)") + ", seccomp="
                + seccomp + (allowSetIdFiles ? ", set-id files allowed" : "") + "]";
    }

    /**
     * Builds a {@link SandboxPolicy}. Setters only record values; {@link #build()} checks them
     * all and reports every problem at once.
     */
    public static final class Builder {
        private Path workspace;
        private final EnumSet<Namespace> namespaces = EnumSet.allOf(Namespace.class);
        private final List<Mount> mounts = new ArrayList<>(List.of(
                Mount.tmpfs(Path.of("/tmp"), DEFAULT_TMP_SIZE_BYTES),
                Mount.tmpfs(Path.of("/run"), DEFAULT_RUN_SIZE_BYTES)));
        private boolean baseEnvironment = true;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final Set<String> passEnv = new LinkedHashSet<>();
        private final Set<String> unsetEnv = new LinkedHashSet<>();
        private Limits limits = Limits.defaults();
        private Duration timeout;
        private Duration killGrace = DEFAULT_KILL_GRACE;
        private Integer uid;
        private Integer gid;
        private String hostname;
        private SeccompProfile seccomp = SeccompProfile.defaults();
        private boolean allowSetIdFiles;

        private Builder() {}

        /**
         * Binds host directory {@code dir} read-write at the same path inside the sandbox, and
         * makes it the default working directory; {@code null} removes it.
         */
        public Builder workspace(Path dir) {
            this.workspace = dir;
            return this;
        }

        /**
         * Switches namespaces off ({@link Namespace#USER} only when the caller is root). Each
         * one switched off is isolation given up: without {@link Namespace#PID}, for example,
         * the command sees the host's processes and may signal those of its own host uid (the
         * caller's, or for a root caller every other sandbox and host process running as
         * 65534), and a process that leaves the command's session outlives the sandbox.
         */
        public Builder disable(Namespace... which) {
            for (Namespace ns : which) {
                namespaces.remove(Objects.requireNonNull(ns));
            }
            return this;
        }

        /** Switches namespaces back on. */
        public Builder enable(Namespace... which) {
            for (Namespace ns : which) {
                namespaces.add(Objects.requireNonNull(ns));
            }
            return this;
        }

        /** {@link Network#NONE} turns the network namespace on, {@link Network#HOST} off. */
        public Builder network(Network network) {
            if (Objects.requireNonNull(network, "network") == Network.NONE) {
                namespaces.add(Namespace.NETWORK);
            } else {
                namespaces.remove(Namespace.NETWORK);
            }
            return this;
        }

        /** Binds host path {@code source} read-only at {@code target}. */
        public Builder bindReadOnly(Path source, Path target) {
            return mount(Mount.bindReadOnly(source, target));
        }

        /** Binds host path {@code source} read-write at {@code target}. */
        public Builder bind(Path source, Path target) {
            return mount(Mount.bind(source, target));
        }

        /** A fresh tmpfs of {@code sizeBytes} at {@code target} (replaces nothing: see build). */
        public Builder tmpfs(Path target, long sizeBytes) {
            return mount(Mount.tmpfs(target, sizeBytes));
        }

        /** Adds a mount. Two mounts on the same target are a problem reported by build(). */
        public Builder mount(Mount mount) {
            mounts.add(Objects.requireNonNull(mount, "mount"));
            return this;
        }

        /** Removes every mount, the default {@code /tmp} tmpfs included (not the workspace). */
        public Builder clearMounts() {
            mounts.clear();
            return this;
        }

        /** Removes the mounts whose target is {@code target}. */
        public Builder removeMount(Path target) {
            Path t = target.normalize();
            mounts.removeIf(m -> m.target().normalize().equals(t));
            return this;
        }

        /** Sets a variable in the command's environment (overrides defaults and passEnv). */
        public Builder env(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            env.put(name, value);
            unsetEnv.remove(name);
            return this;
        }

        /** Passes the caller's value of {@code name}, read at {@link #build()}, if it is set. */
        public Builder passEnv(String name) {
            passEnv.add(Objects.requireNonNull(name, "name"));
            unsetEnv.remove(name);
            return this;
        }

        /** Removes a variable, a default one ({@code LANG}, {@code TERM}...) included. */
        public Builder unsetEnv(String name) {
            Objects.requireNonNull(name, "name");
            env.remove(name);
            passEnv.remove(name);
            unsetEnv.add(name);
            return this;
        }

        public Builder limits(Limits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Wall-clock limit from the command's start; when it expires the sandbox gets SIGTERM,
         * then SIGKILL after the kill grace, and the result says {@code timedOut}. {@code null}
         * for none (the default); at most 10^12 ms (about 31 years), like the kill grace.
         */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Time between SIGTERM and SIGKILL (default {@link SandboxPolicy#DEFAULT_KILL_GRACE}). */
        public Builder killGrace(Duration killGrace) {
            this.killGrace = Objects.requireNonNull(killGrace, "killGrace");
            return this;
        }

        /** The command's uid inside the sandbox. */
        public Builder uid(int uid) {
            this.uid = uid;
            return this;
        }

        /** The command's gid inside the sandbox. */
        public Builder gid(int gid) {
            this.gid = gid;
            return this;
        }

        /** The hostname inside (needs {@link Namespace#UTS}); {@code null} for the default. */
        public Builder hostname(String hostname) {
            this.hostname = hostname;
            return this;
        }

        public Builder seccomp(SeccompProfile profile) {
            this.seccomp = Objects.requireNonNull(profile, "profile");
            return this;
        }

        /**
         * Lets the command create set-user-ID and set-group-ID files (default {@code false}).
         * Unsafe with a writable workspace: {@code nosuid} holds only inside the sandbox, so such
         * a file stays set-id on the host, where any local user reaching it runs it as its owner
         * (the caller, or uid 65534 for a root caller). By default a second seccomp filter under
         * every profile, the set-id guard ({@code seccomp/setid-guard.policy}), refuses with
         * EPERM: {@code chmod}, {@code fchmod}, {@code fchmodat}, {@code fchmodat2} with either
         * bit, {@code open}, {@code openat}, {@code creat}, {@code mknod}, {@code mknodat} with
         * a mode holding either bit; {@code openat2} fails with ENOSYS (its mode is behind a
         * pointer) and {@code io_uring_setup} with EPERM (its operations would bypass the
         * guard).
         */
        public Builder allowSetIdFiles(boolean allow) {
            this.allowSetIdFiles = allow;
            return this;
        }

        /**
         * Checks every setting and returns the policy.
         *
         * @throws PolicyException listing every problem found
         */
        public SandboxPolicy build() {
            List<String> problems = new ArrayList<>();
            boolean root = CallerIds.isRoot();

            PolicyChecks.namespaces(problems, namespaces);
            PolicyChecks.workspace(problems, workspace);
            PolicyChecks.mounts(problems, mounts, workspace, namespaces);
            Map<String, String> environment = environment();
            PolicyChecks.environment(problems, passEnv, env, environment);
            problems.addAll(limits.problems());
            PolicyChecks.durations(problems, timeout, killGrace);
            int effectiveUid = uid != null ? uid : root ? ROOT_CALLER_DEFAULT_ID : CallerIds.uid();
            int effectiveGid = gid != null ? gid : root ? ROOT_CALLER_DEFAULT_ID : CallerIds.gid();
            PolicyChecks.ids(problems, effectiveUid, effectiveGid);
            PolicyChecks.hostname(problems, hostname, namespaces);
            problems.addAll(seccomp.problems());

            if (!problems.isEmpty()) {
                throw new PolicyException(problems);
            }
            return new SandboxPolicy(this, environment, effectiveUid, effectiveGid);
        }

        /** The command's environment: the base one, passed variables, set ones, unset ones. */
        private Map<String, String> environment() {
            Map<String, String> result = new LinkedHashMap<>();
            if (baseEnvironment) {
                result.put("PATH", DEFAULT_PATH);
                result.put("HOME", DEFAULT_HOME);
                for (String name : List.of("LANG", "TERM")) {
                    String v = System.getenv(name);
                    if (v != null) {
                        result.put(name, v);
                    }
                }
            }
            for (String name : passEnv) {
                String v = System.getenv(name);
                if (v != null) {
                    result.put(name, v);
                }
            }
            result.putAll(env);
            for (String name : unsetEnv) {
                result.remove(name);
            }
            return result;
        }
    }
}
