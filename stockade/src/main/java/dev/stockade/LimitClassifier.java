package dev.stockade;

import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.Protocol;
import java.util.List;

/**
 * Decides which limit a command ran into, from the helper's report and the policy's limits: the
 * one place that turns flags, signals and times into a {@link LimitHit}.
 */
final class LimitClassifier {
    private LimitClassifier() {}

    /** What the helper measured, with the limit hit (in {@link SandboxResult#limitHit()}'s order). */
    static SandboxResult.Usage usage(ControlEvent.Exited e, Limits limits, List<String> notes) {
        return new SandboxResult.Usage(classify(e, limits), e.peakMemoryBytes(),
                e.peakProcesses(), e.outputBytes(), e.outputDroppedBytes(), notes);
    }

    static LimitHit classify(ControlEvent.Exited e, Limits limits) {
        int flags = e.flags();
        int termsig = e.waitStatus() & 0x7f;
        if ((flags & Protocol.EXIT_MEMORY_LIMIT) != 0) {
            return LimitHit.MEMORY;
        }
        if ((flags & Protocol.EXIT_OUTPUT_LIMIT) != 0) {
            return LimitHit.OUTPUT;
        }
        if (termsig == Protocol.SIGNAL_XCPU || (termsig == Protocol.SIGNAL_KILL
                && !e.killed() && !e.timedOut() && usedCpuLimit(e, limits))) {
            return LimitHit.CPU_TIME;
        }
        if (termsig == Protocol.SIGNAL_XFSZ) {
            return LimitHit.FILE_SIZE;
        }
        if (e.timedOut()) {
            return LimitHit.WALL_TIME;
        }
        if ((flags & Protocol.EXIT_DISK_LIMIT) != 0) {
            return LimitHit.DISK;
        }
        if ((flags & Protocol.EXIT_PROCESS_LIMIT) != 0) {
            return LimitHit.PROCESSES;
        }
        return null;
    }

    /**
     * A SIGKILL nobody sent on request: RLIMIT_CPU's hard limit, when the command had used its
     * CPU time (it ignored or handled the SIGXCPU before).
     */
    private static boolean usedCpuLimit(ControlEvent.Exited e, Limits limits) {
        if (limits.cpuTimeSeconds().isEmpty()) {
            return false;
        }
        long usedUs = e.userCpuUs() + e.sysCpuUs();
        return usedUs >= limits.cpuTimeSeconds().getAsLong() * 1_000_000L;
    }
}
