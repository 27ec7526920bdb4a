package dev.stockade.internal.egress;

import static dev.stockade.internal.egress.EgressFixtures.allow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.internal.egress.EgressFixtures.Client;
import dev.stockade.internal.egress.EgressFixtures.Echo;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The one proxy thread every sandbox uses outlives what one piece of work throws. */
@Timeout(60)
class EgressProxyTest {
    @Test
    void aTaskThrowingAnErrorDoesNotStopTheThread() throws Exception {
        try (Echo echo = new Echo()) {
            String target = "web.stockade.test:" + echo.port();
            EgressSession s = EgressSession.open(allow(target));
            try {
                EgressProxy proxy = s.proxy();
                OutOfMemoryError oom = new OutOfMemoryError("thrown by the test");
                CompletableFuture<Object> f = proxy.call(() -> {
                    throw oom;
                });
                ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
                assertSame(oom, e.getCause());
                proxy.execute(() -> {
                    throw new StackOverflowError("thrown by the test");
                });
                // Still the same thread, still serving: a task, and a sandbox's connection.
                assertEquals(1, proxy.call(() -> 1).get(10, TimeUnit.SECONDS));
                assertTrue(proxy.alive());
                assertSame(proxy, EgressProxy.shared());
                try (Client c = new Client(s)) {
                    c.connect(target);
                }
            } finally {
                assertEquals(List.of(new Connection("web.stockade.test", echo.port(),
                        "127.0.0.1", Verdict.ALLOWED, target, "", 1, 0, 0)), s.finish());
            }
        }
    }
}
