package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Limits;
import dev.stockade.Namespace;
import dev.stockade.Network;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void rejectsWhatTheHelperWouldReject() {
        assertThrows(SpecException.class, () -> SpecEncoder.encode(withArgv(List.of())));
        SpecException nul = assertThrows(SpecException.class,
                () -> SpecEncoder.encode(withArgv(List.of("a\0b"))));
        assertTrue(nul.getMessage().contains("NUL"), nul.getMessage());
        String longArg = "x".repeat(Protocol.MAX_STRING + 1);
        assertThrows(SpecException.class, () -> SpecEncoder.encode(withArgv(List.of(longArg))));
        List<String> many = new ArrayList<>(Collections.nCopies(Protocol.MAX_ARGS + 1, "a"));
        assertThrows(SpecException.class, () -> SpecEncoder.encode(withArgv(many)));
        // 300 arguments of 64 KiB: each is fine, together they pass the 16 MiB limit.
        List<String> big = new ArrayList<>(Collections.nCopies(300, "y".repeat(65536)));
        SpecException tooBig = assertThrows(SpecException.class,
                () -> SpecEncoder.encode(withArgv(big)));
        assertTrue(tooBig.getMessage().contains("larger than"), tooBig.getMessage());
        assertThrows(SpecException.class, () -> SpecEncoder.encode(new SandboxSpec(List.of("a"),
                List.of(), "relative", 0, 0, 0, null, List.of(), List.of(), 0, 0, null)));
        assertThrows(SpecException.class, () -> SpecEncoder.encode(new SandboxSpec(List.of("a"),
                List.of(), "/", 0, 0, 0, null, List.of(), List.of(), 0, 0, new byte[12])));
        assertThrows(SpecException.class, () -> SpecEncoder.encode(new SandboxSpec(List.of("a"),
                List.of(), "/", 0, 0, 0, null, List.of(), List.of(), 0, 0,
                new byte[8 * (Protocol.MAX_BPF_INSNS + 1)])));
        assertThrows(SpecException.class, () -> SpecEncoder.encode(new SandboxSpec(List.of("a"),
                List.of(), "/", 0, 0, 0, "h".repeat(65), List.of(), List.of(), 0, 0, null)));
    }

    private static SandboxSpec withArgv(List<String> argv) {
        return new SandboxSpec(argv, List.of(), "/", 0, 0, 0, null, List.of(), List.of(), 0, 0,
                null);
    }

    @Test
    void defaultPolicyResolvesToEveryNamespaceAndTheDocumentedDefaults() {
        SandboxPolicy policy = SandboxPolicy.builder().unsetEnv("LANG").unsetEnv("TERM")
                .seccomp(SeccompProfile.none()).build();
        SandboxSpec spec = SpecEncoder.fromPolicy(List.of("true"), policy, Path.of("/"), null);
        assertEquals(0x7e020000, spec.namespaces());
        assertEquals(List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp"),
                spec.environment());
        assertEquals("stockade", spec.hostname());
        assertEquals(List.of(new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0,
                512L * 1024 * 1024, "", "/tmp"), new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS,
                0, 16L * 1024 * 1024, "", "/run")), spec.mounts());
        assertEquals(List.of(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE, 1024, 4096),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC, 4096, 4096),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CORE, 0, 0)), spec.rlimits());
        assertEquals(List.of(
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_INOTIFY_INSTANCES, 32),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_INOTIFY_WATCHES, 16384),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_FANOTIFY_GROUPS, 4),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_FANOTIFY_MARKS, 1024),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_NAMESPACES, 8)),
                spec.userLimits());
        assertEquals(64, spec.ptyMax());
        assertEquals(0, spec.timeoutMs());
        assertEquals(2000, spec.killGraceMs());
        assertNull(spec.seccompBpf());
    }

    @Test
    void policyResolution(@TempDir Path dir) {
        SandboxPolicy policy = SandboxPolicy.builder()
                .workspace(dir)
                .network(Network.HOST)
                .disable(Namespace.UTS)
                .bindReadOnly(Path.of("/usr"), Path.of("/tmp/a/b/usr"))
                .limits(Limits.builder().openFiles(100).processes(50).fileSizeBytes(1 << 20)
                        .cpuTimeSeconds(9).addressSpaceBytes(1L << 32).stackBytes(1 << 23)
                        .coreBytes(Limits.UNSET).build())
                .timeout(Duration.ofMillis(1500))
                .killGrace(Duration.ofMillis(250))
                .uid(1234).gid(4321)
                .build();
        SandboxSpec spec = SpecEncoder.fromPolicy(List.of("true"), policy, dir, null);
        assertEquals(0x7e020000 & ~0x40000000 & ~0x04000000, spec.namespaces());
        assertNull(spec.hostname(), "no UTS namespace: no hostname field");
        assertEquals(1234, spec.uid());
        assertEquals(4321, spec.gid());
        assertEquals(dir.toString(), spec.cwd());
        // Shallowest first: the tmpfs mounts, then the workspace under /tmp, then the deeper bind.
        assertEquals(List.of(
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 512L * 1024 * 1024, "", "/tmp"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 16L * 1024 * 1024, "", "/run"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, 0, 0, dir.toString(),
                        dir.toString()),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/usr",
                        "/tmp/a/b/usr")), spec.mounts());
        assertEquals(List.of(
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE, 100, 100),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC, 50, 50),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_FSIZE, 1 << 20, 1 << 20),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CPU, 9, 9),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_AS, 1L << 32, 1L << 32),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_STACK, 1 << 23, 1 << 23)),
                spec.rlimits());
        assertEquals(1500, spec.timeoutMs());
        assertEquals(250, spec.killGraceMs());
    }

    @Test
    void subMillisecondTimeoutIsStillATimeout() {
        SandboxPolicy policy = SandboxPolicy.builder().timeout(Duration.ofNanos(1)).build();
        assertEquals(1, SpecEncoder.fromPolicy(List.of("true"), policy, Path.of("/"), null)
                .timeoutMs());
    }
}
