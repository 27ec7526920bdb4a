package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.hostPidsWithMarker;
import static dev.stockade.testing.SandboxTesting.marker;
import static dev.stockade.testing.SandboxTesting.openFdCount;
import static dev.stockade.testing.SandboxTesting.zombieChildren;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many spawns, in a loop and concurrently, leave no zombie, no descriptor, no process. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(600)
class LifecycleLeakTest {

    private static SandboxPolicy policy(String marker) {
        return SandboxPolicy.builder().env("MARK", marker).build();
    }

    @BeforeAll
    static void warmUp() throws Exception {
        // Load the natives, extract the helper, start the reaper pool: descriptors the JVM
        // keeps for good (the library, jar files) must not count as leaks.
        SandboxTesting.run(SandboxPolicy.defaults(), "true");
    }

    /** Exercises every stream: stdin is written, stdout and stderr are read (or left unread). */
    private static void spawnOnce(SandboxPolicy policy, int i) throws Exception {
        SandboxedProcess p = Sandbox.command("bash", "-c",
                "exec -a \"$MARK\" bash -c 'read x; echo \"$x\"; echo e >&2; exit $((x % 7))'")
                .policy(policy).start();
        p.getOutputStream().write((i + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        p.getOutputStream().close();
        if (i % 2 == 0) {
            // Read stdout; leave stderr unread: the process must still release its pipe.
            assertEquals(i + "\n", new String(p.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }
        assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(i % 7, p.exitValue());
    }

    private static void assertNoLeaks(int fdsBefore, String marker) throws Exception {
        // A helper is reaped just after its result is in (the library's reaper thread).
        awaitTrue("no zombie child of this JVM is left: " + zombieChildren(),
                () -> zombieChildren().isEmpty());
        assertEquals(List.of(), hostPidsWithMarker(marker), "leftover sandboxed processes");
        // The JVM opens and closes descriptors of its own now and then (class loading, GC
        // logs); wait for it to settle rather than compare one instant.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int now = openFdCount();
        while (now > fdsBefore && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
            now = openFdCount();
        }
        assertTrue(now <= fdsBefore, "descriptors before " + fdsBefore + ", after " + now);
    }

    @Test
    void twoHundredSpawnsInALoop() throws Exception {
        String marker = marker();
        SandboxPolicy policy = policy(marker);
        int fdsBefore = openFdCount();
        for (int i = 0; i < 200; i++) {
            spawnOnce(policy, i);
        }
        assertNoLeaks(fdsBefore, marker);
    }

    @Test
    void fiftyConcurrentSpawnsFromEightThreads() throws Exception {
        String marker = marker();
        SandboxPolicy policy = policy(marker);
        int fdsBefore = openFdCount();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> spawns = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int n = i;
                spawns.add(threads.submit(() -> {
                    spawnOnce(policy, n);
                    return null;
                }));
            }
            for (Future<?> f : spawns) {
                f.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdown();
            assertTrue(threads.awaitTermination(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
        assertNoLeaks(fdsBefore, marker);
    }

    @Test
    void failedStartsLeakNothingEither() throws Exception {
        int fdsBefore = openFdCount();
        for (int i = 0; i < 50; i++) {
            try {
                Sandbox.command("/nonexistent/command").policy(SandboxPolicy.defaults()).start();
                throw new AssertionError("started a command that does not exist");
            } catch (SandboxSetupException expected) {
                assertEquals(127, expected.exitCode());
            }
        }
        assertNoLeaks(fdsBefore, marker());
    }
}
