package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file-based loader reads a profile file one way, with one message per problem: the text
 * loader ({@link SeccompProfile#load}) and the OCI import ({@link SeccompProfile#importOci(Path)})
 * alike, as {@link ProfileSources#fileText} (the CLI's reader) says it.
 */
@Timeout(60) // a FIFO must be refused, not opened: opening one would wait for a writer
class ProfileFileReadingTest {
    @TempDir
    Path dir;
    private Path fifo;

    @BeforeEach
    void makeFifo() throws Exception {
        fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    }

    private static List<String> loadProblems(Path file) {
        return assertThrows(PolicySyntaxException.class, () -> SeccompProfile.load(file))
                .problems();
    }

    private static List<String> importProblems(Path file) {
        return assertThrows(PolicyException.class, () -> SeccompProfile.importOci(file))
                .problems();
    }

    /** A valid file of each format, starting with {@code start}, loads. */
    private void loadsEitherWay(String start) throws Exception {
        Path text = Files.writeString(dir.resolve("p.policy"), start + "default allow\n");
        assertEquals(SeccompAction.ALLOW, SeccompProfile.load(text).defaultAction());
        Path json = Files.writeString(dir.resolve("p.json"), start + "{\"defaultAction\":"
                + " \"SCMP_ACT_ALLOW\"}");
        assertEquals(SeccompAction.ALLOW, SeccompProfile.importOci(json).profile()
                .defaultAction());
    }

    @Test
    void aValidFileLoadsEitherWay() throws Exception {
        loadsEitherWay("");
    }

    @Test
    void aDirectory() {
        for (Function<Path, List<String>> loader : List.<Function<Path, List<String>>>of(
                ProfileFileReadingTest::loadProblems, ProfileFileReadingTest::importProblems)) {
            assertEquals(List.of(dir + ": is a directory, not a profile file"),
                    loader.apply(dir));
        }
    }

    @Test
    void aFifo() {
        assertEquals(List.of(fifo + ": not a regular file"), loadProblems(fifo));
        assertEquals(List.of(fifo + ": not a regular file"), importProblems(fifo));
    }

    @Test
    void aTooLargeFile() throws Exception {
        Path big = Files.write(dir.resolve("big"), new byte[(1 << 20) + 1]);
        String expected = big + ": the profile is 1048577 bytes, at most 1048576";
        assertEquals(List.of(expected), loadProblems(big));
        assertEquals(List.of(expected), importProblems(big));
    }

    @Test
    void invalidUtf8() throws Exception {
        // Found in review: the OCI import replaced the bad byte and read on.
        Path text = Files.write(dir.resolve("bad.policy"), new byte[] {'d', (byte) 0xff, '\n'});
        assertEquals(List.of(text + ": not UTF-8 text"), loadProblems(text));
        Path json = Files.write(dir.resolve("bad.json"), ("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                + " \"comment\": \"\u00ff\"}]}").getBytes(java.nio.charset.StandardCharsets
                        .ISO_8859_1));
        assertEquals(List.of(json + ": not UTF-8 text"), importProblems(json));
    }

    @Test
    void aMissingFile() {
        Path missing = dir.resolve("missing");
        assertEquals(List.of(missing + ": no such file"), loadProblems(missing));
        assertEquals(List.of(missing + ": no such file"), importProblems(missing));
    }

    @Test
    void aByteOrderMarkIsDroppedByEveryLoader() throws Exception {
        // Found in review: the CLI dropped it, SeccompProfile.load refused it.
        loadsEitherWay("\uFEFF");
    }
}
