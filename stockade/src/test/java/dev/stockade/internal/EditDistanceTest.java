package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one "did you mean" routine, and the two tolerances its callers give it. */
@Pure
class EditDistanceTest {

    @Test
    void levenshteinIgnoringCase() {
        assertEquals(0, EditDistance.distance("", ""));
        assertEquals(6, EditDistance.distance("", "ptrace"));
        assertEquals(1, EditDistance.distance("ptrac", "ptrace"));
        assertEquals(1, EditDistance.distance("mkdirr", "mkdir"));
        assertEquals(2, EditDistance.distance("ptarce", "ptrace"));
        assertEquals(0, EditDistance.distance("OPEN", "open"));
        assertEquals(3, EditDistance.distance("kitten", "sitting"));
    }

    /** Up to three of {@code known} suggested for {@code typed} under the tolerance. */
    private static List<String> suggested(String typed, List<String> known, int charsPerEdit,
            boolean containing) {
        return EditDistance.closest(typed, known, 3,
                new EditDistance.Tolerance(charsPerEdit, containing));
    }

    @Test
    void closestFirstTiesInTheGivenOrder() {
        List<String> known = List.of("mkdirat", "mkdir", "rmdir", "mknod");
        assertEquals(List.of("mkdir", "mkdirat"), suggested("mkdirr", known, 3, false));
        assertEquals(List.of("mkdir"),
                EditDistance.closest("mkdirr", known, 1, new EditDistance.Tolerance(3, false)));
        assertEquals(List.of(), suggested("qqqqqqqqqqqq", known, 3, true));
    }

    @Test
    void charsPerEditDecidesHowManyEditsALongNameMayHave() {
        // 12 characters, 4 edits away: a third of the length allows 4, a quarter only 3.
        List<String> known = List.of("abcdefghijkl");
        assertEquals(known, suggested("abcdefghWXYZ", known, 3, false));
        assertEquals(List.of(), suggested("abcdefghWXYZ", known, 4, false));
        // However short the name, two edits are allowed; one character per edit allows three.
        assertEquals(List.of("ab"), suggested("xy", List.of("ab"), 4, false));
        assertEquals(List.of("abc"), suggested("xyz", List.of("abc"), 1, false));
        assertEquals(List.of(), suggested("xyz", List.of("abc"), 2, false));
    }

    @Test
    void containingMatchesLongerNamesFromThreeCharacters() {
        List<String> known = List.of("pidfd_send_signal");
        assertEquals(known, suggested("pidfd", known, 3, true));
        assertEquals(List.of(), suggested("pidfd", known, 3, false));
        assertEquals(List.of(), suggested("si", known, 3, true));
    }

    @Test
    void aToleranceNeedsAPositiveLength() {
        assertThrows(IllegalArgumentException.class, () -> new EditDistance.Tolerance(0, true));
    }

    // ---- the call sites ----

    @Test
    void systemCallsAllowAThirdOfTheLengthAndContainingNames() {
        assertEquals(new EditDistance.Tolerance(3, true), SyscallNames.TYPO);
        assertEquals(List.of("pidfd_open", "pidfd_getfd", "pidfd_send_signal"),
                SyscallNames.closest("pidfd", 3));
        // 12 characters, 4 edits: still a typo of rt_sigreturn for the syscall tolerance.
        assertEquals("rt_sigreturn", SyscallNames.closest("rt_sigrexxxx", 3).get(0));
        assertEquals(List.of("ptrace"), SyscallNames.closest("PTRACE", 1));
    }
}
