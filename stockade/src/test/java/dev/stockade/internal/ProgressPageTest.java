package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.SetupStep;
import dev.stockade.SetupTimings;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The page's timings decoded exactly from pages written here, at the header's offsets. */
class ProgressPageTest {

    private static ByteBuffer page() {
        return ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void entered(ByteBuffer b, int... codes) {
        b.putInt(16, codes.length);
        for (int i = 0; i < codes.length; i++) {
            b.put(1024 + i, (byte) codes[i]);
        }
    }

    @Test
    void decodesTimesAndFirstEntryOrder() {
        ByteBuffer b = page();
        b.putInt(0, 33).putInt(4, 2).putLong(8, 123_456_789L);
        b.putLong(64 + 8 * 34, 500_000L); // helper
        b.putLong(64 + 8 * 5, 250_000L); // clone
        b.putLong(64 + 8 * 17, 7L); // bind
        b.putLong(64 + 8 * 33, 0x1_0000_0001L); // execve: all 64 bits
        entered(b, 34, 5, 17, 33);
        ProgressPage.Snapshot s = ProgressPage.decode(b.array());
        assertArrayEquals(new int[] {34, 5, 17, 33}, s.order());
        assertEquals(64, s.times().length);
        assertEquals(List.of(new SetupTimings.Step(SetupStep.HELPER, Duration.ofNanos(500_000)),
                new SetupTimings.Step(SetupStep.CLONE, Duration.ofNanos(250_000)),
                new SetupTimings.Step(SetupStep.BIND, Duration.ofNanos(7)),
                new SetupTimings.Step(SetupStep.EXECVE, Duration.ofNanos(0x1_0000_0001L))),
                s.steps());
    }

    @Test
    void stampIsStepHelperFromNow() {
        ByteBuffer b = ByteBuffer.wrap(ProgressPage.stamped(987_654_321_000L))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(4096, b.capacity());
        assertEquals(SetupStep.HELPER.code(), b.getInt(0));
        assertEquals(0, b.getInt(4));
        assertEquals(987_654_321_000L, b.getLong(8));
        assertEquals(1, b.getInt(16));
        assertEquals(SetupStep.HELPER.code(), b.get(1024));
        for (int i = 0; i < 64; i++) {
            assertEquals(0L, b.getLong(64 + 8 * i));
        }
    }

    @Test
    void aCountPastTheSlotsIsCutAndUnknownValuesAreLeftOut() {
        ByteBuffer b = page();
        b.putInt(16, 1000);
        for (int i = 0; i < 64; i++) {
            b.put(1024 + i, (byte) (i == 0 ? 5 : i == 1 ? 200 : 63));
        }
        b.put(1024 + 64, (byte) 8); // past the slots: never read
        ProgressPage.Snapshot s = ProgressPage.decode(b.array());
        assertEquals(63, s.order().length); // 200 is no slot
        assertEquals(5, s.order()[0]);
        // 63 is a slot but no step: not listed.
        assertEquals(List.of(new SetupTimings.Step(SetupStep.CLONE, Duration.ZERO)), s.steps());
        assertThrows(IllegalArgumentException.class, () -> ProgressPage.decode(new byte[4095]));
    }

    @Test
    void sinceGivesWhatHappenedAfterAnEarlierSnapshot() {
        ByteBuffer earlier = page();
        earlier.putLong(64 + 8 * 5, 100).putLong(64 + 8 * 48, 40);
        entered(earlier, 5, 48);
        ByteBuffer later = page();
        later.putLong(64 + 8 * 5, 100).putLong(64 + 8 * 48, 90).putLong(64 + 8 * 28, 3);
        entered(later, 5, 48, 28, 33);
        assertEquals(List.of(new SetupTimings.Step(SetupStep.COMMAND, Duration.ofNanos(50)),
                new SetupTimings.Step(SetupStep.SETSID, Duration.ofNanos(3)),
                new SetupTimings.Step(SetupStep.EXECVE, Duration.ZERO)),
                ProgressPage.decode(later.array()).since(ProgressPage.decode(earlier.array())));
    }
}
