package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SPEC frame, byte for byte, against native/include/stockade.h. */
class SpecEncoderTest {

    private static SandboxSpec sample() {
        return new SandboxSpec(List.of("/bin/echo", "hi"), List.of("A=b"), "/w", 0x10000000,
                1000, 1001, "h",
                List.of(new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 4096, "", "/tmp"),
                        new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0,
                                "/s", "/d")),
                List.of(new SandboxSpec.RlimitSpec(7, 64, 65)), 1500, 2000,
                new byte[] {0x06, 0x00, 0x00, 0x00, 0x00, 0x00, (byte) 0xff, 0x7f});
    }

    @Test
    void encodesEveryFieldLittleEndianInOrder() throws Exception {
        byte[] payload = new WireBytes()
                .hex("53 54 4b 44")                   // magic "STKD"
                .hex("01 00 00 00")                   // version 1
                .hex("01 00 00 00 09 00 00 00").ascii("/bin/echo") // ARG
                .hex("01 00 00 00 02 00 00 00").ascii("hi")        // ARG
                .hex("02 00 00 00 03 00 00 00").ascii("A=b")       // ENV
                .hex("03 00 00 00 02 00 00 00").ascii("/w")        // CWD
                .hex("04 00 00 00 04 00 00 00 00 00 00 10")        // NAMESPACES CLONE_NEWUSER
                .hex("05 00 00 00 04 00 00 00 e8 03 00 00")        // UID 1000
                .hex("06 00 00 00 04 00 00 00 e9 03 00 00")        // GID 1001
                .hex("07 00 00 00 01 00 00 00").ascii("h")         // HOSTNAME
                .hex("08 00 00 00 1c 00 00 00")                    // MOUNT, 28 bytes
                .hex("02 00 00 00 00 00 00 00")                    //   tmpfs, flags 0
                .hex("00 10 00 00 00 00 00 00")                    //   size 4096
                .hex("00 00 00 00")                                //   src ""
                .hex("04 00 00 00").ascii("/tmp")                  //   dst
                .hex("08 00 00 00 1c 00 00 00")                    // MOUNT, 28 bytes
                .hex("01 00 00 00 01 00 00 00")                    //   bind, READONLY
                .hex("00 00 00 00 00 00 00 00")                    //   size 0
                .hex("02 00 00 00").ascii("/s")
                .hex("02 00 00 00").ascii("/d")
                .hex("09 00 00 00 18 00 00 00")                    // RLIMIT, 24 bytes
                .hex("07 00 00 00 00 00 00 00")                    //   NOFILE, reserved
                .hex("40 00 00 00 00 00 00 00 41 00 00 00 00 00 00 00") // soft 64, hard 65
                .hex("0a 00 00 00 08 00 00 00 dc 05 00 00 00 00 00 00") // TIMEOUT_MS 1500
                .hex("0b 00 00 00 08 00 00 00 d0 07 00 00 00 00 00 00") // KILL_GRACE_MS 2000
                .hex("0c 00 00 00 08 00 00 00 06 00 00 00 00 00 ff 7f") // SECCOMP_BPF
                .bytes();
        byte[] expected = new WireBytes().hex("01 00 00 00").u32(payload.length).bytes();
        byte[] frame = new byte[expected.length + payload.length];
        System.arraycopy(expected, 0, frame, 0, expected.length);
        System.arraycopy(payload, 0, frame, expected.length, payload.length);

        assertArrayEquals(frame, SpecEncoder.encode(sample()));
    }

    @Test
    void omitsTimeoutHostnameAndFilterWhenNotSet() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null);
        byte[] expected = new WireBytes()
                .hex("01 00 00 00").u32(8 + 9 + 9 + 12 * 3 + 16)
                .hex("53 54 4b 44 01 00 00 00")
                .hex("01 00 00 00 01 00 00 00").ascii("x")
                .hex("03 00 00 00 01 00 00 00").ascii("/")
                .hex("04 00 00 00 04 00 00 00 00 00 00 00")
                .hex("05 00 00 00 04 00 00 00 00 00 00 00")
                .hex("06 00 00 00 04 00 00 00 00 00 00 00")
                .hex("0b 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00")
                .bytes();
        assertArrayEquals(expected, SpecEncoder.encode(spec));
    }

    @Test
    void encodesTheCgroupLimits() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null, List.of(), null, List.of(), 0,
                new SandboxSpec.CgroupSpec(128L << 20, 0, 64, 50000, 100000), List.of(), 0,
                Protocol.OUTPUT_DROP, null);
        byte[] expected = new WireBytes()
                .hex("01 00 00 00").u32(8 + 9 + 9 + 12 * 3 + 16 * 5)
                .hex("53 54 4b 44 01 00 00 00")
                .hex("01 00 00 00 01 00 00 00").ascii("x")
                .hex("03 00 00 00 01 00 00 00").ascii("/")
                .hex("04 00 00 00 04 00 00 00 00 00 00 00")
                .hex("05 00 00 00 04 00 00 00 00 00 00 00")
                .hex("06 00 00 00 04 00 00 00 00 00 00 00")
                .hex("0b 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00")
                .hex("11 00 00 00 08 00 00 00 00 00 00 08 00 00 00 00") // MEMORY_MAX 128 MiB
                .hex("12 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00") // MEMORY_SWAP_MAX 0
                .hex("13 00 00 00 08 00 00 00 40 00 00 00 00 00 00 00") // PIDS_MAX 64
                .hex("14 00 00 00 08 00 00 00 50 c3 00 00 a0 86 01 00") // CPU_MAX 50000 100000
                .bytes();
        assertArrayEquals(expected, SpecEncoder.encode(spec));
        // No swap field (the helper's default, 0), no pids, no CPU: only what is set.
        SandboxSpec memoryOnly = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null, List.of(), null, List.of(), 0,
                new SandboxSpec.CgroupSpec(128L << 20, -1, 0, 0, 100000), List.of(), 0,
                Protocol.OUTPUT_DROP, null);
        byte[] encoded = SpecEncoder.encode(memoryOnly);
        assertEquals(expected.length - 16 * 3, encoded.length);
    }

    @Test
    void theOutputBoundIsOneField() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null, List.of(), null, List.of(), 0, null,
                List.of(), 0x0102030405L, Protocol.OUTPUT_KILL, null);
        byte[] expected = new WireBytes()
                .hex("01 00 00 00").u32(8 + 9 + 9 + 12 * 3 + 16 + 24)
                .hex("53 54 4b 44 01 00 00 00")
                .hex("01 00 00 00 01 00 00 00").ascii("x")
                .hex("03 00 00 00 01 00 00 00").ascii("/")
                .hex("04 00 00 00 04 00 00 00 00 00 00 00")
                .hex("05 00 00 00 04 00 00 00 00 00 00 00")
                .hex("06 00 00 00 04 00 00 00 00 00 00 00")
                .hex("0b 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00")
                .hex("17 00 00 00 10 00 00 00")                    // MAX_OUTPUT, 16 bytes
                .hex("05 04 03 02 01 00 00 00 01 00 00 00 00 00 00 00")
                .bytes();
        assertArrayEquals(expected, SpecEncoder.encode(spec));
    }

    @Test
    void theEgressForwarderIsOneField() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null, List.of(), null, List.of(), 0, null,
                List.of(), 0, Protocol.OUTPUT_DROP,
                new SandboxSpec.EgressSpec(3128, 256, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                        11, 12, 13, 14, 15, 16}, "/run/e.sock"));
        byte[] expected = new WireBytes()
                .hex("01 00 00 00").u32(8 + 9 + 9 + 12 * 3 + 16 + 8 + 8 + 16 + 11)
                .hex("53 54 4b 44 01 00 00 00")
                .hex("01 00 00 00 01 00 00 00").ascii("x")
                .hex("03 00 00 00 01 00 00 00").ascii("/")
                .hex("04 00 00 00 04 00 00 00 00 00 00 00")
                .hex("05 00 00 00 04 00 00 00 00 00 00 00")
                .hex("06 00 00 00 04 00 00 00 00 00 00 00")
                .hex("0b 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00")
                .hex("18 00 00 00 23 00 00 00")                    // EGRESS, 35 bytes
                .hex("38 0c 00 00 00 01 00 00")                    // 3128, 256
                .hex("01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10") // the token
                .ascii("/run/e.sock")
                .bytes();
        assertArrayEquals(expected, SpecEncoder.encode(spec));
    }

    @Test
    void theViewsOwnMountsAreEncodedAsAnyOther() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("x"), List.of(), "/", 0, 0, 0, null,
                List.of(new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0644, "a:x:1:\n",
                                "/etc/group"),
                        new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT,
                                Protocol.MOUNT_READONLY | Protocol.MOUNT_CREATE, 0, "/w/.envrc",
                                "/w/.envrc"),
                        new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0, "usr/bin",
                                "/bin")),
                List.of(), 0, 0, null);
        byte[] expected = new WireBytes()
                .hex("01 00 00 00").u32(8 + 9 + 9 + 12 * 3 + (8 + 41) + (8 + 42) + (8 + 35) + 16)
                .hex("53 54 4b 44 01 00 00 00")
                .hex("01 00 00 00 01 00 00 00").ascii("x")
                .hex("03 00 00 00 01 00 00 00").ascii("/")
                .hex("04 00 00 00 04 00 00 00 00 00 00 00")
                .hex("05 00 00 00 04 00 00 00 00 00 00 00")
                .hex("06 00 00 00 04 00 00 00 00 00 00 00")
                .hex("08 00 00 00 29 00 00 00")                    // MOUNT, 41 bytes
                .hex("05 00 00 00 00 00 00 00")                    //   FILE, flags 0
                .hex("a4 01 00 00 00 00 00 00")                    //   mode 0644
                .hex("07 00 00 00").ascii("a:x:1:\n")              //   the content
                .hex("0a 00 00 00").ascii("/etc/group")
                .hex("08 00 00 00 2a 00 00 00")                    // MOUNT, 42 bytes
                .hex("06 00 00 00 11 00 00 00")                    //   PROTECT, READONLY|CREATE
                .hex("00 00 00 00 00 00 00 00")
                .hex("09 00 00 00").ascii("/w/.envrc")
                .hex("09 00 00 00").ascii("/w/.envrc")
                .hex("08 00 00 00 23 00 00 00")                    // MOUNT, 35 bytes
                .hex("03 00 00 00 00 00 00 00")                    //   SYMLINK
                .hex("00 00 00 00 00 00 00 00")
                .hex("07 00 00 00").ascii("usr/bin")               //   the link's content
                .hex("04 00 00 00").ascii("/bin")
                .hex("0b 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00")
                .bytes();
        assertArrayEquals(expected, SpecEncoder.encode(spec));
    }

    @Test
    void killFrames() {
        assertArrayEquals(new WireBytes().hex("02 00 00 00 04 00 00 00 00 00 00 00").bytes(),
                SpecEncoder.killFrame(Protocol.KILL_GRACEFUL));
        assertArrayEquals(new WireBytes().hex("02 00 00 00 04 00 00 00 01 00 00 00").bytes(),
                SpecEncoder.killFrame(Protocol.KILL_NOW));
    }

    @Test
    void utf8Strings() throws Exception {
        SandboxSpec spec = new SandboxSpec(List.of("\u00e9"), List.of(), "/", 0, 0, 0, null,
                List.of(), List.of(), 0, 0, null);
        byte[] frame = SpecEncoder.encode(spec);
        // header 8, magic+version 8, then the ARG field: tag, length 2, c3 a9
        assertArrayEquals(new WireBytes().hex("01 00 00 00 02 00 00 00 c3 a9").bytes(),
                java.util.Arrays.copyOfRange(frame, 16, 26));
    }

    @Test
    void refusesAFrameLargerThanTheProtocolAllows() throws Exception {
        // 300 arguments of 64 KiB: each is within its bound, together they pass the 16 MiB one.
        List<String> big = new ArrayList<>(Collections.nCopies(300, "y".repeat(65536)));
        assertEquals("the spec is larger than 16777216 bytes (command line and environment too"
                + " large)", assertThrows(SpecException.class,
                        () -> SpecEncoder.encode(withArgv(big))).getMessage());
        // 255 of them fit, with room for the other fields.
        List<String> fits = new ArrayList<>(Collections.nCopies(255, "y".repeat(65536)));
        assertTrue(SpecEncoder.encode(withArgv(fits)).length <= 8 + Protocol.MAX_SPEC_SIZE);
    }

    private static SandboxSpec withArgv(List<String> argv) {
        return new SandboxSpec(argv, List.of(), "/", 0, 0, 0, null, List.of(), List.of(), 0, 0,
                null);
    }
}
