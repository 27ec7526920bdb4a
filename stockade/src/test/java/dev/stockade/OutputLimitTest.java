package dev.stockade;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.hostPidsWithMarker;
import static dev.stockade.testing.SandboxTesting.marker;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.io.InputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SandboxPolicy.Builder#maxOutputBytes}: the monitor relays stdout and stderr through
 * pipes of its own, delivers exactly the bound, in order, and drops (or kills at) the rest; the
 * counts in the result are exact because each step writes a known number of bytes.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(300)
class OutputLimitTest {
    private static final long MIB = 1024 * 1024;
    private static final long GIB = 1024 * MIB;

    private static SandboxPolicy capped(long bytes, boolean kill) {
        return SandboxPolicy.builder().maxOutputBytes(bytes).killAtMaxOutput(kill).build();
    }

    /** Reads {@code in} to its end through a small buffer: the bytes are counted, not kept. */
    private static long drain(InputStream in) throws Exception {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            for (int i = 0; i < n; i++) {
                if (buffer[i] != 0) {
                    throw new AssertionError("byte " + (total + i) + " is " + buffer[i]);
                }
            }
            total += n;
        }
        return total;
    }

    @Test
    void aGibibyteToAPipeDeliversExactlyTheBoundAndTheStepRunsToItsEnd() throws Exception {
        try (SandboxedProcess p = Sandbox.command("sh", "-c",
                "head -c " + GIB + " /dev/zero; echo done >&2").policy(capped(MIB, false))
                .start()) {
            p.getOutputStream().close();
            long delivered = drain(p.getInputStream());
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(MIB, delivered, r.toString());
            // stderr shares the budget, which stdout used up: "done\n" is counted and dropped.
            assertEquals("", err, r.toString());
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals(Optional.empty(), r.limitHit(), r.toString());
            assertEquals(GIB + 5, r.outputBytes(), r.toString());
            assertEquals(GIB + 5 - MIB, r.droppedOutputBytes(), r.toString());
        }
    }

    @Test
    void belowTheBoundNothingIsLostOrReordered() throws Exception {
        Output all = run(capped(10 * MIB, false), "seq", "1", "200000");
        assertExitedZero(all);
        assertEquals(1288895, all.stdout().length());
        assertEquals(1288895, all.result().outputBytes());
        assertEquals(0, all.result().droppedOutputBytes());

        Output cut = run(capped(100000, false), "seq", "1", "200000");
        assertExitedZero(cut);
        assertEquals(all.stdout().substring(0, 100000), cut.stdout());
        assertEquals(1288895, cut.result().outputBytes());
        assertEquals(1288895 - 100000, cut.result().droppedOutputBytes());
    }

    @Test
    void stderrIsBoundedToo() throws Exception {
        Output out = run(capped(1000, false), "sh", "-c", "head -c 3000000 /dev/zero >&2");
        assertExitedZero(out);
        assertEquals("", out.stdout());
        assertEquals("\0".repeat(1000), out.stderr());
        assertEquals(3000000, out.result().outputBytes());
        assertEquals(2999000, out.result().droppedOutputBytes());
    }

    @Test
    void stdoutAndStderrShareOneBudget() throws Exception {
        Output out = run(capped(6, false), "sh", "-c", "printf aaaa; printf bbbb >&2");
        assertExitedZero(out);
        assertEquals(6, out.stdout().length() + out.stderr().length(), out.toString());
        assertEquals(8, out.result().outputBytes());
        assertEquals(2, out.result().droppedOutputBytes());
    }

    @Test
    void mergedStreamsKeepTheirOrder() throws Exception {
        Output out = run(Sandbox.command("sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2")
                .policy(capped(7, false)).redirectErrorStream(true));
        assertExitedZero(out);
        assertEquals("1\n2\n3\n4", out.stdout());
        assertEquals(8, out.result().outputBytes());
        assertEquals(1, out.result().droppedOutputBytes());
    }

    @Test
    void killModeKillsAtTheFirstBytePastTheBound() throws Exception {
        // Allowed first: exactly the bound is no violation.
        Output exact = run(capped(1000, true), "sh", "-c", "head -c 1000 /dev/zero");
        assertExitedZero(exact);
        assertEquals(1000, exact.stdout().length());
        assertEquals(Optional.empty(), exact.result().limitHit());

        Output out = run(capped(1000, true), "sh", "-c",
                "head -c 1001 /dev/zero; sleep 100; echo never");
        assertEquals(1000, out.stdout().length(), out.toString());
        assertEquals(Optional.of(LimitHit.OUTPUT), out.result().limitHit(), out.toString());
        assertEquals(9, out.result().signal(), out.toString());
        assertFalse(out.result().timedOut());
        assertEquals(1001, out.result().outputBytes());
        assertEquals(1, out.result().droppedOutputBytes());
    }

    @Test
    void killModeOnStderr() throws Exception {
        Output out = run(capped(10, true), "sh", "-c", "echo 0123456789abc >&2; sleep 100");
        assertEquals("0123456789", out.stderr(), out.toString());
        assertEquals(Optional.of(LimitHit.OUTPUT), out.result().limitHit(), out.toString());
        assertEquals(9, out.result().signal());
    }

    @Test
    void filesGetExactlyTheBound(@TempDir Path dir) throws Exception {
        Path expected = dir.resolve("expected");
        Output all = run(Sandbox.command("seq", "1", "100000").redirectOutput(expected.toFile()));
        assertExitedZero(all);
        byte[] whole = Files.readAllBytes(expected);

        Path written = dir.resolve("written");
        Output cut = run(Sandbox.command("seq", "1", "100000").policy(capped(5000, false))
                .redirectOutput(written.toFile()));
        assertExitedZero(cut);
        assertArrayEquals(java.util.Arrays.copyOf(whole, 5000), Files.readAllBytes(written));

        Path appended = Files.writeString(dir.resolve("appended"), "head\n");
        Output app = run(Sandbox.command("seq", "1", "100000").policy(capped(5000, false))
                .redirectOutput(Redirect.appendTo(appended.toFile())));
        assertExitedZero(app);
        byte[] got = Files.readAllBytes(appended);
        assertEquals(5005, got.length);
        assertEquals(new String(whole, 0, 5000, StandardCharsets.US_ASCII),
                new String(got, 5, 5000, StandardCharsets.US_ASCII));
        assertEquals(whole.length - 5000, app.result().droppedOutputBytes());
    }

    /** Without a bound the command writes to the caller's file itself; with one, to a pipe. */
    @Test
    void onlyABoundPutsARelayBetweenTheCommandAndItsOutput(@TempDir Path dir) throws Exception {
        String probe = "[ -f /proc/self/fd/1 ] && echo file; [ -p /proc/self/fd/1 ] && echo pipe;"
                + " true";
        Path plain = dir.resolve("plain");
        assertExitedZero(run(Sandbox.command("sh", "-c", probe).redirectOutput(plain.toFile())));
        assertEquals("file\n", Files.readString(plain));

        Path relayed = dir.resolve("relayed");
        Output out = run(Sandbox.command("sh", "-c", probe).policy(capped(MIB, false))
                .redirectOutput(relayed.toFile()));
        assertExitedZero(out);
        assertEquals("pipe\n", Files.readString(relayed));
        assertEquals(5, out.result().outputBytes());

        Output none = run(SandboxPolicy.defaults(), "sh", "-c", "echo hi");
        assertEquals(0, none.result().outputBytes());
    }

    /** Nor a kill: the monitor serves the KILL frame while its relay waits for the caller. */
    @Test
    void aCallerThatDoesNotReadCanStillKill() throws Exception {
        try (SandboxedProcess p = Sandbox.command("yes").policy(capped(GIB, false)).start()) {
            p.getOutputStream().close();
            byte[] some = p.getInputStream().readNBytes(100); // the relay is running
            assertEquals("y\n".repeat(50), new String(some, StandardCharsets.US_ASCII));
            p.destroyForcibly();
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(r.killed(), r.toString());
            assertEquals(9, r.signal(), r.toString());
            assertTrue(r.outputBytes() >= 100 && r.outputBytes() < GIB, r.toString());
        }
    }

    /**
     * A caller that does not read blocks the step below the bound (as a pipe of its own would),
     * but not the timeout: the result arrives, and what the caller then reads is at most the
     * bound.
     */
    @Test
    void aCallerThatDoesNotReadStillGetsItsTimeout() throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().maxOutputBytes(8 * MIB)
                .timeout(Duration.ofSeconds(1)).killGrace(Duration.ZERO).build();
        try (SandboxedProcess p = Sandbox.command("head", "-c", String.valueOf(GIB), "/dev/zero")
                .policy(policy).start()) {
            p.getOutputStream().close();
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(r.timedOut(), r.toString());
            assertEquals(Optional.of(LimitHit.WALL_TIME), r.limitHit(), r.toString());
            long delivered = drain(p.getInputStream());
            assertTrue(delivered <= 8 * MIB, delivered + " bytes, " + r);
            assertTrue(r.outputBytes() >= delivered, r.toString());
        }
    }

    /**
     * Without a pid namespace a daemon the command started outlives it and may keep the relay
     * pipe and write to it forever: the result still arrives soon after the timeout (the
     * relay reads the sources for a bounded while after pid 1's end), not when the daemon
     * stops. Found by the attacker review: the result came only when the daemon stopped.
     */
    @Test
    void aTricklingDaemonWithoutAPidNamespaceDoesNotHoldTheResultBack() throws Exception {
        String mark = marker();
        SandboxPolicy policy = SandboxPolicy.builder().disable(Namespace.PID)
                .maxOutputBytes(MIB).timeout(Duration.ofSeconds(1)).build();
        // The daemon writes a line every 0.2 s for 120 s.
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c",
                "setsid bash -c 'exec -a " + mark + " bash -c \"for i in \\$(seq 600); do echo t;"
                        + " sleep 0.2; done\"' & sleep 1000")
                .policy(policy).start()) {
            p.getOutputStream().close();
            CompletableFuture<String> out = readAsync(p.getInputStream());
            // Allowed case: the daemon runs, and its lines reach the caller (below).
            awaitTrue("the daemon running", () -> p.isAlive() && hostPidsWithMarker(mark)
                    .size() == 1);
            SandboxResult r = p.onResult().get(60, TimeUnit.SECONDS);
            assertTrue(r.timedOut(), r.toString());
            assertEquals(Optional.of(LimitHit.WALL_TIME), r.limitHit(), r.toString());
            assertTrue(out.get(60, TimeUnit.SECONDS).startsWith("t\n"), r.toString());
        } finally {
            for (long pid : hostPidsWithMarker(mark)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
