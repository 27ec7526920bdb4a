package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped profiles' names and text, and profile files read with the loaders' limits. */
@Pure
class ProfileSourcesTest {
    @TempDir
    Path dir;

    @Test
    void theShippedProfilesAreBuildStrictAndAudit() {
        assertEquals(List.of("build", "strict", "audit"), ProfileSources.shippedNames());
    }

    @Test
    void shippedTextIsTheFileInTheJar() throws IOException {
        for (String name : ProfileSources.shippedNames()) {
            String inJar;
            try (InputStream in = ProfileSourcesTest.class.getResourceAsStream(
                    "/dev/stockade/seccomp/" + name + ".policy")) {
                inJar = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertEquals(inJar, ProfileSources.shippedText(name), name);
        }
        assertEquals("default report(EPERM)", ProfileSources.shippedText("strict").lines()
                .filter(line -> line.startsWith("default")).findFirst().orElseThrow());
    }

    @Test
    void anUnknownShippedNameIsAProblem() {
        PolicySyntaxException e = assertThrows(PolicySyntaxException.class,
                () -> ProfileSources.shippedText("nope"));
        assertEquals(List.of("nope: no shipped profile 'nope' (shipped: build, strict, audit)"),
                e.problems());
        // A file next to the shipped ones is no shipped profile.
        assertThrows(PolicySyntaxException.class,
                () -> ProfileSources.shippedText("setid-guard"));
    }

    @Test
    void fileTextDropsAByteOrderMark() throws IOException {
        Path text = Files.writeString(dir.resolve("p.policy"), "\uFEFFdefault allow\n\uFEFF");
        assertEquals("default allow\n\uFEFF", ProfileSources.fileText(text));
        Path plain = Files.writeString(dir.resolve("q.json"), "{\"defaultAction\": \"x\"}");
        assertEquals("{\"defaultAction\": \"x\"}", ProfileSources.fileText(plain));
    }

    @Test
    void fileTextRefusesWhatIsNoProfileFile() throws IOException {
        assertThrows(NoSuchFileException.class,
                () -> ProfileSources.fileText(dir.resolve("missing")));
        assertEquals("is a directory, not a profile file", refusal(dir));
        assertEquals("not a regular file", refusal(Path.of("/dev/null")));
        Path binary = Files.write(dir.resolve("binary"), new byte[] {(byte) 0xff, 'a'});
        assertEquals("not UTF-8 text", refusal(binary));
        Path big = Files.write(dir.resolve("big"), new byte[(1 << 20) + 1]);
        assertEquals("the profile is 1048577 bytes, at most 1048576", refusal(big));
        Path largest = Files.write(dir.resolve("largest"), new byte[1 << 20]);
        assertEquals(1 << 20, ProfileSources.fileText(largest).length());
    }

    private static String refusal(Path file) {
        return assertThrows(IOException.class, () -> ProfileSources.fileText(file)).getMessage();
    }
}
