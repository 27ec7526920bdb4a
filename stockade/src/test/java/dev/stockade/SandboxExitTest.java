package dev.stockade;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static dev.stockade.testing.SandboxTesting.PYTHON;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exit codes and signals come back exactly. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class SandboxExitTest {
    private static final SandboxPolicy POLICY = SandboxPolicy.defaults();

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 42, 255})
    void exitCodes(int code) throws Exception {
        Output out = run(POLICY, "/bin/sh", "-c", "exit " + code);
        SandboxResult r = out.result();
        assertEquals(code, r.exitCode());
        assertEquals(0, r.signal());
        assertTrue(r.exitedNormally());
        assertFalse(r.timedOut());
        assertFalse(r.killed());
        assertTrue(r.setupError().isEmpty());
    }

    /**
     * waitFor() returns at the sandbox's end, the helper's own exit follows on the library's
     * thread: close() waits for it, so nothing of the spawn is left after close() (no child,
     * no zombie), and the same holds for a sandbox close() itself ends.
     */
    @Test
    void closeReturnsOnlyOnceTheHelperIsReaped() throws Exception {
        for (String script : new String[] {"exit 4", "sleep 600"}) {
            SandboxedProcess p = Sandbox.command("/bin/sh", "-c", script)
                    .policy(SandboxPolicy.defaults()).start();
            if (script.startsWith("exit")) {
                assertEquals(4, p.waitFor());
            }
            p.close();
            assertFalse(java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + p.pid())),
                    script + ": the helper " + p.pid() + " is reaped when close() returns");
            assertFalse(p.isAlive());
        }
    }

    @Test
    void exitValueAndWaitForAgree() throws Exception {
        SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "exit 3").policy(POLICY).start();
        assertEquals(3, p.waitFor());
        assertEquals(3, p.exitValue());
        assertFalse(p.isAlive());
        assertTrue(p.waitFor(0, TimeUnit.SECONDS));
        assertSame(p, p.onExit().get());
        assertEquals(3, p.result().exitCode());
        assertEquals(3, p.resultNow().orElseThrow().exitCode());
    }

    @Test
    void killedBySigkill() throws Exception {
        Output out = run(POLICY, "/bin/sh", "-c", "kill -KILL $$");
        assertEquals(9, out.result().signal());
        assertEquals(137, out.exitCode());
        assertFalse(out.result().exitedNormally());
        assertFalse(out.result().killed(), "the command killed itself; nobody asked for it");
        assertFalse(out.result().timedOut());
    }

    @Test
    void realSegmentationFault() throws Exception {
        // A genuine invalid memory access, not a sent signal; no core (core limit 0 by default).
        Output out = run(POLICY, PYTHON, "-c", "import ctypes; ctypes.string_at(0)");
        assertEquals(11, out.result().signal());
        assertEquals(139, out.exitCode());
        assertFalse(out.result().coreDumped());
    }

    @Test
    void sigsegvSentBySelf() throws Exception {
        Output out = run(POLICY, "/bin/sh", "-c", "kill -SEGV $$");
        assertEquals(11, out.result().signal());
        assertEquals(139, out.exitCode());
    }

    @Test
    void exitValueWhileRunningThrows() throws Exception {
        try (SandboxedProcess p = Sandbox.command("sleep", "1000").policy(POLICY).start()) {
            assertTrue(p.isAlive());
            assertThrows(IllegalThreadStateException.class, p::exitValue);
            assertFalse(p.waitFor(10, TimeUnit.MILLISECONDS));
            assertTrue(p.resultNow().isEmpty());
            p.destroyForcibly();
            assertEquals(137, p.waitFor());
            assertTrue(p.result().killed());
        }
    }

    @Test
    void resourceFiguresAreReported() throws Exception {
        // Burn a little CPU in user space so the counters are not all zero.
        Output out = run(POLICY, PYTHON, "-c", "x = sum(i * i for i in range(3_000_000))");
        SandboxResult r = out.result();
        assertEquals(0, r.exitCode());
        assertTrue(r.userCpu().toNanos() > 0, r.toString());
        assertTrue(r.wallTime().toNanos() > 0, r.toString());
        assertTrue(r.maxRssKb() > 1000, "python3 needs more than 1 MB: " + r);
    }

    @Test
    void helperIsAChildOfThisJvm() throws Exception {
        try (SandboxedProcess p = Sandbox.command("sleep", "1000").policy(POLICY).start()) {
            ProcessHandle handle = p.toHandle();
            assertEquals(p.pid(), handle.pid());
            assertEquals(ProcessHandle.current().pid(),
                    handle.parent().orElseThrow().pid());
            assertTrue(p.supportsNormalTermination());
            assertTrue(p.sandboxPid() > 0);
            assertTrue(p.commandPid() > 1, "pid 1 is the helper, the command comes after it");
        }
    }
}
