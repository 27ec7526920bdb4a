package dev.stockade.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real uid and gid of this JVM, read from {@code /proc/self/status} so that building and
 * validating a policy does not need the native library.
 */
public final class CallerIds {
    private CallerIds() {}

    private static volatile int[] ids;

    /** The caller's real uid. */
    public static int uid() {
        return load()[0];
    }

    /** The caller's real gid. */
    public static int gid() {
        return load()[1];
    }

    /** Whether the caller is root on the host (uid 0). */
    public static boolean isRoot() {
        return uid() == 0;
    }

    private static int[] load() {
        int[] cached = ids;
        if (cached == null) {
            cached = read(Path.of("/proc/self/status"));
            ids = cached;
        }
        return cached;
    }

    static int[] read(Path status) {
        int uid = -1;
        int gid = -1;
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                // "Uid:\treal\teffective\tsaved\tfs"
                if (line.startsWith("Uid:")) {
                    uid = Integer.parseUnsignedInt(line.substring(4).trim().split("\\s+")[0]);
                } else if (line.startsWith("Gid:")) {
                    gid = Integer.parseUnsignedInt(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the caller's ids from " + status, e);
        }
        if (uid == -1 || gid == -1) {
            throw new IllegalStateException("no Uid/Gid lines in " + status);
        }
        return new int[] {uid, gid};
    }
}
