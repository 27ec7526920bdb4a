package dev.stockade;

/**
 * The resource limit that ended a sandboxed command, or that it ran into
 * ({@link SandboxResult#limitHit()}).
 */
public enum LimitHit {
    /** The sandbox's cgroup killed a process for memory (its memory bound, an OOM kill). */
    MEMORY("memory limit"),
    /** A fork was refused at the sandbox's process bound (its cgroup's {@code pids.max}). */
    PROCESSES("process limit"),
    /** The command used up its CPU time ({@code RLIMIT_CPU}: SIGXCPU, then SIGKILL). */
    CPU_TIME("CPU time limit"),
    /** The command wrote past the largest file it may write ({@code RLIMIT_FSIZE}: SIGXFSZ). */
    FILE_SIZE("file size limit"),
    /** The policy's timeout expired and the sandbox was ended. */
    WALL_TIME("time limit"),
    /** The transactional workspace's quota filled up (writes past it got ENOSPC). */
    DISK("workspace quota"),
    /** The command's output reached {@link SandboxPolicy#maxOutputBytes()} and the policy
     * kills there ({@link SandboxPolicy#killsAtMaxOutput()}). */
    OUTPUT("output limit");

    private final String description;

    LimitHit(String description) {
        this.description = description;
    }

    /** {@return what the limit is, in a few words ({@code "memory limit"}), for messages} */
    public String description() {
        return description;
    }
}
