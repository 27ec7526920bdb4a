package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.testing.Pure;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a violation says about the errno its calls got. */
@Pure
class ViolationTest {
    private static Violation answered(int errno) {
        return new Violation("ptrace", 101, errno, 3, 2, List.of(0L, 0L, 0L, 0L, 0L, 0L),
                null, "build");
    }

    @Test
    void errnoNameIsTheSymbolicName() {
        assertEquals(Optional.of("EPERM"), answered(1).errnoName());
        assertEquals(Optional.of("ENOSYS"), answered(38).errnoName());
        assertEquals(Optional.of("errno 4000"), answered(4000).errnoName());
    }

    @Test
    void aCallLetThroughHasNoErrnoName() {
        assertEquals(Optional.empty(), answered(0).errnoName());
    }
}
