package dev.stockade.internal;

import java.io.IOException;

/** Waiting for a descriptor with a deadline, as every wait of set-up does. */
public final class Readiness {
    private Readiness() {}

    /**
     * Waits until {@code fd} is readable (data, or the peer's end), at most until
     * {@code deadline} ({@link System#nanoTime()}); {@code false} when it passed. What came by
     * the deadline counts, however late this thread looks: the last poll is one that does not
     * wait.
     */
    public static boolean awaitReadable(int fd, long deadline) throws IOException {
        for (;;) {
            long left = deadline - System.nanoTime();
            // Rounded up: a poll that returns early only polls again.
            long ms = left <= 0 ? 0 : Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
            if (NativeBridge.poll(fd, NativeBridge.POLLIN, (int) ms) != 0) {
                return true;
            }
            if (left <= 0) {
                return false;
            }
        }
    }
}
