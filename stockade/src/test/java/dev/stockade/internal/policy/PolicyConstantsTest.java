package dev.stockade.internal.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The generated {@link PolicyConstants} against the x86_64 values the man pages and the
 * kernel's uapi headers document, one or more per family.
 */
@Pure
class PolicyConstantsTest {

    @Test
    void eachFamilyHasItsDocumentedValues() {
        Map<String, Long> documented = Map.ofEntries(
                Map.entry("CLONE_NEWUSER", 0x10000000L), Map.entry("CLONE_NEWNS", 0x00020000L),
                Map.entry("CLONE_INTO_CGROUP", 0x200000000L), Map.entry("AF_INET", 2L),
                Map.entry("AF_UNIX", 1L), Map.entry("AF_NETLINK", 16L),
                Map.entry("SOCK_STREAM", 1L), Map.entry("SOCK_CLOEXEC", 02000000L),
                Map.entry("O_RDONLY", 0L), Map.entry("O_CLOEXEC", 02000000L),
                Map.entry("O_TMPFILE", 020200000L), Map.entry("PROT_EXEC", 4L),
                Map.entry("MAP_ANONYMOUS", 0x20L), Map.entry("MAP_FIXED_NOREPLACE", 0x100000L),
                Map.entry("PR_SET_NO_NEW_PRIVS", 38L), Map.entry("PR_SET_PTRACER_ANY", -1L),
                Map.entry("PER_LINUX32", 8L), Map.entry("ADDR_NO_RANDOMIZE", 0x0040000L),
                Map.entry("TIOCSTI", 0x5412L), Map.entry("TIOCGPTPEER", 0x5441L),
                Map.entry("TCGETS", 0x5401L), Map.entry("FIONREAD", 0x541bL));
        documented.forEach((name, value) ->
                assertEquals(OptionalLong.of(value), PolicyConstants.value(name), name));
    }

    @Test
    void limitsPointersAndMisleadingNamesAreLeftOut() {
        for (String name : List.of("AF_MAX", "MAP_FAILED", "MAP_HUGE_SHIFT", "O_LARGEFILE",
                "PR_SET_MM_MAP_SIZE", "EPERM", "NO_SUCH_CONSTANT")) {
            assertEquals(OptionalLong.empty(), PolicyConstants.value(name), name);
        }
    }

    @Test
    void namesAreSortedAndEachHasAValue() {
        List<String> names = PolicyConstants.names();
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(null);
        assertEquals(sorted, names);
        assertTrue(names.size() > 300, "only " + names.size() + " names");
        for (String name : names) {
            assertTrue(PolicyConstants.value(name).isPresent(), name);
        }
    }
}
