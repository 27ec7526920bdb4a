package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import dev.stockade.SetupStep;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Decoding the helper's events, and refusing every malformed frame. */
@Pure
class EventReaderTest {

    private static EventReader reader(byte[] bytes) {
        return new EventReader(new ByteArrayInputStream(bytes));
    }

    @Test
    void decodesStarted() throws IOException {
        byte[] frame = new WireBytes().hex("65 00 00 00 08 00 00 00")
                .hex("39 30 00 00 02 00 00 00").bytes();
        assertEquals(new ControlEvent.Started(12345, 2), reader(frame).next());
    }

    @Test
    void decodesError() throws IOException {
        byte[] frame = new WireBytes().hex("66 00 00 00").u32(4 + 4 + 4 + 6 + 4 + 12)
                .u32(2).u32(127)
                .u32(6).ascii("execve")
                .u32(12).ascii("/nonexistent")
                .bytes();
        assertEquals(new ControlEvent.Error(2, 127, SetupStep.EXECVE, "/nonexistent"),
                reader(frame).next());
    }

    @Test
    void decodesErrorWithEmptyDetail() throws IOException {
        byte[] frame = new WireBytes().hex("66 00 00 00").u32(16 + 4).u32(1).u32(125)
                .u32(4).ascii("bind").u32(0).bytes();
        assertEquals(new ControlEvent.Error(1, 125, SetupStep.BIND, ""), reader(frame).next());
    }

    @Test
    void decodesExited() throws IOException {
        byte[] frame = new WireBytes().hex("67 00 00 00 48 00 00 00")
                .hex("09 00 00 00")                   // killed by SIGKILL
                .hex("03 00 00 00")                   // TIMED_OUT | KILLED
                .u64(1_500_000_000L).u64(1234).u64(5678).u64(4096)
                .u64(268_435_456L).u64(64).u64(1 << 20).u64(1000)
                .bytes();
        ControlEvent.Exited e = (ControlEvent.Exited) reader(frame).next();
        assertEquals(new ControlEvent.Exited(9, 3, 1_500_000_000L, 1234, 5678, 4096,
                268_435_456L, 64, 1 << 20, 1000), e);
        assertTrue(e.timedOut());
        assertTrue(e.killed());
    }

    @Test
    void readsFramesInSequenceThenCleanEndOfStream() throws IOException {
        byte[] bytes = new WireBytes()
                .hex("65 00 00 00 08 00 00 00 01 00 00 00 02 00 00 00")
                .hex("67 00 00 00 48 00 00 00").u32(3 << 8).u32(0).u64(1).u64(2).u64(3).u64(4)
                .u64(5).u64(6).u64(7).u64(8)
                .bytes();
        EventReader r = reader(bytes);
        assertEquals(new ControlEvent.Started(1, 2), r.next());
        assertEquals(new ControlEvent.Exited(3 << 8, 0, 1, 2, 3, 4, 5, 6, 7, 8), r.next());
        assertNull(r.next());
        assertNull(r.next());
    }

    @Test
    void emptyStreamIsEndOfStream() throws IOException {
        assertNull(reader(new byte[0]).next());
    }

    private static String rejected(byte[] bytes) {
        return assertThrows(ProtocolException.class, () -> reader(bytes).next()).getMessage();
    }

    @Test
    void rejectsTruncatedFrames() {
        assertTrue(rejected(new WireBytes().hex("65 00 00").bytes()).contains("inside a frame"));
        assertTrue(rejected(new WireBytes().hex("65 00 00 00 08 00 00 00 01 00 00 00").bytes())
                .contains("4 of 8"));
    }

    @Test
    void rejectsUnknownTypes() {
        assertTrue(rejected(new WireBytes().hex("01 00 00 00 00 00 00 00").bytes())
                .contains("unknown event type 1"));
        assertTrue(rejected(new WireBytes().hex("ff ff ff ff 00 00 00 00").bytes())
                .contains("unknown event type 4294967295"));
    }

    @Test
    void rejectsOversizedFramesBeforeReadingThem() {
        // A reader that fails if anything past the header is read: the length alone decides.
        byte[] header = new WireBytes().hex("66 00 00 00 ff ff ff ff").bytes();
        InputStream onlyHeader = new InputStream() {
            private int pos;

            @Override
            public int read() {
                if (pos >= header.length) {
                    throw new AssertionError("read past the header of an oversized frame");
                }
                return header[pos++] & 0xff;
            }
        };
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> new EventReader(onlyHeader).next());
        assertTrue(e.getMessage().contains("length 4294967295"), e.getMessage());
    }

    @Test
    void rejectsWrongFixedSizes() {
        rejected(new WireBytes().hex("65 00 00 00 0c 00 00 00").u32(1).u32(2).u32(3).bytes());
        rejected(new WireBytes().hex("65 00 00 00 04 00 00 00").u32(1).bytes());
        rejected(new WireBytes().hex("67 00 00 00 20 00 00 00").u64(0).u64(0).u64(0).u64(0)
                .bytes());
        rejected(new WireBytes().hex("66 00 00 00 0c 00 00 00").u32(0).u32(125).u32(0)
                .bytes());
    }

    @Test
    void rejectsBadErrorFields() {
        // step length runs past the payload
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16).u32(2).u32(125)
                .u32(20).u32(0).bytes()).contains("runs past"));
        // bytes after the detail
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16 + 1 + 1).u32(2).u32(125)
                .u32(1).ascii("s").u32(0).hex("00").bytes()).contains("after its fields"));
        // exit code outside 125..127
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(17).u32(2).u32(0)
                .u32(1).ascii("s").u32(0).bytes()).contains("exit code 0"));
        // errno beyond MAX_ERRNO
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(17).u32(5000).u32(125)
                .u32(1).ascii("s").u32(0).bytes()).contains("errno 5000"));
        // empty step
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16).u32(2).u32(125)
                .u32(0).u32(0).bytes()).contains("empty step"));
        // step longer than any step name
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16 + 32).u32(2).u32(125)
                .u32(32).ascii("s".repeat(32)).u32(0).bytes()).contains("at most 31"));
        // a step that is not in enum stk_step (the old spelling of mount_root)
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16 + 10).u32(2).u32(125)
                .u32(10).ascii("mount-root").u32(0).bytes())
                .contains("unknown step 'mount-root'"));
        // detail longer than the helper ever sends
        assertTrue(rejected(new WireBytes().hex("66 00 00 00").u32(16 + 4 + 256).u32(2)
                .u32(125).u32(4).ascii("bind").u32(256).ascii("d".repeat(256)).bytes())
                .contains("detail is 256 bytes, at most 255"));
    }

    @Test
    void rejectsNonPositivePids() {
        rejected(new WireBytes().hex("65 00 00 00 08 00 00 00").u32(0).u32(1).bytes());
        rejected(new WireBytes().hex("65 00 00 00 08 00 00 00").u32(1).u32(-1).bytes());
    }
}
