package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

/** The small converters for counts, ids, binds, tmpfs mounts and environment assignments. */
@Pure
class OptionValueParsersTest {

    @Test
    void countsArePositiveDecimals() {
        assertEquals(1L, CountParser.parse("1"));
        assertEquals(1024L, CountParser.parse("1024"));
        assertEquals("'0' must be greater than 0",
                assertThrows(TypeConversionException.class, () -> CountParser.parse("0")).getMessage());
        for (String bad : new String[] {"-1", "", "0x10", "1k", "+3", "1.0", "ten"}) {
            assertEquals("'" + bad + "' is not a positive whole number",
                    assertThrows(TypeConversionException.class, () -> CountParser.parse(bad))
                            .getMessage(), bad);
        }
        assertEquals("'99999999999999999999' is too large",
                assertThrows(TypeConversionException.class,
                        () -> CountParser.parse("99999999999999999999")).getMessage());
    }

    @Test
    void idsAreZeroOrMoreAndFitAnInt() {
        assertEquals(0, IdParser.parse("0"));
        assertEquals(65534, IdParser.parse("65534"));
        assertEquals(Integer.MAX_VALUE, IdParser.parse("2147483647"));
        assertEquals("'-1' is not a user or group id (0 or more)",
                assertThrows(TypeConversionException.class, () -> IdParser.parse("-1")).getMessage());
        assertEquals("id '4294967295' is too large",
                assertThrows(TypeConversionException.class, () -> IdParser.parse("4294967295"))
                        .getMessage());
    }

    @Test
    void bindTargetDefaultsToTheAbsoluteSource() {
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(new BindSpec(Path.of("/opt/data"), Path.of("/opt/data")), BindSpec.parse("/opt/data"));
        assertEquals(new BindSpec(Path.of("/opt/data"), Path.of("/data")), BindSpec.parse("/opt/data:/data"));
        assertEquals(new BindSpec(cwd.resolve("out"), cwd.resolve("out")), BindSpec.parse("out"));
        assertEquals(new BindSpec(Path.of("/a"), Path.of("/b:c")), BindSpec.parse("/a/../a:/b:c"));
        // A relative destination is kept as written: the policy rejects it with its own message.
        assertEquals(new BindSpec(Path.of("/a"), Path.of("rel")), BindSpec.parse("/a:rel"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":/data", ":"})
    void bindWithoutSourceIsRejected(String text) {
        assertEquals("'" + text + "' has no source (expected SRC[:DST])",
                assertThrows(TypeConversionException.class, () -> BindSpec.parse(text)).getMessage());
    }

    @Test
    void bindWithEmptyDestinationIsRejected() {
        assertEquals("'/a:' has an empty destination (expected SRC[:DST])",
                assertThrows(TypeConversionException.class, () -> BindSpec.parse("/a:")).getMessage());
    }

    @Test
    void tmpfsSizeIsOptional() {
        assertEquals(new TmpfsSpec(Path.of("/scratch"), 64L << 20), TmpfsSpec.parse("/scratch"));
        assertEquals(new TmpfsSpec(Path.of("/scratch"), 1L << 30), TmpfsSpec.parse("/scratch:1g"));
        assertEquals(new TmpfsSpec(Path.of("/a:b"), 4096), TmpfsSpec.parse("/a:b:4096"));
    }

    @Test
    void tmpfsRejectsBadSizesAndMissingDestination() {
        assertEquals("'lots' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
                assertThrows(TypeConversionException.class, () -> TmpfsSpec.parse("/scratch:lots"))
                        .getMessage());
        assertEquals("tmpfs size in '/scratch:0' must be greater than 0",
                assertThrows(TypeConversionException.class, () -> TmpfsSpec.parse("/scratch:0"))
                        .getMessage());
        assertEquals("':64m' has no destination (expected DST[:SIZE])",
                assertThrows(TypeConversionException.class, () -> TmpfsSpec.parse(":64m")).getMessage());
    }

    @Test
    void envSplitsAtTheFirstEquals() {
        assertEquals(new EnvAssignment("A", "b=c"), EnvAssignment.parse("A=b=c"));
        assertEquals(new EnvAssignment("EMPTY", ""), EnvAssignment.parse("EMPTY="));
        assertEquals("'NOVALUE' is not NAME=VALUE",
                assertThrows(TypeConversionException.class, () -> EnvAssignment.parse("NOVALUE"))
                        .getMessage());
        assertEquals("'=x' has no variable name",
                assertThrows(TypeConversionException.class, () -> EnvAssignment.parse("=x"))
                        .getMessage());
    }

    @Test
    void networkModesAreTheDocumentedWords() {
        NetworkConverter converter = new NetworkConverter();
        assertEquals(dev.stockade.Network.NONE, converter.convert("none"));
        assertEquals(dev.stockade.Network.HOST, converter.convert("host"));
        assertEquals(dev.stockade.Network.allow(), converter.convert("allow"));
        assertEquals("'Allow' is not a network mode (expected none, host or allow)",
                assertThrows(TypeConversionException.class, () -> converter.convert("Allow"))
                        .getMessage());
        assertEquals("'bridge' is not a network mode (expected none, host or allow)",
                assertThrows(TypeConversionException.class, () -> converter.convert("bridge"))
                        .getMessage());
    }
}
