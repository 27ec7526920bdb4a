package dev.stockade;

import java.util.ArrayList;
import java.util.List;

/**
 * Run inside a sandbox by {@link CgroupLimitsTest} ({@code java -Xmx1g -cp DIR
 * dev.stockade.MemoryHogMain}): allocates and touches 16 MiB arrays and keeps them all, so the
 * heap grows until something ends the JVM. Prints how many MiB it holds after each one.
 */
public final class MemoryHogMain {
    private MemoryHogMain() {}

    public static void main(String[] args) {
        List<byte[]> kept = new ArrayList<>();
        for (int i = 1; ; i++) {
            byte[] chunk = new byte[16 << 20];
            for (int off = 0; off < chunk.length; off += 4096) {
                chunk[off] = 1; // every page touched: committed and resident
            }
            kept.add(chunk);
            System.out.println(i * 16);
        }
    }
}
