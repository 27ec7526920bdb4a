package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.Protocol;
import dev.stockade.testing.Pure;
import org.junit.jupiter.api.Test;

/** Which limit a helper report names, and which wins when several apply. */
@Pure
class LimitClassifierTest {
    private static final Limits CPU_2S = Limits.builder().cpuTimeSeconds(2).build();
    private static final int EXIT_0 = 0;
    private static final int KILLED_BY_SIGKILL = 9;
    private static final int KILLED_BY_SIGXCPU = 24;
    private static final int KILLED_BY_SIGXFSZ = 25;

    private static ControlEvent.Exited exited(int status, int flags, long cpuUs) {
        return new ControlEvent.Exited(status, flags, 1, cpuUs, 0, 1, 0, 0, 0, 0);
    }

    @Test
    void aNormalExitHitsNothing() {
        assertNull(LimitClassifier.classify(exited(EXIT_0, 0, 5_000_000), CPU_2S));
        assertNull(LimitClassifier.classify(exited(3 << 8, 0, 0), Limits.defaults()));
    }

    @Test
    void signalsNameTheirRlimit() {
        assertEquals(LimitHit.CPU_TIME,
                LimitClassifier.classify(exited(KILLED_BY_SIGXCPU, 0, 2_000_000), CPU_2S));
        assertEquals(LimitHit.FILE_SIZE,
                LimitClassifier.classify(exited(KILLED_BY_SIGXFSZ, 0, 0), Limits.defaults()));
    }

    @Test
    void aSigkillIsTheCpuLimitOnlyWhenTheCpuTimeWasUsedAndNobodyAskedForIt() {
        assertEquals(LimitHit.CPU_TIME,
                LimitClassifier.classify(exited(KILLED_BY_SIGKILL, 0, 3_000_000), CPU_2S));
        assertNull(LimitClassifier.classify(exited(KILLED_BY_SIGKILL, 0, 1_999_999), CPU_2S));
        assertNull(LimitClassifier.classify(exited(KILLED_BY_SIGKILL, 0, 9_000_000),
                Limits.defaults()));
        assertNull(LimitClassifier.classify(
                exited(KILLED_BY_SIGKILL, Protocol.EXIT_KILLED, 3_000_000), CPU_2S));
        assertEquals(LimitHit.WALL_TIME, LimitClassifier.classify(
                exited(KILLED_BY_SIGKILL, Protocol.EXIT_TIMED_OUT, 3_000_000), CPU_2S));
    }

    @Test
    void flagsFromTheHelper() {
        assertEquals(LimitHit.MEMORY, LimitClassifier.classify(
                exited(KILLED_BY_SIGKILL, Protocol.EXIT_MEMORY_LIMIT, 0), Limits.defaults()));
        assertEquals(LimitHit.OUTPUT, LimitClassifier.classify(
                exited(KILLED_BY_SIGKILL, Protocol.EXIT_OUTPUT_LIMIT, 0), Limits.defaults()));
        assertEquals(LimitHit.DISK, LimitClassifier.classify(
                exited(1 << 8, Protocol.EXIT_DISK_LIMIT, 0), Limits.defaults()));
        assertEquals(LimitHit.PROCESSES, LimitClassifier.classify(
                exited(EXIT_0, Protocol.EXIT_PROCESS_LIMIT, 0), Limits.defaults()));
    }

    @Test
    void theLimitThatKilledComesBeforeOnesTheCommandOnlyRanInto() {
        int ranInto = Protocol.EXIT_PROCESS_LIMIT | Protocol.EXIT_DISK_LIMIT;
        assertEquals(LimitHit.MEMORY, LimitClassifier.classify(exited(KILLED_BY_SIGKILL,
                Protocol.EXIT_MEMORY_LIMIT | Protocol.EXIT_TIMED_OUT | ranInto, 0), CPU_2S));
        assertEquals(LimitHit.CPU_TIME,
                LimitClassifier.classify(exited(KILLED_BY_SIGXCPU, ranInto, 2_000_000), CPU_2S));
        assertEquals(LimitHit.WALL_TIME, LimitClassifier.classify(
                exited(15, Protocol.EXIT_TIMED_OUT | ranInto, 0), CPU_2S));
        assertEquals(LimitHit.DISK,
                LimitClassifier.classify(exited(1 << 8, ranInto, 0), Limits.defaults()));
    }
}
