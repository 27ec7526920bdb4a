package dev.stockade.internal;

import dev.stockade.testing.Pure;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.EventReader;
import dev.stockade.internal.ProtocolException;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The Java side's decoder of the helper's events, VIOLATION included, fed random and damaged
 * frames: every input gives events or a {@link ProtocolException}, nothing else, and never more
 * memory than the frame's own bounds.
 */
@Pure
class EventReaderFuzzTest {

    private static void readAll(byte[] bytes) throws Exception {
        EventReader r = new EventReader(new ByteArrayInputStream(bytes));
        try {
            for (ControlEvent e = r.next(); e != null; e = r.next()) {
                if (e instanceof ControlEvent.Violation v && (v.count() <= 0 || v.pid() <= 0
                        || v.errno() < 0 || v.errno() > 4095 || v.arguments().size() != 6)) {
                    throw new AssertionError("accepted a bad VIOLATION " + v);
                }
            }
        } catch (ProtocolException expected) {
            // The documented answer to a bad frame.
        }
    }

    @Property(tries = 3000)
    void randomBytes(@ForAll @Size(max = 200) byte[] bytes) throws Exception {
        readAll(bytes);
    }

    @Property(tries = 3000)
    void damagedViolationFrames(@ForAll @IntRange(min = 0, max = 79) int at,
            @ForAll byte value, @ForAll @IntRange(min = 0, max = 80) int cut) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(80).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(104).putInt(72).putInt(101).putInt(1).putLong(5).putInt(2).putInt(0);
        for (int i = 0; i < 6; i++) {
            b.putLong(i);
        }
        byte[] frame = b.array();
        frame[at] = value;
        byte[] truncated = new byte[cut];
        System.arraycopy(frame, 0, truncated, 0, cut);
        readAll(truncated);
    }
}
