package dev.stockade;

import dev.stockade.internal.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Resource limits applied to the sandboxed command: rlimits, each applied as both the soft and
 * the hard limit so the command cannot raise it, and the sandbox's own bounds of kernel budgets
 * it would otherwise share with the host. A limit set to {@link #UNSET} leaves the value the
 * command inherits.
 *
 * <p>Defaults, so that a step cannot exhaust what the host shares: {@link #DEFAULT_PROCESSES}
 * processes ({@code RLIMIT_NPROC}; the inherited one is usually above the kernel's pid_max),
 * {@link #DEFAULT_OPEN_FILES_SOFT} open files soft and {@link #DEFAULT_OPEN_FILES} hard
 * ({@code RLIMIT_NOFILE}; a JVM raises its inherited limit to tens of thousands), core dumps
 * off, {@link #DEFAULT_PTYS} ptys (the sandbox's devpts {@code max=}), and in the sandbox's user
 * namespace {@link #DEFAULT_INOTIFY_INSTANCES} inotify instances,
 * {@link #DEFAULT_INOTIFY_WATCHES} watches, {@link #DEFAULT_FANOTIFY_GROUPS} fanotify groups,
 * {@link #DEFAULT_FANOTIFY_MARKS} marks and {@link #DEFAULT_NAMESPACES} namespaces of each type
 * ({@code /proc/sys/user/max_*}: those counts are charged to the user who created the
 * namespace — host root for a root caller — so without a bound of its own one sandbox could
 * take that user's whole budget). The namespace bounds need the user namespace; without it they
 * are not applied.
 *
 * <p>Memory: {@link Builder#memoryPerProcessBytes(long)} sets {@code RLIMIT_DATA}, which bounds
 * each process's committed private memory (heap, anonymous mappings, its writable data) and,
 * unlike {@code RLIMIT_AS}, leaves alone the address space a JVM or V8 reserves without using:
 * {@code java -Xmx128m} runs under 256 MiB of it. It is a bound per process: a tree of N
 * processes may commit up to N times it. {@link Builder#addressSpaceBytes(long)} is still
 * there, but a JVM needs gigabytes of address space for its reservations and V8 tens of
 * gigabytes: under 1 or 2 GiB neither starts.
 *
 * <p>The whole sandbox: {@link Builder#memoryBytes(long)} (every process together, the page
 * cache and tmpfs pages it writes included) and {@link Builder#cpus(double)} (a share of CPU
 * time) are enforced by cgroups of the sandbox's own, nested under the caller's; with them,
 * {@link #processes()} becomes the sandbox's {@code pids.max} (pid 1 included) instead of
 * {@code RLIMIT_NPROC}. Where no cgroup is usable ({@link Sandbox#probe()},
 * {@link ProbeReport#cgroupReason()}) the start fails at step {@link SetupStep#CGROUP}, unless
 * the memory bound is {@link Builder#memoryBestEffort(boolean) best effort}: it then falls back
 * to {@code RLIMIT_DATA} per process and {@link SandboxResult#notes()} says so. Swap is 0
 * unless {@link Builder#memorySwapBytes(long)} allows some.
 *
 * <p>Values are checked by {@link SandboxPolicy.Builder#build()}, together with the rest of the
 * policy: a limit must be positive, and at least what any process needs to start
 * ({@link #MIN_OPEN_FILES} files, {@link #MIN_ADDRESS_SPACE_BYTES} of address space,
 * {@link #MIN_STACK_BYTES} of stack).
 */
public final class Limits {
    /** Value meaning "not set" in the builder. */
    public static final long UNSET = -1;
    /** Every process holds stdin, stdout and stderr. */
    public static final long MIN_OPEN_FILES = 3;
    /** Below this not even a static binary maps its stack and heap. */
    public static final long MIN_ADDRESS_SPACE_BYTES = 16L * 1024 * 1024;
    /** Below this execve itself cannot place the arguments and environment. */
    public static final long MIN_STACK_BYTES = 64L * 1024;
    /** Below this not even a static binary has room for its data and a small heap. */
    public static final long MIN_MEMORY_PER_PROCESS_BYTES = 4L * 1024 * 1024;
    /**
     * The hard {@code RLIMIT_CPU} is this many seconds above {@link #cpuTimeSeconds()}: the
     * command gets SIGXCPU at the limit and SIGKILL only if it goes on past the signal.
     */
    public static final long CPU_TIME_KILL_AFTER_SECONDS = 1;
    /** Default {@code RLIMIT_NPROC}. */
    public static final long DEFAULT_PROCESSES = 4096;
    /** Default hard {@code RLIMIT_NOFILE}. */
    public static final long DEFAULT_OPEN_FILES = 4096;
    /** Default soft {@code RLIMIT_NOFILE}: what select()-based programs can handle. */
    public static final long DEFAULT_OPEN_FILES_SOFT = 1024;
    /** Default bound of the sandbox's ptys. */
    public static final long DEFAULT_PTYS = 64;
    /** Default {@code max_inotify_instances} of the sandbox's user namespace. */
    public static final long DEFAULT_INOTIFY_INSTANCES = 32;
    /** Default {@code max_inotify_watches} of the sandbox's user namespace. */
    public static final long DEFAULT_INOTIFY_WATCHES = 16384;
    /** Default {@code max_fanotify_groups} of the sandbox's user namespace. */
    public static final long DEFAULT_FANOTIFY_GROUPS = 4;
    /** Default {@code max_fanotify_marks} of the sandbox's user namespace. */
    public static final long DEFAULT_FANOTIFY_MARKS = 1024;
    /** Default {@code max_*_namespaces} (each type) of the sandbox's user namespace. */
    public static final long DEFAULT_NAMESPACES = 8;
    /** The largest value of a pty or user-namespace bound (the kernel's are ints). */
    public static final long MAX_KERNEL_COUNT = Protocol.MAX_USER_LIMIT_VALUE;
    /** The most ptys a devpts instance may be given (the kernel's own ceiling). */
    public static final long MAX_PTYS = Protocol.MAX_PTYS;

    /** Below this the kernel's OOM killer would end every process at once. */
    public static final long MIN_MEMORY_BYTES = Protocol.MIN_MEMORY_MAX;
    /** The most processes a cgroup's {@code pids.max} is given. */
    public static final long MAX_PROCESSES_CGROUP = Protocol.MAX_PIDS;
    /** The scheduling period {@link #cpus()} is a fraction of, in microseconds. */
    public static final long CPU_PERIOD_US = Protocol.CPU_PERIOD_US;
    /** The smallest {@link Builder#cpus(double)}: the kernel's minimum quota per period. */
    public static final double MIN_CPUS = (double) Protocol.MIN_CPU_QUOTA_US / Protocol.CPU_PERIOD_US;
    /** The largest {@link Builder#cpus(double)}. */
    public static final double MAX_CPUS = 4096;
    /** {@link #cpus()} when not set. */
    public static final double CPUS_UNSET = 0;

    private static final Limits DEFAULTS = builder().build();

    private final long openFiles;
    private final long openFilesSoft;
    private final long processes;
    private final long fileSizeBytes;
    private final long cpuTimeSeconds;
    private final long addressSpaceBytes;
    private final long memoryPerProcessBytes;
    private final long stackBytes;
    private final long coreBytes;
    private final long ptys;
    private final long inotifyInstances;
    private final long inotifyWatches;
    private final long fanotifyGroups;
    private final long fanotifyMarks;
    private final long namespaces;
    private final long memoryBytes;
    private final long memorySwapBytes;
    private final boolean memoryBestEffort;
    private final double cpus;

    private Limits(Builder b) {
        this.openFiles = b.openFiles;
        this.openFilesSoft = b.openFilesSoft;
        this.processes = b.processes;
        this.fileSizeBytes = b.fileSizeBytes;
        this.cpuTimeSeconds = b.cpuTimeSeconds;
        this.addressSpaceBytes = b.addressSpaceBytes;
        this.memoryPerProcessBytes = b.memoryPerProcessBytes;
        this.stackBytes = b.stackBytes;
        this.coreBytes = b.coreBytes;
        this.ptys = b.ptys;
        this.inotifyInstances = b.inotifyInstances;
        this.inotifyWatches = b.inotifyWatches;
        this.fanotifyGroups = b.fanotifyGroups;
        this.fanotifyMarks = b.fanotifyMarks;
        this.namespaces = b.namespaces;
        this.memoryBytes = b.memoryBytes;
        this.memorySwapBytes = b.memorySwapBytes;
        this.memoryBestEffort = b.memoryBestEffort;
        this.cpus = b.cpus;
    }

    /**
     * The defaults listed in the class description.
     *
     * @return the shared default limits (immutable)
     */
    public static Limits defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from {@link #defaults()}.
     *
     * @return a new builder holding the defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this object's values.
     *
     * @return a new builder with every value of this object, to change some of them
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.openFiles = openFiles;
        b.openFilesSoft = openFilesSoft;
        b.processes = processes;
        b.fileSizeBytes = fileSizeBytes;
        b.cpuTimeSeconds = cpuTimeSeconds;
        b.addressSpaceBytes = addressSpaceBytes;
        b.memoryPerProcessBytes = memoryPerProcessBytes;
        b.stackBytes = stackBytes;
        b.coreBytes = coreBytes;
        b.ptys = ptys;
        b.inotifyInstances = inotifyInstances;
        b.inotifyWatches = inotifyWatches;
        b.fanotifyGroups = fanotifyGroups;
        b.fanotifyMarks = fanotifyMarks;
        b.namespaces = namespaces;
        b.memoryBytes = memoryBytes;
        b.memorySwapBytes = memorySwapBytes;
        b.memoryBestEffort = memoryBestEffort;
        b.cpus = cpus;
        return b;
    }

    /**
     * {@code RLIMIT_NOFILE} (hard): the highest fd number plus one the command may open.
     *
     * @return the hard limit, empty when {@link #UNSET} (the command inherits its limit);
     *     {@link #DEFAULT_OPEN_FILES} by default
     */
    public OptionalLong openFiles() {
        return opt(openFiles);
    }

    /**
     * The soft {@code RLIMIT_NOFILE}: {@link #openFiles()} unless left at the defaults.
     *
     * @return the soft limit, empty when {@link #UNSET}; {@link #DEFAULT_OPEN_FILES_SOFT} by
     *     default, the same as {@link #openFiles()} once {@link Builder#openFiles(long)} sets both
     */
    public OptionalLong openFilesSoft() {
        return opt(openFilesSoft);
    }

    /**
     * Processes (threads included): the sandbox's {@code pids.max} when it has cgroups of its
     * own ({@link #wantsCgroup()}), else {@code RLIMIT_NPROC} (the processes the command's user
     * may have).
     *
     * @return the most processes, empty when {@link #UNSET} (inherited {@code RLIMIT_NPROC}, no
     *     {@code pids.max}); {@link #DEFAULT_PROCESSES} by default
     */
    public OptionalLong processes() {
        return opt(processes);
    }

    /**
     * {@code RLIMIT_FSIZE}: the largest file the command may write (SIGXFSZ beyond).
     *
     * @return the largest file size in bytes, empty (the default) when inherited
     */
    public OptionalLong fileSizeBytes() {
        return opt(fileSizeBytes);
    }

    /**
     * {@code RLIMIT_CPU}: CPU seconds of one process before the kernel sends it SIGXCPU (and
     * SIGKILL {@link #CPU_TIME_KILL_AFTER_SECONDS} later if it goes on).
     *
     * @return the soft limit in CPU seconds, empty (the default) when inherited
     */
    public OptionalLong cpuTimeSeconds() {
        return opt(cpuTimeSeconds);
    }

    /**
     * {@code RLIMIT_AS}: the largest address space (too small for a JVM or V8 below GiBs).
     *
     * @return the largest address space in bytes, empty (the default) when inherited
     */
    public OptionalLong addressSpaceBytes() {
        return opt(addressSpaceBytes);
    }

    /**
     * {@code RLIMIT_DATA}: the most private memory each process may commit.
     *
     * @return the bound in bytes, empty (the default) when inherited
     */
    public OptionalLong memoryPerProcessBytes() {
        return opt(memoryPerProcessBytes);
    }

    /**
     * {@code RLIMIT_STACK}: the largest main-thread stack.
     *
     * @return the largest stack in bytes, empty (the default) when inherited
     */
    public OptionalLong stackBytes() {
        return opt(stackBytes);
    }

    /**
     * {@code RLIMIT_CORE}: the largest core dump; 0 (the default) means none.
     *
     * @return the largest core dump in bytes, 0 by default, empty when inherited
     */
    public OptionalLong coreBytes() {
        return opt(coreBytes);
    }

    /**
     * The most ptys the sandbox's own devpts hands out.
     *
     * @return the devpts {@code max=} bound, {@link #DEFAULT_PTYS} by default; empty when only the
     *     kernel's own ceiling applies
     */
    public OptionalLong ptys() {
        return opt(ptys);
    }

    /**
     * {@code max_inotify_instances} of the sandbox's user namespace.
     *
     * @return the bound, {@link #DEFAULT_INOTIFY_INSTANCES} by default; empty when not set, which
     *     leaves only the bounds of the user namespaces above the sandbox's
     */
    public OptionalLong inotifyInstances() {
        return opt(inotifyInstances);
    }

    /**
     * {@code max_inotify_watches} of the sandbox's user namespace.
     *
     * @return the bound, {@link #DEFAULT_INOTIFY_WATCHES} by default; empty when not set, which
     *     leaves only the bounds of the user namespaces above the sandbox's
     */
    public OptionalLong inotifyWatches() {
        return opt(inotifyWatches);
    }

    /**
     * {@code max_fanotify_groups} of the sandbox's user namespace.
     *
     * @return the bound, {@link #DEFAULT_FANOTIFY_GROUPS} by default; empty when not set, which
     *     leaves only the bounds of the user namespaces above the sandbox's
     */
    public OptionalLong fanotifyGroups() {
        return opt(fanotifyGroups);
    }

    /**
     * {@code max_fanotify_marks} of the sandbox's user namespace.
     *
     * @return the bound, {@link #DEFAULT_FANOTIFY_MARKS} by default; empty when not set, which
     *     leaves only the bounds of the user namespaces above the sandbox's
     */
    public OptionalLong fanotifyMarks() {
        return opt(fanotifyMarks);
    }

    /**
     * {@code max_*_namespaces} of the sandbox's user namespace, for each namespace type.
     *
     * @return the bound for each type, {@link #DEFAULT_NAMESPACES} by default; empty when not set,
     *     which leaves only the bounds of the user namespaces above the sandbox's
     */
    public OptionalLong namespaces() {
        return opt(namespaces);
    }

    /**
     * The memory of the whole sandbox (every process, and the page cache and tmpfs pages it
     * writes), enforced by a cgroup of its own ({@code memory.max}, v1
     * {@code memory.limit_in_bytes}): the kernel's OOM killer ends a process that would pass
     * it, and the result says {@link LimitHit#MEMORY}. Needs a usable cgroup
     * ({@link Sandbox#probe()}): without one the start fails at step {@link SetupStep#CGROUP},
     * unless {@link #memoryBestEffort()}.
     *
     * @return the bound in bytes, empty (the default) when the sandbox as a whole has none
     */
    public OptionalLong memoryBytes() {
        return opt(memoryBytes);
    }

    /**
     * Swap the sandbox may use besides {@link #memoryBytes()}; none (0) when not set.
     *
     * @return the swap in bytes, empty (the default) when not set, which means none
     */
    public OptionalLong memorySwapBytes() {
        return opt(memorySwapBytes);
    }

    /**
     * Whether {@link #memoryBytes()} may fall back, where no cgroup is usable, to a bound per
     * process ({@code RLIMIT_DATA}: {@link #memoryPerProcessBytes()} if set, else
     * {@link #memoryBytes()} itself); {@link SandboxResult#notes()} then says so.
     *
     * @return {@code true} when the memory bound may fall back; {@code false} by default
     */
    public boolean memoryBestEffort() {
        return memoryBestEffort;
    }

    /**
     * The CPU the whole sandbox may use, in CPUs (0.5: half of one CPU's time), enforced by its
     * cgroup ({@code cpu.max}, v1 {@code cpu.cfs_quota_us}) over periods of
     * {@link #CPU_PERIOD_US}: a throttle, not a kill. {@link #CPUS_UNSET} when not set. Needs a
     * usable cgroup; without one the start fails at step {@link SetupStep#CGROUP}.
     *
     * @return the share in CPUs, or {@link #CPUS_UNSET} (0, the default) for no bound
     */
    public double cpus() {
        return cpus;
    }

    /** Whether the sandbox gets cgroups of its own: a memory bound or a CPU share is asked for. */
    boolean wantsCgroup() {
        return memoryBytes != UNSET || cpus != CPUS_UNSET;
    }

    private static OptionalLong opt(long v) {
        return v == UNSET ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** Every problem with these values, for {@link SandboxPolicy.Builder#build()}. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        atLeast(problems, "openFiles", openFiles, MIN_OPEN_FILES,
                "every process needs stdin, stdout and stderr");
        atLeast(problems, "processes", processes, 1, "the command itself is a process");
        atLeast(problems, "fileSizeBytes", fileSizeBytes, 1, null);
        atLeast(problems, "cpuTimeSeconds", cpuTimeSeconds, 1, null);
        atLeast(problems, "addressSpaceBytes", addressSpaceBytes, MIN_ADDRESS_SPACE_BYTES,
                "no process starts with less");
        atLeast(problems, "memoryPerProcessBytes", memoryPerProcessBytes,
                MIN_MEMORY_PER_PROCESS_BYTES, "no process starts with less");
        atLeast(problems, "stackBytes", stackBytes, MIN_STACK_BYTES,
                "execve needs room for the arguments and environment");
        inRange(problems, "ptys", ptys, 1, MAX_PTYS);
        inRange(problems, "inotifyInstances", inotifyInstances, 0, MAX_KERNEL_COUNT);
        inRange(problems, "inotifyWatches", inotifyWatches, 0, MAX_KERNEL_COUNT);
        inRange(problems, "fanotifyGroups", fanotifyGroups, 0, MAX_KERNEL_COUNT);
        inRange(problems, "fanotifyMarks", fanotifyMarks, 0, MAX_KERNEL_COUNT);
        inRange(problems, "namespaces", namespaces, 0, MAX_KERNEL_COUNT);
        atLeast(problems, "memoryBytes", memoryBytes, MIN_MEMORY_BYTES,
                "the kernel would end every process at once");
        if (memorySwapBytes != UNSET) {
            if (memorySwapBytes < 0) {
                problems.add("limit memorySwapBytes is negative (" + memorySwapBytes + ")");
            } else if (memoryBytes == UNSET) {
                problems.add("limit memorySwapBytes needs memoryBytes (swap is bounded per"
                        + " cgroup, beside its memory)");
            }
        }
        if (memoryBestEffort && memoryBytes == UNSET) {
            problems.add("limit memoryBestEffort needs memoryBytes");
        }
        if (cpus != CPUS_UNSET && !(cpus >= MIN_CPUS && cpus <= MAX_CPUS)) {
            problems.add("limit cpus is " + cpus + ": it must be " + MIN_CPUS + ".." + MAX_CPUS
                    + " (a fraction of one CPU's time, such as 0.5)");
        }
        if (wantsCgroup() && processes != UNSET && processes > MAX_PROCESSES_CGROUP) {
            problems.add("limit processes is " + processes + ": with a cgroup (memoryBytes or"
                    + " cpus) it is pids.max, at most " + MAX_PROCESSES_CGROUP);
        }
        if (coreBytes != UNSET && coreBytes < 0) {
            problems.add("limit coreBytes is negative (" + coreBytes
                    + "): use 0 for no core dumps");
        }
        return problems;
    }

    private static void inRange(List<String> problems, String name, long value, long min,
            long max) {
        if (value != UNSET && (value < min || value > max)) {
            problems.add("limit " + name + " is " + value + ": it must be " + min + ".." + max);
        }
    }

    private static void atLeast(List<String> problems, String name, long value, long min,
            String why) {
        if (value == UNSET) {
            return;
        }
        if (value < 0) {
            problems.add("limit " + name + " is negative (" + value + ")");
        } else if (value == 0 && min >= 1) {
            problems.add("limit " + name + " is 0: it must be at least " + min
                    + (why == null ? "" : " (" + why + ")"));
        } else if (value < min) {
            problems.add("limit " + name + " is " + value + ", below the minimum of " + min
                    + (why == null ? "" : " (" + why + ")"));
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Limits l)) {
            return false;
        }
        return openFiles == l.openFiles && openFilesSoft == l.openFilesSoft
                && processes == l.processes && ptys == l.ptys
                && inotifyInstances == l.inotifyInstances && inotifyWatches == l.inotifyWatches
                && fanotifyGroups == l.fanotifyGroups && fanotifyMarks == l.fanotifyMarks
                && namespaces == l.namespaces
                && fileSizeBytes == l.fileSizeBytes && cpuTimeSeconds == l.cpuTimeSeconds
                && addressSpaceBytes == l.addressSpaceBytes
                && memoryPerProcessBytes == l.memoryPerProcessBytes && stackBytes == l.stackBytes
                && coreBytes == l.coreBytes && memoryBytes == l.memoryBytes
                && memorySwapBytes == l.memorySwapBytes
                && memoryBestEffort == l.memoryBestEffort
                && Double.compare(cpus, l.cpus) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(openFiles, openFilesSoft, processes, fileSizeBytes, cpuTimeSeconds,
                addressSpaceBytes, memoryPerProcessBytes, stackBytes, coreBytes, ptys, inotifyInstances, inotifyWatches,
                fanotifyGroups, fanotifyMarks, namespaces, memoryBytes, memorySwapBytes,
                memoryBestEffort, cpus);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Limits[");
        append(sb, "openFiles", openFiles);
        if (openFilesSoft != openFiles) {
            append(sb, "openFilesSoft", openFilesSoft);
        }
        append(sb, "processes", processes);
        append(sb, "fileSizeBytes", fileSizeBytes);
        append(sb, "cpuTimeSeconds", cpuTimeSeconds);
        append(sb, "addressSpaceBytes", addressSpaceBytes);
        append(sb, "memoryPerProcessBytes", memoryPerProcessBytes);
        append(sb, "stackBytes", stackBytes);
        append(sb, "coreBytes", coreBytes);
        append(sb, "ptys", ptys);
        append(sb, "inotifyInstances", inotifyInstances);
        append(sb, "inotifyWatches", inotifyWatches);
        append(sb, "fanotifyGroups", fanotifyGroups);
        append(sb, "fanotifyMarks", fanotifyMarks);
        append(sb, "namespaces", namespaces);
        append(sb, "memoryBytes", memoryBytes);
        append(sb, "memorySwapBytes", memorySwapBytes);
        if (memoryBestEffort) {
            sb.append("memoryBestEffort ");
        }
        if (cpus != CPUS_UNSET) {
            sb.append("cpus=").append(cpus).append(' ');
        }
        if (sb.charAt(sb.length() - 1) == ' ') {
            sb.setLength(sb.length() - 1);
        }
        return sb.append(']').toString();
    }

    private static void append(StringBuilder sb, String name, long v) {
        if (v != UNSET) {
            sb.append(name).append('=').append(v).append(' ');
        }
    }

    /**
     * Builds {@link Limits}. Setters take the value or {@link #UNSET}; they accept anything so
     * that {@link SandboxPolicy.Builder#build()} can report every bad value at once.
     */
    public static final class Builder {
        private long openFiles = DEFAULT_OPEN_FILES;
        private long openFilesSoft = DEFAULT_OPEN_FILES_SOFT;
        private long processes = DEFAULT_PROCESSES;
        private long fileSizeBytes = UNSET;
        private long cpuTimeSeconds = UNSET;
        private long addressSpaceBytes = UNSET;
        private long memoryPerProcessBytes = UNSET;
        private long stackBytes = UNSET;
        private long coreBytes = 0;
        private long ptys = DEFAULT_PTYS;
        private long inotifyInstances = DEFAULT_INOTIFY_INSTANCES;
        private long inotifyWatches = DEFAULT_INOTIFY_WATCHES;
        private long fanotifyGroups = DEFAULT_FANOTIFY_GROUPS;
        private long fanotifyMarks = DEFAULT_FANOTIFY_MARKS;
        private long namespaces = DEFAULT_NAMESPACES;
        private long memoryBytes = UNSET;
        private long memorySwapBytes = UNSET;
        private boolean memoryBestEffort;
        private double cpus = CPUS_UNSET;

        private Builder() {}

        /**
         * The whole sandbox's memory in bytes, at least {@link Limits#MIN_MEMORY_BYTES}
         * ({@link Limits#memoryBytes()}); {@link Limits#UNSET} for none.
         *
         * @param value the bound in bytes, or {@link Limits#UNSET} (the default) for none
         * @return this builder
         */
        public Builder memoryBytes(long value) {
            this.memoryBytes = value;
            return this;
        }

        /**
         * Swap besides {@link #memoryBytes(long)}, at least 0 (default: 0, no swap).
         *
         * @param value the swap in bytes, or {@link Limits#UNSET} (the default) for none; needs
         *     {@link #memoryBytes(long)}
         * @return this builder
         */
        public Builder memorySwapBytes(long value) {
            this.memorySwapBytes = value;
            return this;
        }

        /**
         * Lets {@link #memoryBytes(long)} fall back to a per-process bound without cgroups.
         *
         * @param value whether the fallback is allowed ({@code false} by default); needs
         *     {@link #memoryBytes(long)}
         * @return this builder
         */
        public Builder memoryBestEffort(boolean value) {
            this.memoryBestEffort = value;
            return this;
        }

        /**
         * The sandbox's share of CPU time in CPUs, {@link Limits#MIN_CPUS}..
         * {@link Limits#MAX_CPUS} (0.5: half of one CPU); {@link Limits#CPUS_UNSET} for none.
         *
         * @param value the share in CPUs, or {@link Limits#CPUS_UNSET} (the default) for none
         * @return this builder
         */
        public Builder cpus(double value) {
            this.cpus = value;
            return this;
        }

        /**
         * {@code RLIMIT_NOFILE}, soft and hard, at least {@link Limits#MIN_OPEN_FILES};
         * {@link Limits#UNSET} inherits (default {@link Limits#DEFAULT_OPEN_FILES_SOFT} soft,
         * {@link Limits#DEFAULT_OPEN_FILES} hard).
         *
         * @param value the limit, used as both the soft and the hard one, or {@link Limits#UNSET}
         *     to inherit
         * @return this builder
         */
        public Builder openFiles(long value) {
            this.openFiles = value;
            this.openFilesSoft = value;
            return this;
        }

        /**
         * {@code RLIMIT_NPROC}, at least 1 (default {@link Limits#DEFAULT_PROCESSES});
         * {@link Limits#UNSET} inherits.
         *
         * @param value the most processes, or {@link Limits#UNSET} to inherit
         * @return this builder
         */
        public Builder processes(long value) {
            this.processes = value;
            return this;
        }

        /**
         * {@code RLIMIT_FSIZE} in bytes, at least 1; {@link Limits#UNSET} inherits.
         *
         * @param value the largest file size in bytes, or {@link Limits#UNSET} (the default) to
         *     inherit
         * @return this builder
         */
        public Builder fileSizeBytes(long value) {
            this.fileSizeBytes = value;
            return this;
        }

        /**
         * {@code RLIMIT_CPU} in seconds, at least 1: SIGXCPU at the limit, SIGKILL
         * {@link Limits#CPU_TIME_KILL_AFTER_SECONDS} later; {@link Limits#UNSET} inherits.
         *
         * @param value the CPU seconds of one process, or {@link Limits#UNSET} (the default) to
         *     inherit
         * @return this builder
         */
        public Builder cpuTimeSeconds(long value) {
            this.cpuTimeSeconds = value;
            return this;
        }

        /**
         * {@code RLIMIT_AS} in bytes, at least {@link Limits#MIN_ADDRESS_SPACE_BYTES}. A JVM or
         * V8 does not start under 1 or 2 GiB of it; {@link #memoryPerProcessBytes(long)} is the
         * bound that works for them.
         *
         * @param value the largest address space in bytes, or {@link Limits#UNSET} (the default) to
         *     inherit
         * @return this builder
         */
        public Builder addressSpaceBytes(long value) {
            this.addressSpaceBytes = value;
            return this;
        }

        /**
         * {@code RLIMIT_DATA} in bytes, at least {@link Limits#MIN_MEMORY_PER_PROCESS_BYTES}:
         * the private memory each process may commit (a bound per process, not of the tree).
         *
         * @param value the bound in bytes, or {@link Limits#UNSET} (the default) to inherit
         * @return this builder
         */
        public Builder memoryPerProcessBytes(long value) {
            this.memoryPerProcessBytes = value;
            return this;
        }

        /**
         * {@code RLIMIT_STACK} in bytes, at least {@link Limits#MIN_STACK_BYTES}.
         *
         * @param value the largest stack in bytes, or {@link Limits#UNSET} (the default) to inherit
         * @return this builder
         */
        public Builder stackBytes(long value) {
            this.stackBytes = value;
            return this;
        }

        /**
         * Core dump size; 0 (the default) disables core dumps, {@link #UNSET} inherits.
         *
         * @param value the largest core dump in bytes, 0 for none
         * @return this builder
         */
        public Builder coreBytes(long value) {
            this.coreBytes = value;
            return this;
        }

        /**
         * The sandbox's pty bound, 1..{@link Limits#MAX_PTYS}; UNSET: the kernel's only.
         *
         * @param value the most ptys, or {@link Limits#UNSET} for the kernel's ceiling only
         * @return this builder
         */
        public Builder ptys(long value) {
            this.ptys = value;
            return this;
        }

        /**
         * {@code max_inotify_instances} in the sandbox's user namespace; UNSET inherits.
         *
         * @param value the bound, 0..{@link Limits#MAX_KERNEL_COUNT}, or {@link Limits#UNSET} for
         *     no bound of the sandbox's own
         * @return this builder
         */
        public Builder inotifyInstances(long value) {
            this.inotifyInstances = value;
            return this;
        }

        /**
         * {@code max_inotify_watches} in the sandbox's user namespace; UNSET inherits.
         *
         * @param value the bound, 0..{@link Limits#MAX_KERNEL_COUNT}, or {@link Limits#UNSET} for
         *     no bound of the sandbox's own
         * @return this builder
         */
        public Builder inotifyWatches(long value) {
            this.inotifyWatches = value;
            return this;
        }

        /**
         * {@code max_fanotify_groups} in the sandbox's user namespace; UNSET inherits.
         *
         * @param value the bound, 0..{@link Limits#MAX_KERNEL_COUNT}, or {@link Limits#UNSET} for
         *     no bound of the sandbox's own
         * @return this builder
         */
        public Builder fanotifyGroups(long value) {
            this.fanotifyGroups = value;
            return this;
        }

        /**
         * {@code max_fanotify_marks} in the sandbox's user namespace; UNSET inherits.
         *
         * @param value the bound, 0..{@link Limits#MAX_KERNEL_COUNT}, or {@link Limits#UNSET} for
         *     no bound of the sandbox's own
         * @return this builder
         */
        public Builder fanotifyMarks(long value) {
            this.fanotifyMarks = value;
            return this;
        }

        /**
         * {@code max_*_namespaces} of every type in the sandbox's user namespace.
         *
         * @param value the bound for each type, 0..{@link Limits#MAX_KERNEL_COUNT} (default
         *     {@link Limits#DEFAULT_NAMESPACES}), or {@link Limits#UNSET} for no bound of the
         *     sandbox's own
         * @return this builder
         */
        public Builder namespaces(long value) {
            this.namespaces = value;
            return this;
        }

        /**
         * The limits; they are checked when a policy is built with them.
         *
         * @return the limits, immutable; bad values are reported by
         *     {@link SandboxPolicy.Builder#build()}, not here
         */
        public Limits build() {
            return new Limits(this);
        }
    }
}
