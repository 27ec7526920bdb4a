package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The generated {@link SyscallArgumentWidths}, checked on calls whose kernel signatures are
 * well known (the man pages' and the kernel's SYSCALL_DEFINE types).
 */
class SyscallArgumentWidthsTest {

    @Test
    void anUnsignedIntIsNarrowAndAPointerOrSizeIsNot() {
        // read(unsigned int fd, char *buf, size_t count)
        assertTrue(SyscallArgumentWidths.is32Bit("read", 0));
        assertFalse(SyscallArgumentWidths.is32Bit("read", 1));
        assertFalse(SyscallArgumentWidths.is32Bit("read", 2));
        // clone3 takes a struct pointer and a size only
        assertFalse(SyscallArgumentWidths.is32Bit("clone3", 0));
        assertFalse(SyscallArgumentWidths.is32Bit("clone3", 1));
        // socket(int, int, int)
        for (int i = 0; i < 3; i++) {
            assertTrue(SyscallArgumentWidths.is32Bit("socket", i));
        }
        // ioctl(unsigned int fd, unsigned int cmd, unsigned long arg)
        assertTrue(SyscallArgumentWidths.is32Bit("ioctl", 1));
        assertFalse(SyscallArgumentWidths.is32Bit("ioctl", 2));
    }

    @Test
    void callsWhoseEntryPointHasAnotherNameAreCovered() {
        assertTrue(SyscallArgumentWidths.is32Bit("fstat", 0)); // newfstat(unsigned int fd, ...)
        assertTrue(SyscallArgumentWidths.is32Bit("sendfile", 1)); // sendfile64(int, int, ...)
        assertTrue(SyscallArgumentWidths.is32Bit("umount2", 1)); // umount(char *, int flags)
        assertFalse(SyscallArgumentWidths.is32Bit("umount2", 0));
    }

    @Test
    void enumsAndCallsNewerThanTheHeadersAreCovered() {
        // landlock_add_rule(int, enum landlock_rule_type, const void *, __u32)
        assertTrue(SyscallArgumentWidths.is32Bit("landlock_add_rule", 1));
        assertFalse(SyscallArgumentWidths.is32Bit("landlock_add_rule", 2));
        // cachestat(unsigned int fd, ..., unsigned int flags), in the newer-calls list
        assertTrue(SyscallArgumentWidths.is32Bit("cachestat", 0));
        assertTrue(SyscallArgumentWidths.is32Bit("cachestat", 3));
    }

    @Test
    void outOfRangeArgumentsAndUnknownCallsAreNotNarrow() {
        assertFalse(SyscallArgumentWidths.is32Bit("read", -1));
        assertFalse(SyscallArgumentWidths.is32Bit("read", 6));
        assertFalse(SyscallArgumentWidths.is32Bit("nosuchcall", 0));
        assertFalse(SyscallArgumentWidths.is32Bit("getpid", 0));
    }
}
