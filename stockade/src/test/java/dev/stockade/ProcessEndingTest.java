package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Which calls end the command (SandboxedProcess's class comment): an interrupted wait does not,
 * nor a future's own timeout; cancelling a future of onResult() or onExit() does, as close()
 * does.
 */
@Timeout(120)
class ProcessEndingTest {
    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;

    private static SandboxedProcess sleeping() throws Exception {
        return Sandbox.command("sleep", "1000").policy(SandboxPolicy.defaults()).start();
    }

    @Test
    void anInterruptedWaitLeavesTheCommandRunning() throws Exception {
        SandboxedProcess p = sleeping();
        try {
            for (String wait : new String[] {"waitFor", "result"}) {
                AtomicReference<Throwable> thrown = new AtomicReference<>();
                CompletableFuture<Void> waiting = new CompletableFuture<>();
                Thread t = new Thread(() -> {
                    waiting.complete(null);
                    try {
                        if (wait.equals("waitFor")) {
                            p.waitFor();
                        } else {
                            p.result();
                        }
                    } catch (Throwable e) {
                        thrown.set(e);
                    }
                });
                t.start();
                waiting.get();
                t.interrupt();
                t.join(HANG_LIMIT.toMillis());
                assertInstanceOf(InterruptedException.class, thrown.get(), wait);
                assertTrue(p.isAlive(), wait + ": the command must run on");
                assertFalse(p.waitFor(200, TimeUnit.MILLISECONDS), wait);
            }
        } finally {
            p.close();
        }
        assertEquals(128 + SIGKILL, p.exitValue(), "close() killed it");
    }

    @Test
    void cancellingAFutureOfOnResultEndsTheCommand() throws Exception {
        try (SandboxedProcess p = sleeping()) {
            CompletableFuture<SandboxResult> watched = p.onResult();
            assertTrue(p.onResult().cancel(true));
            SandboxResult r = watched.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(128 + SIGTERM, r.exitCode(), r.toString());
            assertTrue(r.killed(), r.toString());
        }
    }

    @Test
    void cancellingAFutureOfOnExitEndsTheCommand() throws Exception {
        try (SandboxedProcess p = sleeping()) {
            assertTrue(p.onExit().cancel(false));
            assertEquals(128 + SIGTERM, p.onResult().get(HANG_LIMIT.toSeconds(),
                    TimeUnit.SECONDS).exitCode());
        }
    }

    @Test
    void aFuturesOwnTimeoutDoesNotEndTheCommand() throws Exception {
        try (SandboxedProcess p = sleeping()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> p.onResult()
                    .orTimeout(100, TimeUnit.MILLISECONDS).get());
            assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
            assertFalse(p.waitFor(200, TimeUnit.MILLISECONDS), "the command must run on");
        }
    }

    @Test
    void cancellingAfterTheEndChangesNothing() throws Exception {
        try (SandboxedProcess p = Sandbox.command("true").policy(SandboxPolicy.defaults())
                .start()) {
            assertEquals(0, p.waitFor());
            CompletableFuture<SandboxResult> late = p.onResult();
            assertFalse(late.cancel(true));
            assertEquals(0, late.get().exitCode());
        }
    }
}
