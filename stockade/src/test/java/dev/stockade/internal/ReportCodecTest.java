package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.EventReader;
import dev.stockade.internal.ProtocolException;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SpecEncoder;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire format of report rules: REPORT spec fields and VIOLATION events, byte for byte. */
@Pure
class ReportCodecTest {

    private static SandboxSpec spec(byte[] bpf, List<SandboxSpec.ReportSpec> reports) {
        return new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null, List.of(),
                List.of(), 0, 0, bpf, reports);
    }

    @Test
    void reportFieldsFollowTheProgram() throws Exception {
        byte[] bpf = new byte[8];
        byte[] frame = SpecEncoder.encode(spec(bpf, List.of(new SandboxSpec.ReportSpec(101, 1),
                new SandboxSpec.ReportSpec(435, 0))));
        byte[] without = SpecEncoder.encode(spec(bpf, List.of()));
        // Same spec plus two fields of 8 + 8 bytes at the end; the frame length grows by 32.
        assertEquals(without.length + 32, frame.length);
        byte[] tail = Arrays.copyOfRange(frame, without.length, frame.length);
        assertEquals("0d000000" + "08000000" + "65000000" + "01000000"
                + "0d000000" + "08000000" + "b3010000" + "00000000",
                HexFormat.of().formatHex(tail));
        assertEquals(frame.length - 8, ByteBuffer.wrap(frame, 4, 4)
                .order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertArrayEquals(Arrays.copyOfRange(without, 8, without.length),
                Arrays.copyOfRange(frame, 8, without.length));
    }

    private static byte[] violation(int length, int nr, int errno, long count, int pid,
            int reserved) {
        ByteBuffer b = ByteBuffer.allocate(8 + length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(104).putInt(length);
        if (length >= 72) {
            b.putInt(nr).putInt(errno).putLong(count).putInt(pid).putInt(reserved);
            for (int i = 0; i < 6; i++) {
                b.putLong(i == 5 ? -1L : 0x1000L + i);
            }
        }
        return b.array();
    }

    private static ControlEvent read(byte[] bytes) throws Exception {
        EventReader r = new EventReader(new ByteArrayInputStream(bytes));
        ControlEvent e = r.next();
        assertNull(r.next(), "one frame");
        return e;
    }

    @Test
    void violationDecodes() throws Exception {
        byte[] frame = violation(72, 101, 1, 100_000L, 7, 0);
        assertEquals("68000000" + "48000000" + "65000000" + "01000000" + "a086010000000000"
                + "07000000" + "00000000" + "0010000000000000",
                HexFormat.of().formatHex(frame, 0, 40));
        ControlEvent.Violation v = (ControlEvent.Violation) read(frame);
        assertEquals(new ControlEvent.Violation(101, 1, 100_000L, 7, List.of(0x1000L, 0x1001L,
                0x1002L, 0x1003L, 0x1004L, -1L)), v);
    }

    @Test
    void badViolationsAreProtocolErrors() {
        assertEquals("event type 104 has length 80, expected 72", assertThrows(
                ProtocolException.class, () -> read(violation(80, 1, 1, 1, 1, 0)))
                .getMessage());
        assertEquals("event type 104 has length 0, expected 72", assertThrows(
                ProtocolException.class, () -> read(violation(0, 1, 1, 1, 1, 0)))
                .getMessage());
        assertEquals("VIOLATION with errno 4096", assertThrows(ProtocolException.class,
                () -> read(violation(72, 1, 4096, 1, 1, 0))).getMessage());
        assertEquals("VIOLATION with count 0", assertThrows(ProtocolException.class,
                () -> read(violation(72, 1, 1, 0, 1, 0))).getMessage());
        assertEquals("VIOLATION with pid 0", assertThrows(ProtocolException.class,
                () -> read(violation(72, 1, 1, 1, 0, 0))).getMessage());
        assertEquals("VIOLATION with reserved field 5", assertThrows(ProtocolException.class,
                () -> read(violation(72, 1, 1, 1, 1, 5))).getMessage());
        assertEquals("VIOLATION with syscall number 4294967295", assertThrows(
                ProtocolException.class, () -> read(violation(72, -1, 1, 1, 1, 0)))
                .getMessage());
    }
}
