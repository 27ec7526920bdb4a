package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generated {@link SyscallTable} (from the build machine's kernel headers and
 * native/tables/x86_64-syscalls-newer.txt) against an independent source, libseccomp's own
 * x86_64 table, through the JNI library.
 */
class SyscallTableTest {

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    @Test
    void everyNameIsLibseccompsAndTheListIsInNumberOrder() {
        List<String> unresolved = new ArrayList<>();
        int previous = -1;
        for (String name : SyscallTable.X86_64) {
            int nr = NativeBridge.resolveSyscall(name);
            if (nr < 0) {
                unresolved.add(name);
                continue;
            }
            assertTrue(nr > previous, name + " is " + nr + ", after a call numbered " + previous);
            previous = nr;
        }
        assertEquals(List.of(), unresolved);
        assertEquals("read", SyscallTable.X86_64.get(0));
        assertEquals(39, SyscallTable.X86_64.indexOf("getpid"));
    }

    @Test
    void theNewerCallsAreUnknownToLibseccompOrHaveTheSameNumber() {
        for (Map.Entry<String, Integer> e : SyscallTable.X86_64_NEWER.entrySet()) {
            int nr = NativeBridge.resolveSyscall(e.getKey());
            assertTrue(nr < 0 || nr == e.getValue(), e.getKey() + ": libseccomp says " + nr
                    + ", the list " + e.getValue());
            assertFalse(SyscallTable.X86_64.contains(e.getKey()) && nr != e.getValue(),
                    e.getKey());
        }
        assertEquals(451, SyscallTable.X86_64_NEWER.get("cachestat"));
        assertEquals(467, SyscallTable.X86_64_NEWER.get("open_tree_attr"));
        assertEquals(SyscallTable.X86_64_NEWER.get("open_tree_attr"),
                SyscallNames.number("open_tree_attr"));
    }

    @Test
    void theI386OnlyCallsAreNoX86_64Calls() {
        for (String name : SyscallTable.I386_ONLY) {
            assertFalse(SyscallTable.X86_64.contains(name), name);
            assertTrue(NativeBridge.resolveSyscall(name) < 0, name);
        }
        assertTrue(SyscallTable.I386_ONLY.containsAll(List.of("socketcall", "waitpid", "mmap2")));
    }
}
