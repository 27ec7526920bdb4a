package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.SeccompProfile;
import dev.stockade.testing.Pure;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CLI is a client of the public API only ({@code docs/architecture.md}): no class of
 * {@code dev.stockade.cli} refers to {@code dev.stockade.internal}. Every class, field and
 * method a class file refers to is named in its constant pool by its binary name, so the bytes
 * {@code dev/stockade/internal/} in a compiled class are exactly such a reference. javac
 * (17) names even the class of a compile-time constant it copies into the class: the CLI's
 * former use of {@code NativeLoader.VERSION} showed here.
 */
@Pure
class PublicApiOnlyTest {
    private static final String INTERNAL = "dev/stockade/internal/";

    @Test
    void noCliClassRefersToInternal() throws IOException, URISyntaxException {
        Path cli = compiled(Main.class);
        List<Path> classes = classFiles(cli);
        assertTrue(classes.contains(cli.resolve("Main.class")), "no CLI classes in " + cli);
        assertTrue(classes.contains(cli.resolve("PolicyCommand$Show.class")), "nested classes");
        List<String> offenders = classes.stream()
                .filter(PublicApiOnlyTest::refersToInternal)
                .map(c -> cli.relativize(c).toString())
                .toList();
        assertEquals(List.of(), offenders);
    }

    /** The scan finds a reference where there is one: the public API uses internal classes. */
    @Test
    void theScanSeesAReference() throws IOException {
        // The library's classes come from its jar (or a directory): read it as a resource.
        try (InputStream in = SeccompProfile.class.getResourceAsStream("SeccompProfile.class")) {
            assertNotNull(in, "SeccompProfile.class as a resource");
            assertTrue(containsInternal(in.readAllBytes()));
        }
    }

    /** The directory of {@code type}'s compiled package. */
    private static Path compiled(Class<?> type) throws URISyntaxException {
        Path root = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        return root.resolve(type.getPackageName().replace('.', '/'));
    }

    private static List<Path> classFiles(Path dir) throws IOException {
        try (Stream<Path> all = Files.list(dir)) {
            return all.filter(f -> f.getFileName().toString().endsWith(".class")).sorted()
                    .toList();
        }
    }

    /** Whether the class file contains the internal package's binary name. */
    private static boolean refersToInternal(Path classFile) {
        try {
            return containsInternal(Files.readAllBytes(classFile));
        } catch (IOException e) {
            throw new AssertionError("cannot read " + classFile, e);
        }
    }

    private static boolean containsInternal(byte[] classBytes) {
        // ISO-8859-1 maps each byte to one char, so this is a search of the bytes.
        return new String(classBytes, StandardCharsets.ISO_8859_1).contains(INTERNAL);
    }
}
