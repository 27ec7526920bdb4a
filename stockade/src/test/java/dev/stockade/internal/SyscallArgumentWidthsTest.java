package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.stockade.testing.Pure;
import org.junit.jupiter.api.Test;

/**
 * The generated {@link SyscallArgumentWidths}, checked on calls whose kernel signatures are
 * well known (the man pages' and the kernel's SYSCALL_DEFINE types).
 */
@Pure
class SyscallArgumentWidthsTest {

    /** {@code widths}: one letter per argument 0..5, N for 32-bit (narrow), W for 64-bit. */
    private static void assertWidths(String syscall, String widths) {
        StringBuilder actual = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            actual.append(SyscallArgumentWidths.is32Bit(syscall, i) ? 'N' : 'W');
        }
        assertEquals(widths, actual.toString(), syscall);
    }

    @Test
    void anIntIsNarrowAndAPointerOrSizeIsNot() {
        assertWidths("read", "NWWWWW"); // unsigned int fd, char *buf, size_t count
        assertWidths("socket", "NNNWWW"); // int, int, int
        assertWidths("ioctl", "NNWWWW"); // unsigned int fd, unsigned int cmd, unsigned long
        assertWidths("clone3", "WWWWWW"); // struct clone_args *, size_t
        assertWidths("getpid", "WWWWWW");
    }

    @Test
    void callsWhoseEntryPointHasAnotherNameAreCovered() {
        assertWidths("fstat", "NWWWWW"); // newfstat(unsigned int fd, struct stat *)
        assertWidths("sendfile", "NNWWWW"); // sendfile64(int, int, loff_t *, size_t)
        assertWidths("umount2", "WNWWWW"); // umount(char *, int flags)
    }

    @Test
    void enumsAndCallsNewerThanTheHeadersAreCovered() {
        // landlock_add_rule(int, enum landlock_rule_type, const void *, __u32)
        assertWidths("landlock_add_rule", "NNWNWW");
        // cachestat(unsigned int, struct cachestat_range *, struct cachestat *, unsigned int)
        assertWidths("cachestat", "NWWNWW");
    }

    @Test
    void outOfRangeArgumentsAndUnknownCallsAreNotNarrow() {
        assertFalse(SyscallArgumentWidths.is32Bit("read", -1));
        assertFalse(SyscallArgumentWidths.is32Bit("read", 6));
        assertWidths("nosuchcall", "WWWWWW");
    }
}
