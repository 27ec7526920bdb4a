package dev.stockade;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.hostPidsWithMarker;
import static dev.stockade.testing.SandboxTesting.marker;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timeouts, destroy, close and the owner's death all end the whole sandboxed tree. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(180)
class TimeoutAndKillTest {

    /**
     * A command whose tree has a daemonized grandchild: a double fork plus setsid, so it is in
     * neither the command's process group nor its session, and not its child. Both carry the
     * marker in argv[0]; the marker reaches bash through the environment.
     */
    private static final String DAEMONIZING = "(setsid bash -c 'exec -a \"$MARK\" sleep 1000' &);"
            + " exec -a \"$MARK\" sleep 1000";

    /** Allowed case of every kill test: while it runs, the host sees both marked processes. */
    private static void awaitBothRunning(String marker) throws InterruptedException {
        awaitTrue("both marked processes running", () -> hostPidsWithMarker(marker).size() == 2);
    }

    private static SandboxPolicy marked(SandboxPolicy base, String marker) {
        return base.toBuilder().env("MARK", marker).build();
    }

    @Test
    void timeoutEndsTheCommandAndItsDaemonizedGrandchild() throws Exception {
        String marker = marker();
        SandboxPolicy policy = marked(SandboxPolicy.builder()
                .timeout(Duration.ofSeconds(1)).killGrace(Duration.ofSeconds(1)).build(), marker);
        try (SandboxedProcess p = Sandbox.command("bash", "-c", DAEMONIZING).policy(policy)
                .start()) {
            // Allowed case: while it runs, the host sees both marked processes.
            awaitBothRunning(marker);
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS), "ended by the timeout");
            SandboxResult r = p.result();
            assertTrue(r.timedOut(), r.toString());
            assertFalse(r.killed(), r.toString());
            assertEquals(15, r.signal(), "SIGTERM ended sleep within the grace: " + r);
            assertEquals(143, r.exitCode());
            // Gone as soon as the sandbox is: its pid 1 took every process with it.
            assertEquals(List.of(), hostPidsWithMarker(marker));
        }
    }

    @Test
    void timeoutEscalatesToSigkillWhenSigtermIsIgnored() throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().timeout(Duration.ofMillis(500))
                .killGrace(Duration.ofMillis(500)).build();
        Output out = run(policy, "bash", "-c",
                "trap '' TERM; echo ready; while :; do sleep 1; done");
        assertTrue(out.result().timedOut());
        assertEquals(9, out.result().signal(), out.result().toString());
        assertEquals(137, out.exitCode());
        assertEquals("ready\n", out.stdout());
    }

    @Test
    void destroySendsSigtermFirst() throws Exception {
        try (SandboxedProcess p = Sandbox.command("bash", "-c",
                "trap 'echo got-term; exit 7' TERM; echo ready; sleep 1000 & wait")
                .policy(SandboxPolicy.defaults()).start()) {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine());
            p.destroy();
            assertEquals("got-term", out.readLine());
            assertEquals(7, p.waitFor(), "the command's own exit after handling SIGTERM");
            assertTrue(p.result().killed());
            assertFalse(p.result().timedOut());
        }
    }

    @Test
    void destroyForciblyKillsAtOnce() throws Exception {
        String marker = marker();
        try (SandboxedProcess p = Sandbox.command("bash", "-c",
                "trap '' TERM; " + DAEMONIZING).policy(marked(SandboxPolicy.defaults(), marker))
                .start()) {
            awaitBothRunning(marker);
            p.destroyForcibly();
            assertEquals(137, p.waitFor());
            assertEquals(9, p.result().signal());
            assertTrue(p.result().killed());
            assertEquals(List.of(), hostPidsWithMarker(marker));
        }
    }

    @Test
    void closingTheProcessKillsTheTree() throws Exception {
        String marker = marker();
        SandboxedProcess p = Sandbox.command("bash", "-c", DAEMONIZING)
                .policy(marked(SandboxPolicy.defaults(), marker)).start();
        awaitBothRunning(marker);
        p.close();
        assertFalse(p.isAlive());
        assertEquals(List.of(), hostPidsWithMarker(marker));
        assertTrue(p.result().killed());
    }

    @Test
    void helperKilledFromOutsideIsReportedAndTakesTheTreeAlong() throws Exception {
        String marker = marker();
        try (SandboxedProcess p = Sandbox.command("bash", "-c", DAEMONIZING)
                .policy(marked(SandboxPolicy.defaults(), marker)).start()) {
            awaitBothRunning(marker);
            assertTrue(p.toHandle().destroyForcibly(), "SIGKILL to the helper itself");
            SandboxResult r = p.result();
            SetupError error = r.setupError().orElseThrow(() -> new AssertionError(r.toString()));
            assertEquals(SetupStep.HELPER, error.step());
            assertEquals(9, r.signal(), "the helper's own end: " + r);
            assertEquals(137, r.exitCode());
            assertFalse(r.exitedNormally());
            awaitTrue("marked processes gone after the helper died",
                    () -> hostPidsWithMarker(marker).isEmpty());
        }
    }

    @Test
    void killingTheJvmKillsTheTree() throws Exception {
        String marker = marker();
        // The marker goes in the environment: in argv the child JVM would match the scan too.
        Process jvm = ChildJvm.start(Map.of("STOCKADE_TEST_MARK", marker),
                SandboxHolderMain.class);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("READY", line, () -> "child JVM said " + line + "; stderr: "
                    + new String(readAvailable(jvm), StandardCharsets.UTF_8));
            awaitBothRunning(marker);
            jvm.destroyForcibly(); // SIGKILL: no shutdown hook, no close(), nothing runs
            assertTrue(jvm.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(137, jvm.exitValue());
            awaitTrue("marked processes gone after the owner died",
                    () -> hostPidsWithMarker(marker).isEmpty());
        } finally {
            jvm.destroyForcibly();
        }
    }

    private static byte[] readAvailable(Process p) {
        try {
            return p.getErrorStream().readNBytes(Math.max(0, p.getErrorStream().available()));
        } catch (java.io.IOException e) {
            return new byte[0];
        }
    }
}
