package dev.stockade;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Child JVM of {@link SandboxPoolTest}: makes a pool of two warm sandboxes, prints READY, the
 * host pids of their helpers and of the helper zygote that forked them (each word
 * {@code comm:pid}), and waits to be killed.
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
                .forEach(c -> line.append(' ').append(comm(c.pid())).append(':').append(c.pid()));
        System.out.println(line);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return "gone";
        }
    }
}
