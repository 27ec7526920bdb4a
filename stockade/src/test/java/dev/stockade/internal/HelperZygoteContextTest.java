package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A spawn whose thread's context could not be read ({@code NativeBridge.spawnContext} null)
 * fails closed: it gets a zygote of its own for that one fork, never one another thread may
 * share, and that zygote ends once it forked.
 */
@Timeout(120)
class HelperZygoteContextTest {
    private static final int O_RDWR = 2;

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    @Test
    void aThreadWhoseContextIsUnknownGetsAZygoteOfItsOwnForOneFork() throws Exception {
        List<Long> before = SandboxTesting.zygotes();
        HelperZygote.Forked known1 = forkAndEnd(HelperZygote.contextOfThisThread());
        HelperZygote.Forked known2 = forkAndEnd(HelperZygote.contextOfThisThread());
        assertSame(known1.zygote(), known2.zygote(), "a known context is served by one zygote");
        List<Long> kept = SandboxTesting.zygotes();

        HelperZygote.Forked unknown1 = forkAndEnd(null);
        HelperZygote.Forked unknown2 = forkAndEnd(null);
        assertNotSame(known1.zygote(), unknown1.zygote());
        assertNotSame(unknown1.zygote(), unknown2.zygote());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!SandboxTesting.zygotes().equals(kept) && System.nanoTime() < deadline) {
            Thread.sleep(20); // ended on a reaper thread
        }
        assertEquals(kept, SandboxTesting.zygotes(),
                "the one-fork zygotes ended; the shared one stays");
        assertTrue(kept.containsAll(before), before + " " + kept);
    }

    /**
     * Forks a helper on /dev/null with a control socket this test closes at once: the helper
     * ends at EOF before any spec, exiting {@code STK_EXIT_SETUP}, and is reaped here.
     */
    private static HelperZygote.Forked forkAndEnd(String context) throws IOException {
        int devNull = NativeBridge.open("/dev/null", O_RDWR, 0);
        int[] sockets = NativeBridge.socketPair();
        HelperZygote.Forked forked;
        try {
            forked = HelperZygote.forkHelper(new int[] {devNull, devNull, devNull, sockets[1], -1},
                    System.nanoTime() + Duration.ofSeconds(30).toNanos(), context);
        } finally {
            DescriptorSet.closeQuietly(sockets[1]);
            DescriptorSet.closeQuietly(devNull);
        }
        assertTrue(ProcessHandle.current().children().anyMatch(c -> c.pid() == forked.pid()),
                "the helper " + forked.pid() + " is this JVM's child");
        DescriptorSet.closeQuietly(sockets[0]);
        int status = forked.zygote().waitForHelper(forked.pidfd());
        DescriptorSet.closeQuietly(forked.pidfd());
        assertEquals(Protocol.EXIT_SETUP << 8, status, "exited, no signal: " + status);
        return forked;
    }
}
