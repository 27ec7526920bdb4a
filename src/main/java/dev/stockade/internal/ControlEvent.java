package dev.stockade.internal;

/** A frame the helper sends on the control socket, decoded by {@link EventReader}. */
public sealed interface ControlEvent {

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
     * @param step the step's name
     * @param detail what the step worked on; may be empty
     */
    record Error(int errno, int exitCode, String step, String detail) implements ControlEvent {}

    /**
     * The command ended ({@code STK_EVT_EXITED}).
     *
     * @param waitStatus the command's status as {@code waitpid} reports it
     * @param flags {@link Protocol#EXIT_TIMED_OUT}, {@link Protocol#EXIT_KILLED}
     * @param wallTimeNs wall-clock time from the command's start
     * @param userCpuUs user CPU time (microseconds)
     * @param sysCpuUs system CPU time (microseconds)
     * @param maxRssKb peak resident set size (KiB)
     */
    record Exited(int waitStatus, int flags, long wallTimeNs, long userCpuUs, long sysCpuUs,
            long maxRssKb) implements ControlEvent {
        public boolean timedOut() {
            return (flags & Protocol.EXIT_TIMED_OUT) != 0;
        }

        public boolean killed() {
            return (flags & Protocol.EXIT_KILLED) != 0;
        }
    }
}
