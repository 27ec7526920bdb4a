package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

@Pure
class SizeParserTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "4096, 4096",
        "512k, 524288",
        "512K, 524288",
        "64m, 67108864",
        "1g, 1073741824",
        "2G, 2147483648",
        "1t, 1099511627776",
        "9223372036854775807, 9223372036854775807",
        "8388607t, 9223370937343148032"
    })
    void parsesBytesAndBinaryUnits(String text, long bytes) {
        assertEquals(bytes, SizeParser.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "k", "-1", "-64m", "1.5g", "64mb", "64 m", " 64m", "0x10", "+5",
        "ten", "1e3", "64x"})
    void rejectsMalformedSizes(String text) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> SizeParser.parse(text));
        assertEquals(text.isEmpty()
                ? "empty size (expected e.g. 4096, 512k, 64m, 1g)"
                : "'" + text + "' is not a size (expected e.g. 4096, 512k, 64m, 1g)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808", "8388608t", "9007199254740992k"})
    void rejectsSizesThatOverflow(String text) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> SizeParser.parse(text));
        assertEquals("size '" + text + "' is too large", e.getMessage());
    }
}
