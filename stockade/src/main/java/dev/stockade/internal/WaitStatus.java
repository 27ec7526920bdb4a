package dev.stockade.internal;

/** A {@code waitpid} status in words, for messages about the helper's end. */
public final class WaitStatus {
    private WaitStatus() {}

    /** "exit status N" or "killed by signal N" (with " (core dumped)" when it did). */
    public static String describe(int status) {
        int sig = status & 0x7f;
        if (sig == 0) {
            return "exit status " + ((status >> 8) & 0xff);
        }
        return "killed by signal " + sig + ((status & 0x80) != 0 ? " (core dumped)" : "");
    }
}
