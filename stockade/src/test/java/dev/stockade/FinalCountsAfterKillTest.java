package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.PYTHON;
import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A sandbox killed at once (a timeout without grace, destroyForcibly, the output bound's kill)
 * takes pid 1 with it before pid 1 can send its final VIOLATION counts: the monitor sends them
 * from the table pid 1 counted in (shared memory), so the result has the exact count.
 */
@Timeout(120)
class FinalCountsAfterKillTest {
    private static final int CALLS = 7;

    /** python3: ptrace (x86_64 101, reported by the build profile) CALLS times, then "ready". */
    private static final String PROGRAM = String.join("\n",
            "import ctypes, sys, time",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "for i in range(" + CALLS + "):",
            "    libc.syscall(ctypes.c_long(101), ctypes.c_long(16), ctypes.c_long(0x7fffffff),"
                    + " ctypes.c_long(0), ctypes.c_long(0))",
            "print('ready', flush=True)",
            "time.sleep(100)");

    private static void assumeNotification() throws Exception {
        assertTrue(Sandbox.probe().seccompUserNotification(), "seccomp user notification");
    }

    private static void assertPtraceCount(SandboxResult r) {
        List<Violation> v = r.violations();
        assertEquals(1, v.size(), r.toString());
        assertEquals("ptrace", v.get(0).syscall());
        assertEquals(CALLS, v.get(0).count(), r.toString());
    }

    @Test
    void anExitedStepReportsItsCount() throws Exception {
        assumeNotification();
        Output out = python(SandboxPolicy.defaults(), PROGRAM.replace("time.sleep(100)", ""));
        assertEquals("ready\n", out.stdout(), out.toString());
        assertPtraceCount(out.result());
    }

    @Test
    void aTimeoutWithoutGraceStillReportsTheFinalCount() throws Exception {
        assumeNotification();
        SandboxPolicy policy = SandboxPolicy.builder().timeout(Duration.ofSeconds(2))
                .killGrace(Duration.ZERO).build();
        Output out = python(policy, PROGRAM);
        assertEquals("ready\n", out.stdout(), out.toString());
        assertTrue(out.result().timedOut(), out.toString());
        assertEquals(9, out.result().signal(), out.toString());
        assertPtraceCount(out.result());
    }

    @Test
    void destroyForciblyStillReportsTheFinalCount() throws Exception {
        assumeNotification();
        try (SandboxedProcess p = Sandbox.command(PYTHON, "-c", PROGRAM).start()) {
            p.getOutputStream().close();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine());
            p.destroyForcibly();
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(r.killed(), r.toString());
            assertPtraceCount(r);
        }
    }

    @Test
    void theOutputBoundsKillStillReportsTheFinalCount() throws Exception {
        assumeNotification();
        SandboxPolicy policy = SandboxPolicy.builder().maxOutputBytes(3).killAtMaxOutput(true)
                .build();
        Output out = python(policy, PROGRAM);
        assertEquals("rea", out.stdout(), out.toString());
        assertEquals(Optional.of(LimitHit.OUTPUT), out.result().limitHit(), out.toString());
        assertPtraceCount(out.result());
    }
}
