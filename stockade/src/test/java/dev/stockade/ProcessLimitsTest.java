package dev.stockade;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rlimits that end a command, each named in {@link SandboxResult#limitHit()}, and the
 * per-process memory bound that, unlike the address-space one, lets a JVM run. Each limit is
 * shown to let the allowed case through first.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(180)
class ProcessLimitsTest {
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
    private static final long MIB = 1024 * 1024;
    private static final int SIGXCPU = 24;
    private static final int SIGXFSZ = 25;
    private static final int SIGKILL = 9;

    private static SandboxPolicy limited(Limits.Builder limits) {
        return SandboxPolicy.builder().limits(limits.build()).build();
    }

    @Test
    void aCpuSpinnerGetsSigxcpuAtItsCpuTime() throws Exception {
        SandboxPolicy policy = limited(Limits.builder().cpuTimeSeconds(1));
        Output quick = run(policy, "sh", "-c", "exit 0");
        assertEquals(0, quick.exitCode(), quick.result().toString());
        assertEquals(Optional.empty(), quick.result().limitHit());

        Output spinner = run(policy, "sh", "-c", "while :; do :; done");
        assertEquals(SIGXCPU, spinner.result().signal(), spinner.result().toString());
        assertEquals(128 + SIGXCPU, spinner.exitCode());
        assertEquals(Optional.of(LimitHit.CPU_TIME), spinner.result().limitHit());
        assertFalse(spinner.result().killed());
    }

    @Test
    void aSpinnerThatIgnoresSigxcpuIsKilledOneSecondLaterAndStillNamed() throws Exception {
        Output spinner = run(limited(Limits.builder().cpuTimeSeconds(1)), "sh", "-c",
                "trap '' XCPU; while :; do :; done");
        assertEquals(SIGKILL, spinner.result().signal(), spinner.result().toString());
        assertEquals(Optional.of(LimitHit.CPU_TIME), spinner.result().limitHit());
        Duration cpu = spinner.result().userCpu().plus(spinner.result().systemCpu());
        // rusage lags the scheduler's count a little: at least the soft limit, past the SIGXCPU.
        assertTrue(cpu.compareTo(Duration.ofSeconds(1)) >= 0, spinner.result().toString());
    }

    @Test
    void writingPastTheFileSizeGetsSigxfsz() throws Exception {
        SandboxPolicy policy = limited(Limits.builder().fileSizeBytes(64 * 1024));
        Output fits = run(policy, "sh", "-c", "head -c 65536 /dev/zero > /tmp/f && wc -c < /tmp/f");
        assertEquals(0, fits.exitCode(), fits.stderr());
        assertEquals("65536\n", fits.stdout());
        assertEquals(Optional.empty(), fits.result().limitHit());

        Output dd = run(policy, "sh", "-c", "exec dd if=/dev/zero of=/tmp/f bs=4096 count=32");
        assertEquals(SIGXFSZ, dd.result().signal(), dd.result().toString());
        assertEquals(Optional.of(LimitHit.FILE_SIZE), dd.result().limitHit());
    }

    @Test
    void aTimeoutIsTheWallTimeLimitAndAKillOnRequestIsNoLimit() throws Exception {
        Output late = run(SandboxPolicy.builder().timeout(Duration.ofMillis(300)).build(),
                "sleep", "1000");
        assertTrue(late.result().timedOut(), late.result().toString());
        assertEquals(Optional.of(LimitHit.WALL_TIME), late.result().limitHit());

        try (SandboxedProcess p = Sandbox.command("sleep", "1000")
                .policy(limited(Limits.builder().cpuTimeSeconds(1))).start()) {
            p.destroyForcibly();
            SandboxResult r = p.result();
            assertEquals(SIGKILL, r.signal(), r.toString());
            assertTrue(r.killed());
            assertEquals(Optional.empty(), r.limitHit());
        }
    }

    @Test
    void memoryPerProcessLetsAJvmRunWhereTheAddressSpaceLimitDoesNot() throws Exception {
        Output jvm = run(limited(Limits.builder().memoryPerProcessBytes(256 * MIB)),
                JAVA, "-Xmx128m", "-version");
        assertEquals(0, jvm.exitCode(), jvm.stderr());
        assertTrue(jvm.stderr().contains("version"), jvm.stdout() + "|" + jvm.stderr());

        // The same JVM under an address-space bound of 1 GiB cannot even reserve its heap and
        // class space: why memoryPerProcess is the bound to use.
        Output asLimited = run(limited(Limits.builder().addressSpaceBytes(1024 * MIB)),
                JAVA, "-Xmx128m", "-version");
        assertEquals(1, asLimited.exitCode(), asLimited.stderr());
        // HotSpot prints its initialization errors on stdout.
        assertEquals("Error occurred during initialization of VM\n"
                + "Could not allocate compressed class space: 1073741824 bytes\n",
                asLimited.stdout(), asLimited.stderr());
    }

    @Test
    void memoryPerProcessStopsACommitPastIt() throws Exception {
        SandboxPolicy policy = limited(Limits.builder().memoryPerProcessBytes(256 * MIB));
        Output small = run(policy, "python3", "-c",
                "b = bytearray(100 * 1024 * 1024); print(len(b))");
        assertEquals(0, small.exitCode(), small.stderr());
        assertEquals("104857600\n", small.stdout());

        Output big = run(policy, "python3", "-c", "b = bytearray(700 * 1024 * 1024)");
        assertEquals(1, big.exitCode(), big.stderr());
        assertTrue(big.stderr().contains("MemoryError"), big.stderr());

        Output preTouch = run(limited(Limits.builder().memoryPerProcessBytes(128 * MIB)),
                JAVA, "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-version");
        assertEquals(1, preTouch.exitCode(), preTouch.stderr());
        assertTrue(preTouch.stderr().contains("error='Not enough space' (errno=12)"),
                preTouch.stdout() + "|" + preTouch.stderr());
    }
}
