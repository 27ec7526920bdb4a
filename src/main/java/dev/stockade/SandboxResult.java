package dev.stockade;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

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

    SandboxResult(int exitCode, int signal, boolean coreDumped, boolean timedOut, boolean killed,
            Duration wallTime, Duration userCpu, Duration systemCpu, long maxRssKb,
            SetupError setupError) {
        this(exitCode, signal, coreDumped, timedOut, killed, wallTime, userCpu, systemCpu,
                maxRssKb, setupError, List.of());
    }

    private SandboxResult(int exitCode, int signal, boolean coreDumped, boolean timedOut,
            boolean killed, Duration wallTime, Duration userCpu, Duration systemCpu,
            long maxRssKb, SetupError setupError, List<Violation> violations) {
        this.violations = List.copyOf(violations);
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

    /** The exit status; 128+N when the command was killed by signal N. */
    public int exitCode() {
        return exitCode;
    }

    /** The signal that killed the command, 0 when it exited by itself. */
    public int signal() {
        return signal;
    }

    /** Whether the kernel wrote a core dump (never with the default core limit of 0). */
    public boolean coreDumped() {
        return coreDumped;
    }

    /** Whether the command exited by itself ({@code exit}), rather than by a signal. */
    public boolean exitedNormally() {
        return signal == 0 && setupError == null;
    }

    /** Whether the policy's timeout expired and the helper ended the sandbox. */
    public boolean timedOut() {
        return timedOut;
    }

    /** Whether the sandbox was ended on request ({@code destroy}, {@code close}, owner gone). */
    public boolean killed() {
        return killed;
    }

    /** Wall-clock time from the command's start to its end, as the helper measured it. */
    public Duration wallTime() {
        return wallTime;
    }

    /** User CPU time of the command and every process it waited for. */
    public Duration userCpu() {
        return userCpu;
    }

    /** System CPU time of the command and every process it waited for. */
    public Duration systemCpu() {
        return systemCpu;
    }

    /** The largest resident set of the command or a process it waited for, in KiB. */
    public long maxRssKb() {
        return maxRssKb;
    }

    /** This result with {@code violations} (in the order {@link #violations()} documents). */
    SandboxResult withViolations(List<Violation> list) {
        return new SandboxResult(exitCode, signal, coreDumped, timedOut, killed, wallTime,
                userCpu, systemCpu, maxRssKb, setupError, list);
    }

    /**
     * The system calls {@code report} rules of the profile caught, one entry per system call
     * with its count, in the order of their first occurrence. Empty when the profile has no
     * report rules, nothing was caught, or the kernel has no seccomp user notification (then
     * report rules deny without recording; see {@link ProbeReport#seccompUserNotification()}).
     */
    public List<Violation> violations() {
        return violations;
    }

    /** Set when the helper ended without reporting the command's end (step "helper"). */
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
                + (setupError == null ? "" : ", setupError=" + setupError.message()) + "]";
    }
}
