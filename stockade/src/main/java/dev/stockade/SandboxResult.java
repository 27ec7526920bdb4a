package dev.stockade;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How a sandboxed command ended, with what it used. Exit codes follow the shell: a command killed
 * by signal N has exit code 128+N and {@link #signal()} N.
 *
 * <p>When the helper died without reporting the command's end (it was killed from outside, or
 * crashed), {@link #setupError()} has step {@link SetupStep#HELPER}, the exit code is the
 * helper's own and the resource figures are zero.
 */
public final class SandboxResult {
    private final int exitCode;
    private final int signal;
    private final boolean coreDumped;
    private final boolean timedOut;
    private final boolean killed;
    private final Duration wallTime;
    private final Duration userCpu;
    private final Duration systemCpu;
    private final long maxRssKb;
    private final SetupError setupError;
    private final List<Violation> violations;
    private final Usage usage;
    private final CommitResult commit;
    private final List<Connection> connections;
    private final SetupTimings setupTimings;

    /**
     * What the sandbox measured beyond the command's own rusage, and the limit it ran into.
     *
     * @param limitHit the limit that ended the command or that it ran into; null for none
     * @param peakMemoryBytes the whole sandbox's peak memory from its cgroup; 0 without one
     * @param peakProcesses the most processes the sandbox held at once; 0 when not measured
     * @param outputBytes what the command wrote to the streams the helper relays
     * @param outputDroppedBytes of those, what went past the output bound and was dropped
     * @param notes what the sandbox applied differently from what the policy asked
     */
    record Usage(LimitHit limitHit, long peakMemoryBytes, long peakProcesses, long outputBytes,
            long outputDroppedBytes, List<String> notes) {
        static final Usage NONE = new Usage(null, 0, 0, 0, 0, List.of());

        Usage {
            notes = List.copyOf(notes);
        }
    }

    SandboxResult(int exitCode, int signal, boolean coreDumped, boolean timedOut, boolean killed,
            Duration wallTime, Duration userCpu, Duration systemCpu, long maxRssKb,
            SetupError setupError) {
        this(exitCode, signal, coreDumped, timedOut, killed, wallTime, userCpu, systemCpu,
                maxRssKb, setupError, List.of(), Usage.NONE, null, List.of(), null);
    }

    private SandboxResult(int exitCode, int signal, boolean coreDumped, boolean timedOut,
            boolean killed, Duration wallTime, Duration userCpu, Duration systemCpu,
            long maxRssKb, SetupError setupError, List<Violation> violations, Usage usage,
            CommitResult commit, List<Connection> connections, SetupTimings setupTimings) {
        this.setupTimings = setupTimings;
        this.commit = commit;
        this.connections = List.copyOf(connections);
        this.violations = List.copyOf(violations);
        this.usage = usage;
        this.exitCode = exitCode;
        this.signal = signal;
        this.coreDumped = coreDumped;
        this.timedOut = timedOut;
        this.killed = killed;
        this.wallTime = wallTime;
        this.userCpu = userCpu;
        this.systemCpu = systemCpu;
        this.maxRssKb = maxRssKb;
        this.setupError = setupError;
    }

    /**
     * A result from a {@code waitpid} status: {@code WIFEXITED} gives the exit code, a signal
     * gives 128+N.
     */
    static SandboxResult fromWaitStatus(int status, boolean timedOut, boolean killed,
            Duration wallTime, Duration userCpu, Duration systemCpu, long maxRssKb,
            SetupError setupError) {
        int termsig = status & 0x7f;
        if (termsig == 0) {
            return new SandboxResult((status >> 8) & 0xff, 0, false, timedOut, killed, wallTime,
                    userCpu, systemCpu, maxRssKb, setupError);
        }
        if (termsig != 0x7f) {
            return new SandboxResult(128 + termsig, termsig, (status & 0x80) != 0, timedOut,
                    killed, wallTime, userCpu, systemCpu, maxRssKb, setupError);
        }
        // Stopped (0x7f): waitpid was not asked for stops, so this is not a real end.
        throw new IllegalArgumentException("not a termination status: 0x"
                + Integer.toHexString(status));
    }

    /** {@return the exit status, 0..255; 128+N when the command was killed by signal N} */
    public int exitCode() {
        return exitCode;
    }

    /** {@return the number of the signal that killed the command; 0 when it exited by itself} */
    public int signal() {
        return signal;
    }

    /**
     * {@return whether the kernel wrote a core dump} Never with the default core size limit of
     * 0.
     */
    public boolean coreDumped() {
        return coreDumped;
    }

    /**
     * {@return whether the command exited by itself ({@code exit})} {@code false} when a signal
     * ended it or the helper died without reporting its end ({@link #setupError()}).
     */
    public boolean exitedNormally() {
        return signal == 0 && setupError == null;
    }

    /** {@return whether the policy's timeout expired and the helper ended the sandbox} */
    public boolean timedOut() {
        return timedOut;
    }

    /**
     * {@return whether the sandbox was ended on request} ({@code destroy}, {@code close}, or
     * its owner gone)
     */
    public boolean killed() {
        return killed;
    }

    /**
     * {@return the wall-clock time from the command's start to its end, as the helper measured
     * it}
     */
    public Duration wallTime() {
        return wallTime;
    }

    /** {@return the user CPU time of the command and every process it waited for} */
    public Duration userCpu() {
        return userCpu;
    }

    /** {@return the system CPU time of the command and every process it waited for} */
    public Duration systemCpu() {
        return systemCpu;
    }

    /**
     * {@return the largest resident set of the command or a process it waited for, in KiB}
     */
    public long maxRssKb() {
        return maxRssKb;
    }

    /** This result with {@code violations} (in the order {@link #violations()} documents). */
    SandboxResult withViolations(List<Violation> list) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, list, usage, commit, connections,
                setupTimings);
    }

    /** This result with its transactional workspace's commit ({@link #commit()}). */
    SandboxResult withCommit(CommitResult c) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, violations, usage, c, connections,
                setupTimings);
    }

    /**
     * What the commit of a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace
     * applied, when it was committed as the command ended ({@link CommitOn#SUCCESS} and exit
     * status 0). Empty for a direct workspace, for a transactional one whose changes were
     * discarded (the workspace is as it was), and with {@link CommitOn#MANUAL} (see
     * {@link SandboxedProcess#commit()}).
     *
     * @return what the commit applied, or empty when there was none
     */
    public Optional<CommitResult> commit() {
        return Optional.ofNullable(commit);
    }

    /** This result with what the sandbox measured ({@link #limitHit()} and the figures). */
    SandboxResult withUsage(Usage u) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, violations, u, commit, connections,
                setupTimings);
    }

    /** This result with its start's set-up timings ({@link #setupTimings()}). */
    SandboxResult withSetupTimings(SetupTimings t) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, violations, usage, commit, connections,
                t);
    }

    /**
     * Where the time of the sandbox's start went, step by step: present only when the start
     * was asked to measure it ({@link SandboxBuilder#measureSetup(boolean)}) and the command
     * ran.
     *
     * @return the timings, or empty when they were not measured
     */
    public Optional<SetupTimings> setupTimings() {
        return Optional.ofNullable(setupTimings);
    }

    /** This result with its proxy's connection log ({@link #connections()}). */
    SandboxResult withConnections(List<Connection> list) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, violations, usage, commit, list,
                setupTimings);
    }

    /**
     * Every connection a sandbox with a {@linkplain Network#allow(String...) network allow
     * list} asked its proxy for, allowed or not, aggregated per host, port, address, verdict,
     * rule and reason, in the order each first occurred. Empty for {@link Network#NONE} and
     * {@link Network#HOST}, which have no proxy.
     *
     * @return the connections, unmodifiable
     */
    public List<Connection> connections() {
        return connections;
    }

    /**
     * The resource limit that ended the command, or, when it ended by itself, one it ran into
     * (a fork refused at the process bound, writes refused at the workspace quota, output past
     * its bound). Where several apply, the one that killed the command comes first: memory,
     * output, CPU time, file size, wall time, then disk and processes.
     *
     * @return the limit, or empty when none was hit
     */
    public Optional<LimitHit> limitHit() {
        return Optional.ofNullable(usage.limitHit());
    }

    /**
     * The peak memory of the whole sandbox, from its cgroup ({@code memory.peak}, or
     * {@code memory.max_usage_in_bytes} on cgroup v1); without a cgroup, the largest resident
     * set of a single process ({@link #maxRssKb()} in bytes), which is a lower bound of the
     * whole tree's.
     *
     * @return the peak memory in bytes; 0 when nothing was measured (the helper died)
     */
    public long peakMemoryBytes() {
        return usage.peakMemoryBytes() != 0 ? usage.peakMemoryBytes() : maxRssKb * 1024;
    }

    /**
     * {@return whether {@link #peakMemoryBytes()} is the whole sandbox's} It is when the
     * sandbox had a cgroup; otherwise it is one process's.
     */
    public boolean peakMemoryIsWholeSandbox() {
        return usage.peakMemoryBytes() != 0;
    }

    /**
     * {@return the most processes the sandbox held at once} Empty when it was not measured.
     */
    public OptionalLong peakProcesses() {
        return usage.peakProcesses() == 0 ? OptionalLong.empty()
                : OptionalLong.of(usage.peakProcesses());
    }

    /**
     * {@return how many bytes the command wrote to its stdout and stderr while the helper
     * relayed them} Dropped bytes included.
     */
    public long outputBytes() {
        return usage.outputBytes();
    }

    /**
     * {@return how many bytes of {@link #outputBytes()} went past the output bound and were
     * dropped}
     */
    public long droppedOutputBytes() {
        return usage.outputDroppedBytes();
    }

    /**
     * What the sandbox applied differently from what the policy asked, one line each: a
     * best-effort memory bound that fell back to the per-process bound, for instance. Empty
     * when everything was applied as asked.
     *
     * @return the notes, unmodifiable
     */
    public List<String> notes() {
        return usage.notes();
    }

    /**
     * The system calls {@code report} rules of the profile caught, one entry per system call
     * with its count, in the order of their first occurrence. Empty when the profile has no
     * report rules, nothing was caught, or the kernel has no seccomp user notification (then
     * report rules deny without recording; see {@link ProbeReport#seccompUserNotification()}).
     *
     * @return the caught system calls, unmodifiable
     */
    public List<Violation> violations() {
        return violations;
    }

    /**
     * {@return why the helper ended without reporting the command's end} Its step is
     * {@link SetupStep#HELPER}. Empty when the helper reported the end.
     */
    public Optional<SetupError> setupError() {
        return Optional.ofNullable(setupError);
    }

    @Override
    public String toString() {
        return "SandboxResult[exitCode=" + exitCode + ", signal=" + signal
                + (timedOut ? ", timedOut" : "") + (killed ? ", killed" : "")
                + ", wallTime=" + wallTime + ", userCpu=" + userCpu + ", systemCpu=" + systemCpu
                + ", maxRssKb=" + maxRssKb
                + (violations.isEmpty() ? "" : ", violations=" + violations.size())
                + (usage.limitHit() == null ? "" : ", limitHit=" + usage.limitHit())
                + (commit == null ? "" : ", commit=" + commit)
                + (connections.isEmpty() ? "" : ", connections=" + connections.size())
                + (setupError == null ? "" : ", setupError=" + setupError.message()) + "]";
    }
}
