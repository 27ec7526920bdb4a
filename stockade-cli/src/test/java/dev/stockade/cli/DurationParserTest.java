package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.testing.Pure;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

@Pure
class DurationParserTest {

    @ParameterizedTest
    @CsvSource({
        "250ms, 250",
        "30s, 30000",
        "30S, 30000",
        "5m, 300000",
        "1h, 3600000",
        "2d, 172800000",
        "7, 7000",
        "1500ms, 1500"
    })
    void parsesUnits(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), DurationParser.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"s", "ms", "-5s", "1.5s", "5 s", "5sec", "5min", "1h30m", "abc",
        "0x10s", "+3s", "5w"})
    void rejectsMalformedDurations(String text) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> DurationParser.parse(text));
        assertEquals("'" + text + "' is not a duration (expected e.g. 250ms, 30s, 5m, 1h)",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0s", "0ms", "000h"})
    void rejectsZero(String text) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> DurationParser.parse(text));
        assertEquals("duration '" + text + "' must be greater than 0", e.getMessage());
    }

    /** --kill-grace's converter: 0 is "at once"; everything else as parse. */
    @ParameterizedTest
    @ValueSource(strings = {"0", "0s", "0ms", "000h"})
    void orZeroTakesZero(String text) {
        assertEquals(Duration.ZERO, new DurationParser.OrZero().convert(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5s", "1.5s", "", "s"})
    void orZeroRejectsWhatParseRejects(String text) {
        TypeConversionException orZero = assertThrows(TypeConversionException.class,
                () -> new DurationParser.OrZero().convert(text));
        TypeConversionException parse =
                assertThrows(TypeConversionException.class, () -> DurationParser.parse(text));
        assertEquals(parse.getMessage(), orZero.getMessage());
        assertEquals(Duration.ofSeconds(5), new DurationParser.OrZero().convert("5s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999s", "9223372036854775807d",
        "9223372036854775807s"})
    void rejectsDurationsTooLongForMilliseconds(String text) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> DurationParser.parse(text));
        assertEquals("duration '" + text + "' is too long", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"250, 250ms", "1000, 1s", "90000, 90s", "300000, 5m", "7200000, 2h", "0, 0s"})
    void formatsInTheLargestExactUnit(long millis, String text) {
        assertEquals(text, DurationParser.format(Duration.ofMillis(millis)));
    }
}
