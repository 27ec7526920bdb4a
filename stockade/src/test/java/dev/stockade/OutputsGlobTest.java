package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Outputs}' arguments, checked when the collection is made, before any file is touched. */
@Pure
class OutputsGlobTest {

    @Test
    void aGlobOutsideTheWorkspaceIsRefusedAtConstruction() {
        assertEquals("output glob /etc/* is absolute: globs are relative to the workspace"
                + " (out/**)", assertThrows(IllegalArgumentException.class,
                        () -> Outputs.matching("/etc/*")).getMessage());
        assertEquals("output glob out/sub/../../escape has a '..' component: globs name paths"
                + " inside the workspace, normalized (out/**, not ./out/** or out/../x)",
                assertThrows(IllegalArgumentException.class,
                        () -> Outputs.matching("out/sub/../../escape")).getMessage());
        for (String bad : List.of("..", "../x", "./out/**", "out//x", "out/", "")) {
            assertThrows(IllegalArgumentException.class, () -> Outputs.matching(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Outputs.matching("out/[a"));
        assertThrows(IllegalArgumentException.class, () -> Outputs.matching());
        assertThrows(NullPointerException.class, () -> Outputs.matching((String) null));
    }

    @Test
    void boundsDefaultToTheConstantsAndAreChecked() {
        Outputs outputs = Outputs.matching("out/**", "*.jar");
        assertEquals(List.of("out/**", "*.jar"), outputs.globs());
        assertEquals(Outputs.DEFAULT_MAX_FILES, outputs.maxFiles());
        assertEquals(Outputs.DEFAULT_MAX_BYTES, outputs.maxBytes());
        Outputs bounded = outputs.maxFiles(3).maxBytes(0);
        assertEquals(3, bounded.maxFiles());
        assertEquals(0, bounded.maxBytes());
        assertEquals(Outputs.DEFAULT_MAX_FILES, outputs.maxFiles(), "immutable");
        assertThrows(IllegalArgumentException.class, () -> outputs.maxFiles(0));
        assertThrows(IllegalArgumentException.class, () -> outputs.maxBytes(-1));
    }
}
