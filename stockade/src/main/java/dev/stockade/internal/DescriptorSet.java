package dev.stockade.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * File descriptors opened for one spawn, closed together on failure unless handed over to their
 * new owner first; and the one way to close a descriptor whose close error tells nothing.
 */
public final class DescriptorSet {
    private final List<Integer> open = new ArrayList<>();

    /** Tracks {@code fd} and returns it. */
    public int add(int fd) {
        open.add(fd);
        return fd;
    }

    /** Stops tracking {@code fd}, whose new owner closes it; returns it (-1 stays -1). */
    public int release(int fd) {
        if (fd >= 0) {
            open.remove(Integer.valueOf(fd));
        }
        return fd;
    }

    /** Closes every descriptor still tracked. */
    public void closeAll() {
        for (int fd : open) {
            closeQuietly(fd);
        }
        open.clear();
    }

    /** Closes {@code fd}, ignoring an error: close(2) releases the descriptor even then. */
    public static void closeQuietly(int fd) {
        try {
            NativeBridge.close(fd);
        } catch (IOException e) {
            // The descriptor is released all the same; nothing is left to do.
        }
    }
}
