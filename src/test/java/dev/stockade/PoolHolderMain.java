package dev.stockade;

import java.time.Duration;

/**
 * Child JVM of {@link SandboxPoolTest}: makes a pool of two warm sandboxes, prints READY and
 * the host pids of their helpers, and waits to be killed.
 */
public final class PoolHolderMain {
    private PoolHolderMain() {}

    public static void main(String[] args) throws Exception {
        SandboxPool pool = SandboxPool.create(SandboxPolicy.defaults(), 2);
        if (!pool.awaitReady(2, Duration.ofSeconds(120))) {
            System.exit(4);
        }
        StringBuilder line = new StringBuilder("READY");
        ProcessHandle.current().children()
                .filter(c -> c.info().command().map(cmd -> cmd.contains("/proc/self/fd/")
                        || cmd.endsWith("stockade-helper")).orElse(true))
                .forEach(c -> line.append(' ').append(c.pid()));
        System.out.println(line);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
