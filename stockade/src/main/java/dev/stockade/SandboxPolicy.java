package dev.stockade;

import dev.stockade.internal.BaseView;
import dev.stockade.internal.CallerIds;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.egress.EgressRules;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What a sandboxed command may do: namespaces, network, filesystem view, environment, limits,
 * identity and system call filter. Immutable and reusable: build one policy and start any number
 * of sandboxes with it (its seccomp program is compiled once).
 *
 * <p>{@link #defaults()} (and a fresh {@link #builder()}) means: every namespace, no network, the
 * minimal filesystem view (below), no workspace, an environment of only {@code PATH},
 * {@code HOME} ({@link #home()}), and {@code LANG}/{@code TERM} when the caller has them, core
 * dumps off, no timeout, a {@link #DEFAULT_KILL_GRACE} of 2 s, a {@link #DEFAULT_SETUP_TIMEOUT}
 * of 30 s, no output bound, the caller's uid/gid (65534 when
 * the caller is root: the command never runs as host root), hostname {@code "stockade"}, and
 * {@link SeccompProfile#defaults()}.
 *
 * <p>The view is built on an empty read-only root. Its mounts ({@link #mounts()}, each one the
 * caller may remove): the host's {@code /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc /opt}
 * that exist, read-only (a merged-/usr symbolic link such as {@code /bin -> usr/bin} is made
 * as the same link), a 512 MiB tmpfs at {@code /tmp} ({@link #DEFAULT_TMP_SIZE_BYTES}), a 16 MiB
 * one at {@code /run} ({@link #DEFAULT_RUN_SIZE_BYTES}) and a 512 MiB one at {@code /var/tmp}
 * ({@link #DEFAULT_VAR_TMP_SIZE_BYTES}). Besides them, settings of their own: the workspace;
 * a private, empty home at {@link #home()} ({@link Builder#homeSize}, with what
 * {@link Builder#homeReadOnly} and {@link Builder#homeOverlay} put in it); {@code /etc/passwd}
 * and {@code /etc/group} listing only the sandbox's user ({@link #userName()}) and group, and
 * {@code /etc/shadow}, {@code /etc/gshadow} empty; the {@linkplain #protectedPaths() protected
 * paths} of the workspace read-only. Not in the view: {@code /home} (but the private home),
 * {@code /root}, {@code /var} (but {@code /var/tmp}), {@code /mnt}, {@code /media},
 * {@code /srv}, {@code /sys} ({@link Builder#sys(boolean)}), and so no socket of the host.
 *
 * <p>A root caller's writable binds, the workspace among them, are idmapped to the owner of
 * their source: what the command (an unprivileged uid without capabilities) writes there is
 * the owner's on the host, so a root-owned workspace needs no {@code chown}. That is safe only
 * with the set-id guard, which stops set-id files ({@link Builder#allowSetIdFiles}); with
 * set-id files allowed the binds stay plain and are written as host uid 65534.
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
    /**
     * How long {@code start()} waits for the sandbox to be set up (the helper reported the
     * command's {@code execve}) unless the policy sets another {@link Builder#setupTimeout}.
     */
    public static final Duration DEFAULT_SETUP_TIMEOUT =
            Duration.ofSeconds(SandboxPolicy.DEFAULT_SETUP_TIMEOUT_SECONDS);
    /** {@link #DEFAULT_SETUP_TIMEOUT} in seconds (for texts that need a constant). */
    public static final long DEFAULT_SETUP_TIMEOUT_SECONDS = 30;
    /** The hostname inside the sandbox unless the policy sets one. */
    public static final String DEFAULT_HOSTNAME = Protocol.DEFAULT_HOSTNAME;
    /** {@code PATH} inside the sandbox unless the policy sets one. */
    public static final String DEFAULT_PATH = Protocol.DEFAULT_PATH;
    /**
     * Size of the default tmpfs at {@code /var/tmp}, the same as {@code /tmp}'s: tools put the
     * same kind of files there (larger, longer-lived ones by convention), and a tmpfs's size is a
     * bound, not memory taken up front.
     */
    public static final long DEFAULT_VAR_TMP_SIZE_BYTES = DEFAULT_TMP_SIZE_BYTES;
    /** Size of the private home's tmpfs unless {@link Builder#homeSize} sets one. */
    public static final long DEFAULT_HOME_SIZE_BYTES = 512L * 1024 * 1024;
    /**
     * The private home of a root caller's command (it runs as 65534, not as root, so root's
     * {@code /root} would be wrong), and of any caller whose {@code user.home} is unusable.
     */
    public static final Path ROOT_CALLER_HOME = Path.of("/home/sandbox");
    /** The sandbox user's name when the caller's own cannot be used (see {@link #userName()}). */
    public static final String DEFAULT_USER_NAME = "sandbox";
    /**
     * The paths of a workspace kept read-only by default, relative to it ({@code /} at the end:
     * a directory). Each is something that runs later on the host, outside any sandbox, when a
     * developer or CI uses the workspace: {@code .git/} — the whole repository, since git takes
     * commands from far more of it than hooks and config ({@code commondir} naming another
     * directory's config, submodules under {@code modules/}, an index entry pointing at a
     * nested repository with a config of its own); a step that must commit needs
     * {@code unprotect(".git/")}, and may then keep {@code .git/hooks/} and
     * {@code .git/config} protected — {@code .gitmodules} (submodule URLs and update
     * commands), {@code .envrc} (run by direnv on {@code cd}), {@code .vscode/} and
     * {@code .idea/} (tasks and run configurations the editors offer to run, or run). A
     * missing {@code .git} is not covered: {@code git init} works.
     */
    public static final List<String> DEFAULT_PROTECTED_PATHS = List.of(".git/", ".gitmodules",
            ".envrc", ".vscode/", ".idea/");
    /**
     * The size of a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's upper
     * layer (the most the step may change) unless {@link Builder#workspaceQuota} sets one: the
     * size of the default {@code /tmp}.
     */
    public static final long DEFAULT_WORKSPACE_QUOTA_BYTES = 512L * 1024 * 1024;
    /** The smallest {@link Builder#workspaceQuota}: the overlay's own work directory needs room. */
    public static final long MIN_WORKSPACE_QUOTA_BYTES = 64L * 1024;
    /** The uid and gid a root caller's command runs as unless the policy sets them ("nobody"). */
    public static final int ROOT_CALLER_DEFAULT_ID = Protocol.NOBODY_ID;

    private static final Path SYS = Path.of("/sys");

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
    private final Identity identity;
    private final long homeSize;
    private final List<String> homeReadOnly;
    private final List<String> homeOverlay;
    private final List<Mount> homeMounts;
    private final List<String> protectedPaths;
    private final WorkspaceMode workspaceMode;
    private final long workspaceQuota;
    private final CommitOn commitOn;
    private final Duration setupTimeout;
    private final long maxOutputBytes;
    private final boolean killAtMaxOutput;
    private final Network allowList;
    private final EgressRules egressRules;

    private SandboxPolicy(Builder b, Map<String, String> environment, int uid, int gid,
            Identity identity, EgressRules egressRules) {
        this.workspace = b.workspace == null ? null : b.workspace.normalize();
        this.namespaces = Collections.unmodifiableSet(EnumSet.copyOf(b.namespaces));
        this.mounts = b.mounts.stream().map(Mount::normalized).toList();
        this.identity = identity;
        this.homeSize = b.homeSize;
        this.homeReadOnly = List.copyOf(b.homeReadOnly);
        this.homeOverlay = List.copyOf(b.homeOverlay);
        this.homeMounts = identity.homeMounts(homeReadOnly, homeOverlay);
        this.protectedPaths = List.copyOf(b.protect);
        this.environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        this.limits = b.limits;
        this.timeout = b.timeout;
        this.killGrace = b.killGrace;
        this.uid = uid;
        this.gid = gid;
        this.hostnameSetting = b.hostname;
        this.seccomp = b.seccomp;
        this.allowSetIdFiles = b.allowSetIdFiles;
        this.workspaceMode = b.workspaceMode;
        this.workspaceQuota = b.workspaceQuota;
        this.commitOn = b.commitOn;
        this.setupTimeout = b.setupTimeout;
        this.maxOutputBytes = b.maxOutputBytes;
        this.killAtMaxOutput = b.killAtMaxOutput;
        this.allowList = b.allowList;
        this.egressRules = egressRules;
    }

    /**
     * The default policy (see the class description). Built once per JVM, so the
     * {@code LANG}/{@code TERM} it passes are the caller's at that time.
     *
     * @return the shared default policy
     */
    public static SandboxPolicy defaults() {
        SandboxPolicy p = defaults;
        if (p == null) {
            p = builder().build();
            defaults = p;
        }
        return p;
    }

    /**
     * A builder holding the default settings.
     *
     * @return a new builder, independent of every other one
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this policy's settings; its environment is this policy's complete
     * environment (values passed from the caller stay as they were captured).
     *
     * @return a new builder with every setting of this policy, to derive another policy from it
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.workspace = workspace;
        b.namespaces.clear();
        b.namespaces.addAll(namespaces);
        b.mounts.clear();
        b.mounts.addAll(mounts);
        b.allowList = allowList;
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
        b.homeSize = homeSize;
        b.homeReadOnly.addAll(homeReadOnly);
        b.homeOverlay.addAll(homeOverlay);
        b.protect.clear();
        b.protect.addAll(protectedPaths);
        b.workspaceMode = workspaceMode;
        b.workspaceQuota = workspaceQuota;
        b.commitOn = commitOn;
        b.setupTimeout = setupTimeout;
        b.maxOutputBytes = maxOutputBytes;
        b.killAtMaxOutput = killAtMaxOutput;
        return b;
    }

    /**
     * The host directory bound read-write at the same path inside, if any.
     *
     * @return the workspace's normalized path; empty when the policy has none
     */
    public Optional<Path> workspace() {
        return Optional.ofNullable(workspace);
    }

    /**
     * How the workspace is in the view ({@link WorkspaceMode#DIRECT} by default).
     *
     * @return the mode, never {@code null}
     */
    public WorkspaceMode workspaceMode() {
        return workspaceMode;
    }

    /**
     * A {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's quota: the size of
     * its upper layer, {@link #DEFAULT_WORKSPACE_QUOTA_BYTES} unless set; 0 for a direct one.
     *
     * @return the quota in bytes; 0 when the workspace is not transactional
     */
    public long workspaceQuotaBytes() {
        if (workspaceMode != WorkspaceMode.TRANSACTIONAL) {
            return 0;
        }
        return workspaceQuota > 0 ? workspaceQuota : DEFAULT_WORKSPACE_QUOTA_BYTES;
    }

    /**
     * When a transactional workspace's changes are applied ({@link CommitOn#SUCCESS} by default).
     *
     * @return the commit condition, never {@code null} (meaningful only for a transactional
     *     workspace)
     */
    public CommitOn commitOn() {
        return commitOn;
    }

    /**
     * The namespaces the sandbox gets.
     *
     * @return the namespaces switched on, every one by default; unmodifiable
     */
    public Set<Namespace> namespaces() {
        return namespaces;
    }

    /**
     * The network: the allow list it was given, else {@link Network#HOST} exactly when the
     * {@link Namespace#NETWORK} namespace is off, else {@link Network#NONE}.
     *
     * @return the network setting, never {@code null}
     */
    public Network network() {
        if (allowList != null) {
            return allowList;
        }
        return namespaces.contains(Namespace.NETWORK) ? Network.NONE : Network.HOST;
    }

    /** The allow list's parsed rules, or {@code null} without one. */
    EgressRules egressRules() {
        return egressRules;
    }

    /**
     * The view's mounts, in the order given (the default ones first): the host's system
     * directories, the tmpfs mounts and whatever was added. Not among them: the workspace, the
     * private home and {@link #homeMounts()}, the identity files, the protected paths.
     *
     * @return the mounts with their paths normalized; unmodifiable
     */
    public List<Mount> mounts() {
        return mounts;
    }

    /**
     * The sandbox user's home inside: a private, empty tmpfs of {@link #homeSizeBytes()}, and
     * {@code HOME} in the default environment. The caller's own home path ({@code user.home})
     * for an unprivileged caller, so that paths under it inside and outside agree;
     * {@link #ROOT_CALLER_HOME} for a root caller (the command is not root) or when
     * {@code user.home} is not a usable absolute path; {@code /root} when the command's uid is
     * 0 inside.
     *
     * @return the home's absolute path inside the sandbox
     */
    public Path home() {
        return identity.home();
    }

    /**
     * The sandbox user's name in {@code /etc/passwd} and {@code /etc/group} inside: the
     * caller's {@code user.name} when the caller is not root and it is a portable user name
     * ({@code [a-z_][a-z0-9_-]{0,31}}), else {@link #DEFAULT_USER_NAME}; {@code root} when the
     * command's uid is 0 inside.
     *
     * @return the user name, never {@code null}
     */
    public String userName() {
        return identity.userName();
    }

    /**
     * The size of the private home's tmpfs.
     *
     * @return the size in bytes, {@link #DEFAULT_HOME_SIZE_BYTES} unless {@link Builder#homeSize}
     *     set another
     */
    public long homeSizeBytes() {
        return homeSize;
    }

    /**
     * The paths relative to the caller's home that {@link Builder#homeReadOnly} and
     * {@link Builder#homeOverlay} put into the private home, as mounts: source the host path
     * under the caller's real home, target the same path under {@link #home()}.
     *
     * @return the binds and overlays, read-only ones first; empty when none were asked for
     */
    public List<Mount> homeMounts() {
        return homeMounts;
    }

    /**
     * The workspace's protected paths, relative to it ({@code /} at the end: a directory), kept
     * read-only inside (see {@link #DEFAULT_PROTECTED_PATHS}). Resolved at each start, since the
     * workspace's content changes: a path whose parent exists is covered even when it does not
     * exist yet (it cannot be created), but the repository directory {@code .git} itself and a
     * path under a missing directory are not (without {@code .git}, {@code git init} works); when {@code .git} is a file naming the
     * repository's directory ({@code gitdir:}, worktrees and submodules) and that lies in the
     * workspace, the same paths are protected there; the directories on the way are pinned (a
     * mount point cannot be renamed or removed, so they cannot be swapped for a copy); a
     * symbolic link on the way makes the start fail, naming the path to
     * {@linkplain Builder#unprotect unprotect}.
     *
     * @return the paths, {@link #DEFAULT_PROTECTED_PATHS} changed by {@link Builder#protect} and
     *     {@link Builder#unprotect}; unmodifiable, empty when all were unprotected
     */
    public List<String> protectedPaths() {
        return protectedPaths;
    }

    /**
     * The host path that {@code inside}, an absolute path in the view, shows: through the
     * deepest bind or overlay (the workspace and {@link #homeMounts()} included) whose target
     * contains it; empty when it lies in a tmpfs, a symbolic link of the view or in none of
     * them (the empty root). Symbolic links inside the host trees are not followed.
     *
     * @param inside an absolute path inside the sandbox; normalized before it is looked up
     * @return the host path behind it, or empty when no host tree shows there
     */
    public Optional<Path> hostPath(Path inside) {
        Path p = inside.normalize();
        Path bestTarget = null;
        Path bestSource = null;
        List<Mount> all = new ArrayList<>(mounts);
        if (workspace != null) {
            all.add(Mount.bind(workspace, workspace));
        }
        if (namespaces.contains(Namespace.MOUNT)) {
            all.add(Mount.tmpfs(home(), homeSize));
            all.addAll(homeMounts);
        }
        for (Mount m : all) {
            if (p.startsWith(m.target()) && (bestTarget == null
                    || m.target().getNameCount() > bestTarget.getNameCount())) {
                bestTarget = m.target();
                boolean host = m.type() == Mount.Type.BIND || m.type() == Mount.Type.OVERLAY;
                bestSource = host ? m.source() : null;
            }
        }
        if (bestSource == null) {
            return Optional.empty();
        }
        return Optional.of(bestSource.resolve(bestTarget.relativize(p)));
    }

    /**
     * The command's complete environment, in the order it is passed.
     *
     * @return the variables by name, unmodifiable: the base ones first ({@code PATH},
     *     {@code HOME}, and {@code LANG} and {@code TERM} when the caller has them) unless
     *     removed, then the passed ones, then the ones set
     */
    public Map<String, String> environment() {
        return environment;
    }

    /**
     * The resource limits: rlimits of each process, kernel budgets of the sandbox's user
     * namespace and, when asked for, cgroup bounds of the whole sandbox.
     *
     * @return the limits, {@link Limits#defaults()} unless {@link Builder#limits} set others
     */
    public Limits limits() {
        return limits;
    }

    /**
     * The wall-clock limit from the command's start; empty for none.
     *
     * @return the timeout; empty (the default) when the command may run as long as it likes
     */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /**
     * How long {@code start()} waits for set-up ({@link Builder#setupTimeout}).
     *
     * @return the set-up timeout, {@link #DEFAULT_SETUP_TIMEOUT} unless set; never {@code null}
     */
    public Duration setupTimeout() {
        return setupTimeout;
    }

    /**
     * The most bytes the command's stdout and stderr together deliver
     * ({@link Builder#maxOutputBytes}); empty for no bound.
     *
     * @return the bound in bytes (1 to 2^62); empty (the default) for none
     */
    public OptionalLong maxOutputBytes() {
        return maxOutputBytes == 0 ? OptionalLong.empty() : OptionalLong.of(maxOutputBytes);
    }

    /**
     * Whether output past {@link #maxOutputBytes()} kills the sandbox instead of being dropped.
     *
     * @return {@code true} when passing the bound kills the sandbox; {@code false} (the default)
     *     when the rest is dropped
     */
    public boolean killsAtMaxOutput() {
        return killAtMaxOutput;
    }

    /**
     * The time between SIGTERM and SIGKILL for timeouts and {@link Process#destroy()}.
     *
     * @return the grace, zero or more, {@link #DEFAULT_KILL_GRACE} unless set; never
     *     {@code null}
     */
    public Duration killGrace() {
        return killGrace;
    }

    /**
     * The command's uid inside the sandbox.
     *
     * @return the uid the builder set, else the caller's, or {@link #ROOT_CALLER_DEFAULT_ID} for a
     *     root caller
     */
    public int uid() {
        return uid;
    }

    /**
     * The command's gid inside the sandbox.
     *
     * @return the gid the builder set, else the caller's, or {@link #ROOT_CALLER_DEFAULT_ID} for a
     *     root caller
     */
    public int gid() {
        return gid;
    }

    /**
     * The hostname inside the sandbox: the one set, or {@link #DEFAULT_HOSTNAME}; empty when the
     * {@link Namespace#UTS} namespace is off (the host's name shows).
     *
     * @return the hostname, or empty when the sandbox shares the host's
     */
    public Optional<String> hostname() {
        if (!namespaces.contains(Namespace.UTS)) {
            return Optional.empty();
        }
        return Optional.of(hostnameSetting == null ? DEFAULT_HOSTNAME : hostnameSetting);
    }

    /**
     * The system call filter the command runs under (the set-id guard, when on, is a second
     * filter beside it; see {@link #allowsSetIdFiles()}).
     *
     * @return the profile, {@link SeccompProfile#defaults()} unless
     *     {@link Builder#seccomp} set another
     */
    public SeccompProfile seccomp() {
        return seccomp;
    }

    /**
     * Whether the command may create set-user-ID and set-group-ID files ({@code false} by
     * default: the set-id guard, a seccomp filter under every profile, refuses them with EPERM).
     *
     * @return {@code true} when the set-id guard is off
     */
    public boolean allowsSetIdFiles() {
        return allowSetIdFiles;
    }

    @Override
    public String toString() {
        return "SandboxPolicy[workspace=" + workspace + ", namespaces=" + namespaces
                + (allowList == null ? "" : ", network=" + allowList) + ", mounts=" + mounts + ", env=" + environment.keySet() + ", limits=" + limits
                + ", timeout=" + timeout + ", killGrace=" + killGrace + ", uid=" + uid
                + ", gid=" + gid + ", hostname=" + hostname().orElse("(host)") + ", seccomp="
                + seccomp + (allowSetIdFiles ? ", set-id files allowed" : "") + ", home="
                + home() + " (" + homeSize + " bytes, " + homeMounts + "), user=" + userName()
                + ", protected=" + protectedPaths + ", setupTimeout=" + setupTimeout
                + (maxOutputBytes == 0 ? "" : ", maxOutput=" + maxOutputBytes
                        + (killAtMaxOutput ? " (kill)" : " (drop)"))
                + (workspaceMode == WorkspaceMode.TRANSACTIONAL ? ", transactional workspace ("
                        + workspaceQuotaBytes() + " bytes, commit on " + commitOn + ")" : "")
                + "]";
    }

    /**
     * Builds a {@link SandboxPolicy}. Setters only record values; {@link #build()} checks them
     * all and reports every problem at once.
     */
    public static final class Builder {
        private Path workspace;
        private final EnumSet<Namespace> namespaces = EnumSet.allOf(Namespace.class);
        private final List<Mount> mounts = defaultMounts();
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
        private long homeSize = DEFAULT_HOME_SIZE_BYTES;
        private final List<String> homeReadOnly = new ArrayList<>();
        private final List<String> homeOverlay = new ArrayList<>();
        private final Set<String> protect = new LinkedHashSet<>(DEFAULT_PROTECTED_PATHS);
        private final List<String> unknownUnprotect = new ArrayList<>();
        private WorkspaceMode workspaceMode = WorkspaceMode.DIRECT;
        private long workspaceQuota;
        private CommitOn commitOn = CommitOn.SUCCESS;
        private Duration setupTimeout = DEFAULT_SETUP_TIMEOUT;
        private long maxOutputBytes;
        private boolean killAtMaxOutput;
        private Network allowList;

        private Builder() {}

        private static List<Mount> defaultMounts() {
            List<Mount> mounts = new ArrayList<>(BaseView.hostDirectories());
            mounts.add(Mount.tmpfs(Path.of("/tmp"), DEFAULT_TMP_SIZE_BYTES));
            mounts.add(Mount.tmpfs(Path.of("/run"), DEFAULT_RUN_SIZE_BYTES));
            mounts.add(Mount.tmpfs(Path.of("/var/tmp"), DEFAULT_VAR_TMP_SIZE_BYTES));
            return mounts;
        }

        /**
         * Binds host directory {@code dir} read-write at the same path inside the sandbox, and
         * makes it the default working directory; {@code null} removes it.
         *
         * @param dir an absolute path of an existing host directory, not {@code /} (checked by
         *     {@link #build()}); {@code null} for none, the default
         * @return this builder
         */
        public Builder workspace(Path dir) {
            this.workspace = dir;
            return this;
        }

        /**
         * How the workspace is in the view: {@link WorkspaceMode#DIRECT} (the default), or
         * {@link WorkspaceMode#TRANSACTIONAL}: an overlay whose upper layer is a private tmpfs of
         * {@link #workspaceQuota} bytes; its changes reach the workspace when committed
         * ({@link #commitOn}), copied without following any symbolic link (see
         * {@link CommitResult}). Needs a workspace and the {@link Namespace#MOUNT} namespace.
         *
         * @param mode the mode
         * @return this builder
         * @throws NullPointerException when {@code mode} is {@code null}
         */
        public Builder workspaceMode(WorkspaceMode mode) {
            this.workspaceMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * The most a transactional workspace's step may change, in bytes (at least
         * {@link #MIN_WORKSPACE_QUOTA_BYTES}; default {@link #DEFAULT_WORKSPACE_QUOTA_BYTES}):
         * the size of the overlay's upper tmpfs, whose inodes are bounded with it. Writing past
         * it fails with ENOSPC inside, and {@link SandboxResult#limitHit()} is
         * {@link LimitHit#DISK} when the layer is full at the end. Only with
         * {@link WorkspaceMode#TRANSACTIONAL}: a direct workspace is the host directory itself,
         * whose writes no sandbox can bound.
         *
         * @param bytes the size in bytes of the upper layer; 0 (the default) for
         *     {@link #DEFAULT_WORKSPACE_QUOTA_BYTES}
         * @return this builder
         */
        public Builder workspaceQuota(long bytes) {
            this.workspaceQuota = bytes;
            return this;
        }

        /**
         * When a transactional workspace's changes are applied (default {@link CommitOn#SUCCESS}).
         *
         * @param when the condition on the command's result under which the changes are applied
         * @return this builder
         * @throws NullPointerException when {@code when} is {@code null}
         */
        public Builder commitOn(CommitOn when) {
            this.commitOn = Objects.requireNonNull(when, "when");
            return this;
        }

        /**
         * Switches namespaces off ({@link Namespace#USER} only when the caller is root). Each
         * one switched off is isolation given up: without {@link Namespace#PID}, for example,
         * the command sees the host's processes and may signal those of its own host uid (the
         * caller's, or for a root caller every other sandbox and host process running as
         * 65534), and a process that leaves the command's session outlives the sandbox.
         *
         * @param which the namespaces to switch off
         * @return this builder
         * @throws NullPointerException when one of them is {@code null}
         */
        public Builder disable(Namespace... which) {
            for (Namespace ns : which) {
                namespaces.remove(Objects.requireNonNull(ns));
            }
            return this;
        }

        /**
         * Switches namespaces back on.
         *
         * @param which the namespaces to switch on
         * @return this builder
         * @throws NullPointerException when one of them is {@code null}
         */
        public Builder enable(Namespace... which) {
            for (Namespace ns : which) {
                namespaces.add(Objects.requireNonNull(ns));
            }
            return this;
        }

        /**
         * {@link Network#NONE} turns the network namespace on, {@link Network#HOST} off; an
         * {@linkplain Network#allow(String...) allow list} turns it on and adds the proxy (its
         * patterns are checked by {@link #build()}).
         *
         * @param network the network setting, replacing the one before
         * @return this builder
         * @throws NullPointerException when {@code network} is {@code null}
         */
        public Builder network(Network network) {
            Objects.requireNonNull(network, "network");
            allowList = network.mode() == Network.Mode.ALLOW_LIST ? network : null;
            if (network.mode() == Network.Mode.HOST) {
                namespaces.remove(Namespace.NETWORK);
            } else {
                namespaces.add(Namespace.NETWORK);
            }
            return this;
        }

        /**
         * Binds host path {@code source} read-only at {@code target}.
         *
         * @param source the host file or directory
         * @param target where it appears inside the sandbox, an absolute path
         * @return this builder
         * @throws NullPointerException when {@code source} or {@code target} is {@code null}
         */
        public Builder bindReadOnly(Path source, Path target) {
            return mount(Mount.bindReadOnly(source, target));
        }

        /**
         * Binds host path {@code source} read-write at {@code target}.
         *
         * @param source the host file or directory, which the command can change
         * @param target where it appears inside the sandbox, an absolute path
         * @return this builder
         * @throws NullPointerException when {@code source} or {@code target} is {@code null}
         */
        public Builder bind(Path source, Path target) {
            return mount(Mount.bind(source, target));
        }

        /**
         * A fresh tmpfs of {@code sizeBytes} at {@code target} (replaces nothing: see build).
         *
         * @param target where it appears inside the sandbox, an absolute path
         * @param sizeBytes its size limit in bytes, more than 0
         * @return this builder
         * @throws NullPointerException when {@code target} is {@code null}
         */
        public Builder tmpfs(Path target, long sizeBytes) {
            return mount(Mount.tmpfs(target, sizeBytes));
        }

        /**
         * Adds a mount. Two mounts on the same target are a problem reported by build().
         *
         * @param mount the mount, added after the ones before
         * @return this builder
         * @throws NullPointerException when {@code mount} is {@code null}
         */
        public Builder mount(Mount mount) {
            mounts.add(Objects.requireNonNull(mount, "mount"));
            return this;
        }

        /**
         * Adds every mount of {@code mounts}, in order (e.g. {@link Mounts#toolchain}).
         *
         * @param mounts the mounts to add
         * @return this builder
         * @throws NullPointerException when {@code mounts} or one of them is {@code null}
         */
        public Builder mounts(Collection<Mount> mounts) {
            for (Mount m : Objects.requireNonNull(mounts, "mounts")) {
                mount(m);
            }
            return this;
        }

        /**
         * Adds ({@code true}) or removes ({@code false}, the default) a read-only bind of the
         * host's {@code /sys}: kernel and hardware information some tools read, and much about
         * the host the command otherwise cannot see.
         *
         * @param on whether the view has the host's {@code /sys}
         * @return this builder
         */
        public Builder sys(boolean on) {
            removeMount(SYS);
            if (on) {
                bindReadOnly(SYS, SYS);
            }
            return this;
        }

        /**
         * Binds {@code relativePath} of the caller's home read-only at the same place in the
         * private home ({@code homeReadOnly(".m2/repository")}). The path must be relative,
         * normalized, without {@code ..}, exist and not go through a symbolic link; the whole
         * home cannot be given.
         *
         * @param relativePath the path under the caller's home; checked by {@link #build()}
         * @return this builder
         * @throws NullPointerException when {@code relativePath} is {@code null}
         */
        public Builder homeReadOnly(String relativePath) {
            homeReadOnly.add(Objects.requireNonNull(relativePath, "relativePath"));
            return this;
        }

        /**
         * Puts directory {@code relativePath} of the caller's home into the private home as an
         * overlay ({@link Mounts#overlay(Path, Path)}): the command may write there, nothing
         * reaches the host ({@code homeOverlay(".gradle/caches")}). Same rules as
         * {@link #homeReadOnly}.
         *
         * @param relativePath the directory under the caller's home; checked by {@link #build()}
         * @return this builder
         * @throws NullPointerException when {@code relativePath} is {@code null}
         */
        public Builder homeOverlay(String relativePath) {
            homeOverlay.add(Objects.requireNonNull(relativePath, "relativePath"));
            return this;
        }

        /**
         * The size of the private home's tmpfs (default {@link #DEFAULT_HOME_SIZE_BYTES}).
         *
         * @param bytes the tmpfs's size limit in bytes, more than 0
         * @return this builder
         */
        public Builder homeSize(long bytes) {
            this.homeSize = bytes;
            return this;
        }

        /**
         * Adds protected paths of the workspace (relative, normalized, without {@code ..};
         * a trailing {@code /} for a directory). See {@link SandboxPolicy#protectedPaths()}.
         *
         * @param relativePaths the paths relative to the workspace; checked by {@link #build()}
         * @return this builder
         * @throws NullPointerException when one of them is {@code null}
         */
        public Builder protect(String... relativePaths) {
            for (String p : relativePaths) {
                protect.add(Objects.requireNonNull(p, "relativePath"));
            }
            return this;
        }

        /**
         * Removes protected paths ({@code .idea} also removes {@code .idea/});
         * {@link #build()} reports one that is not protected.
         *
         * @param relativePaths the paths relative to the workspace, with or without the trailing
         *     {@code /}
         * @return this builder
         * @throws NullPointerException when one of them is {@code null}
         */
        public Builder unprotect(String... relativePaths) {
            for (String p : relativePaths) {
                Objects.requireNonNull(p, "relativePath");
                String bare = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
                if (!protect.remove(bare) & !protect.remove(bare + "/")) {
                    unknownUnprotect.add(p);
                }
            }
            return this;
        }

        /**
         * Removes every mount, the default ones ({@link SandboxPolicy#mounts()}) included (not
         * the workspace, the private home, the identity files or the protected paths).
         *
         * @return this builder
         */
        public Builder clearMounts() {
            mounts.clear();
            return this;
        }

        /**
         * Removes the mounts whose target is {@code target}.
         *
         * @param target the target inside the sandbox; compared normalized, so
         *     {@code /var/./tmp} removes the {@code /var/tmp} tmpfs
         * @return this builder
         * @throws NullPointerException when {@code target} is {@code null}
         */
        public Builder removeMount(Path target) {
            Path t = target.normalize();
            mounts.removeIf(m -> m.target().normalize().equals(t));
            return this;
        }

        /**
         * Sets a variable in the command's environment (overrides defaults and passEnv).
         *
         * @param name the variable's name: not empty, without {@code =} or NUL
         * @param value its value, without NUL (may be empty)
         * @return this builder
         * @throws NullPointerException when {@code name} or {@code value} is {@code null}
         */
        public Builder env(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            env.put(name, value);
            unsetEnv.remove(name);
            return this;
        }

        /**
         * Passes the caller's value of {@code name}, read at {@link #build()}, if it is set.
         *
         * @param name the variable's name: not empty, without {@code =} or NUL
         * @return this builder
         * @throws NullPointerException when {@code name} is {@code null}
         */
        public Builder passEnv(String name) {
            passEnv.add(Objects.requireNonNull(name, "name"));
            unsetEnv.remove(name);
            return this;
        }

        /**
         * Removes a variable, a default one ({@code LANG}, {@code TERM}...) included.
         *
         * @param name the variable's name
         * @return this builder
         * @throws NullPointerException when {@code name} is {@code null}
         */
        public Builder unsetEnv(String name) {
            Objects.requireNonNull(name, "name");
            env.remove(name);
            passEnv.remove(name);
            unsetEnv.add(name);
            return this;
        }

        /**
         * The resource limits (default {@link Limits#defaults()}); their values are checked by
         * {@link #build()}.
         *
         * @param limits the limits, replacing the ones set before
         * @return this builder
         * @throws NullPointerException when {@code limits} is {@code null}
         */
        public Builder limits(Limits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Wall-clock limit from the command's start; when it expires the sandbox gets SIGTERM,
         * then SIGKILL after the kill grace, and the result says {@code timedOut}. {@code null}
         * for none (the default); at most 10^12 ms (about 31 years), like the kill grace.
         *
         * @param timeout the limit, more than zero, or {@code null} for none
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * How long {@code start()} waits for set-up, from the request for the helper (the
         * helper zygote's fork) to the command's {@code execve} (default
         * {@link SandboxPolicy#DEFAULT_SETUP_TIMEOUT}). When it passes
         * (a FUSE or NFS bind source whose server does not answer blocks set-up in the kernel)
         * the helper is killed with SIGKILL, the sandbox dies with it, and {@code start()}
         * throws a {@link SandboxSetupException} naming the step set-up was in (and the mount
         * it worked on), errno ETIMEDOUT. Not covered: what {@code build()} and {@code start()}
         * check on the host in the calling thread before the spawn (that bind sources and the
         * workspace exist, the protected paths, {@code /etc/passwd}); a source whose
         * filesystem hangs there hangs the caller. Positive, at most 10^12 ms.
         *
         * @param setupTimeout the limit, more than zero
         * @return this builder
         * @throws NullPointerException when {@code setupTimeout} is {@code null}
         */
        public Builder setupTimeout(Duration setupTimeout) {
            this.setupTimeout = Objects.requireNonNull(setupTimeout, "setupTimeout");
            return this;
        }

        /**
         * A bound on what the command's stdout and stderr deliver, both together, counted in
         * bytes as the command writes them (default: none). Past it, what the command writes
         * is read and dropped, so the command is never blocked by the bound (or, with
         * {@link #killAtMaxOutput}, the sandbox is killed). The helper then relays the
         * command's stdout and stderr through pipes of its own (a terminal through the pty it
         * relays anyway): whatever they go to (the caller's pipes, an inherited fd, a file),
         * exactly the first {@code bytes} arrive, in order, before {@code waitFor()} returns;
         * {@link SandboxResult#outputBytes()} and {@link SandboxResult#droppedOutputBytes()}
         * say how much was written and dropped. The command sees pipes, not the files
         * themselves (no {@code lseek}, no {@code isatty} on a redirect to a file). 1 to
         * 2^62 bytes; 0 for none.
         *
         * @param bytes the bound in bytes, or 0 for none
         * @return this builder
         */
        public Builder maxOutputBytes(long bytes) {
            this.maxOutputBytes = bytes;
            return this;
        }

        /**
         * With {@link #maxOutputBytes}: the first byte past the bound kills the sandbox at
         * once ({@link SandboxResult#limitHit()} {@link LimitHit#OUTPUT}, SIGKILL) instead of
         * being dropped (default {@code false}: dropped).
         *
         * @param kill whether passing the bound kills the sandbox; {@link #build()} refuses
         *     {@code true} without a bound
         * @return this builder
         */
        public Builder killAtMaxOutput(boolean kill) {
            this.killAtMaxOutput = kill;
            return this;
        }

        /**
         * Time between SIGTERM and SIGKILL (default {@link SandboxPolicy#DEFAULT_KILL_GRACE}).
         *
         * @param killGrace the time, zero or more, at most 10^12 ms
         * @return this builder
         * @throws NullPointerException when {@code killGrace} is {@code null}
         */
        public Builder killGrace(Duration killGrace) {
            this.killGrace = Objects.requireNonNull(killGrace, "killGrace");
            return this;
        }

        /**
         * The command's uid inside the sandbox.
         *
         * @param uid the uid, 0 to {@link Integer#MAX_VALUE}; by default the caller's, or
         *     {@link SandboxPolicy#ROOT_CALLER_DEFAULT_ID} for a root caller
         * @return this builder
         */
        public Builder uid(int uid) {
            this.uid = uid;
            return this;
        }

        /**
         * The command's gid inside the sandbox.
         *
         * @param gid the gid, 0 to {@link Integer#MAX_VALUE}; by default the caller's, or
         *     {@link SandboxPolicy#ROOT_CALLER_DEFAULT_ID} for a root caller
         * @return this builder
         */
        public Builder gid(int gid) {
            this.gid = gid;
            return this;
        }

        /**
         * The hostname inside (needs {@link Namespace#UTS}); {@code null} for the default.
         *
         * @param hostname the name, at most 64 characters of labels of letters, digits and inner
         *     {@code -} separated by {@code .}; {@code null} for
         *     {@link SandboxPolicy#DEFAULT_HOSTNAME}
         * @return this builder
         */
        public Builder hostname(String hostname) {
            this.hostname = hostname;
            return this;
        }

        /**
         * The system call filter (default {@link SeccompProfile#defaults()}); its rules are
         * checked by {@link #build()}.
         *
         * @param profile the profile, replacing the one set before
         * @return this builder
         * @throws NullPointerException when {@code profile} is {@code null}
         */
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
         * guard); for a root caller with a writable bind (idmapped to its owner), {@code unshare}
         * and {@code clone} with {@code CLONE_NEWUSER} fail with EPERM and {@code clone3} with
         * ENOSYS (in a user namespace of its own the command would have
         * {@code CAP_SETFCAP}: a file capability written there on a root caller's idmapped
         * workspace is stored with rootid 0 and works on the host).
         *
         * @param allow whether to switch the set-id guard off
         * @return this builder
         */
        public Builder allowSetIdFiles(boolean allow) {
            this.allowSetIdFiles = allow;
            return this;
        }

        /**
         * Checks every setting and returns the policy.
         *
         * @return the policy, immutable; later changes to this builder do not reach it
         * @throws PolicyException listing every problem found
         */
        public SandboxPolicy build() {
            List<String> problems = new ArrayList<>();
            boolean root = CallerIds.isRoot();
            int effectiveUid = uid != null ? uid : root ? ROOT_CALLER_DEFAULT_ID : CallerIds.uid();
            int effectiveGid = gid != null ? gid : root ? ROOT_CALLER_DEFAULT_ID : CallerIds.gid();
            Identity identity = Identity.of(effectiveUid, root);

            PolicyChecks.namespaces(problems, namespaces);
            int beforeView = problems.size();
            PolicyChecks.workspace(problems, workspace);
            PolicyChecks.workspaceMode(problems, workspace, workspaceMode, workspaceQuota,
                    commitOn, namespaces);
            PolicyChecks.mounts(problems, mounts, workspace, namespaces);
            // Where the mounts land is asked only of a view whose workspace and mounts are
            // right in themselves (a missing source or a relative target has said enough).
            if (problems.size() == beforeView && namespaces.contains(Namespace.MOUNT)) {
                PolicyChecks.placements(problems, mounts, workspace, identity.home());
            }
            PolicyChecks.home(problems, identity, homeSize, homeReadOnly, homeOverlay, mounts,
                    workspace, namespaces);
            PolicyChecks.protectedPaths(problems, protect, unknownUnprotect);
            Map<String, String> environment = environment(identity.home());
            PolicyChecks.environment(problems, passEnv, env, environment);
            problems.addAll(limits.problems());
            PolicyChecks.durations(problems, timeout, killGrace);
            PolicyChecks.setupTimeout(problems, setupTimeout);
            PolicyChecks.maxOutput(problems, maxOutputBytes, killAtMaxOutput);
            PolicyChecks.ids(problems, effectiveUid, effectiveGid);
            PolicyChecks.hostname(problems, hostname, namespaces);
            EgressRules rules = allowList == null ? null
                    : PolicyChecks.allowList(problems, allowList, namespaces, mounts);
            problems.addAll(seccomp.problems());

            if (!problems.isEmpty()) {
                throw new PolicyException(problems);
            }
            return new SandboxPolicy(this, environment, effectiveUid, effectiveGid, identity,
                    rules);
        }

        /** The command's environment: the base one, passed variables, set ones, unset ones. */
        private Map<String, String> environment(Path home) {
            Map<String, String> result = new LinkedHashMap<>();
            if (baseEnvironment) {
                result.put("PATH", DEFAULT_PATH);
                result.put("HOME", home.toString());
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
