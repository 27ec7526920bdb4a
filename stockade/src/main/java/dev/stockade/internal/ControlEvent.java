package dev.stockade.internal;

import dev.stockade.SetupStep;
import java.util.List;

/** A frame the helper sends on the control socket, decoded by {@link EventReader}. */
public sealed interface ControlEvent {

    /**
     * A warm sandbox ({@code STK_F_WARM}) is set up; pid 1 waits for the COMMAND frame
     * ({@code STK_EVT_READY}).
     */
    enum Ready implements ControlEvent {
        INSTANCE
    }

    /**
     * The command is running ({@code STK_EVT_STARTED}).
     *
     * @param sandboxPid host pid of the sandbox's pid 1
     * @param commandPid the command's pid inside the sandbox
     */
    record Started(int sandboxPid, int commandPid) implements ControlEvent {}

    /**
     * Set-up failed before the command ran ({@code STK_EVT_ERROR}).
     *
     * @param errno the failed step's errno (0 when none)
     * @param exitCode 125 set-up, 126 not executable, 127 not found
     * @param step the failed step
     * @param detail what the step worked on; may be empty
     */
    record Error(int errno, int exitCode, SetupStep step, String detail) implements ControlEvent {}

    /**
     * A system call a report rule caught ({@code STK_EVT_VIOLATION}), aggregated by the helper:
     * sent at the first occurrence and again with the final count before EXITED.
     *
     * @param syscall the syscall number
     * @param errno what the calls got; 0 when they were let through
     * @param count calls so far
     * @param pid the first caller's pid inside the sandbox
     * @param arguments the first call's six argument registers
     */
    record Violation(int syscall, int errno, long count, int pid, List<Long> arguments)
            implements ControlEvent {
        public Violation {
            arguments = List.copyOf(arguments);
        }

        /** The arguments as the six registers. */
        public long[] argumentArray() {
            long[] a = new long[arguments.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = arguments.get(i);
            }
            return a;
        }
    }

    /**
     * The command ended ({@code STK_EVT_EXITED}).
     *
     * @param waitStatus the command's status as {@code waitpid} reports it
     * @param flags {@link Protocol#EXIT_TIMED_OUT}, {@link Protocol#EXIT_KILLED}
     * @param wallTimeNs wall-clock time from the command's start
     * @param userCpuUs user CPU time (microseconds)
     * @param sysCpuUs system CPU time (microseconds)
     * @param maxRssKb peak resident set size (KiB)
     * @param peakMemoryBytes the whole sandbox's peak memory from its cgroup; 0 without one
     * @param peakProcesses the most processes the sandbox held at once; 0 when not measured
     * @param outputBytes what the command wrote to the streams the helper relays
     * @param outputDroppedBytes of those, what went past the output bound and was dropped
     */
    record Exited(int waitStatus, int flags, long wallTimeNs, long userCpuUs, long sysCpuUs,
            long maxRssKb, long peakMemoryBytes, long peakProcesses, long outputBytes,
            long outputDroppedBytes) implements ControlEvent {
        public boolean timedOut() {
            return (flags & Protocol.EXIT_TIMED_OUT) != 0;
        }

        public boolean killed() {
            return (flags & Protocol.EXIT_KILLED) != 0;
        }
    }
}
