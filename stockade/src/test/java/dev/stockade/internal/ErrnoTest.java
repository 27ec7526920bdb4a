package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.NativeBridge.NativeException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated {@link Errno} against the C library itself: a real failing system call, whose
 * message the JNI library takes from {@code strerror_r}.
 */
class ErrnoTest {
    private static final int O_RDONLY = 0;

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    /** The JNI message is "call: [what: ]strerror (errno N)". */
    private static void assertSameAsTheCLibrary(NativeException e) {
        String message = e.getMessage();
        assertTrue(message.startsWith(e.call() + ": "), message);
        assertTrue(message.endsWith(": " + Errno.message(e.errno()) + " (errno " + e.errno()
                + ")"), message);
    }

    @Test
    void aMissingFileReadsAsStrerrorSaysIt(@TempDir Path dir) {
        NativeException e = assertThrows(NativeException.class,
                () -> NativeBridge.open(dir.resolve("missing").toString(), O_RDONLY, 0));
        assertEquals(2, e.errno());
        assertEquals("ENOENT", Errno.name(e.errno()));
        assertEquals("No such file or directory", Errno.message(e.errno()));
        assertSameAsTheCLibrary(e);
    }

    @Test
    void aBadDescriptorReadsAsStrerrorSaysIt() {
        NativeException e = assertThrows(NativeException.class, () -> NativeBridge.close(-1));
        assertEquals(9, e.errno());
        assertEquals("EBADF", Errno.name(e.errno()));
        assertSameAsTheCLibrary(e);
    }

    @Test
    void namesAndNumbersGoBothWays() {
        for (int n = 1; n < 4096; n++) {
            String name = Errno.name(n);
            if (!name.startsWith("errno ")) {
                assertEquals(n, Errno.number(name), name);
            }
        }
        assertEquals(1, Errno.number("EPERM"));
        assertEquals(133, Errno.number("EHWPOISON"));
        assertEquals(-1, Errno.number("EWOULDBLOCK")); // an alias: EAGAIN is the name of 11
        assertEquals("EAGAIN", Errno.name(11));
    }

    @Test
    void unknownNumbersReadLikeGlibcs() {
        assertEquals("errno 41", Errno.name(41));
        assertEquals("Unknown error 41", Errno.message(41));
        assertEquals("errno 0", Errno.name(0));
        assertEquals("Unknown error 5000", Errno.message(5000));
    }
}
