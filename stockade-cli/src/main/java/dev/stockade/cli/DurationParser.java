package dev.stockade.cli;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations on the command line: a whole number followed by {@code ms}, {@code s}, {@code m},
 * {@code h} or {@code d} ({@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}); a bare number is
 * seconds, as with coreutils' {@code timeout}. Only positive durations are accepted: a
 * duration the CLI takes is a limit, and a zero or negative limit is a mistake, not "none";
 * {@link OrZero} is for the one that is a delay ({@code --kill-grace}), where 0 means at once.
 */
public final class DurationParser implements ITypeConverter<Duration> {

    private static final String EXPECTED = "expected e.g. 250ms, 30s, 5m, 1h";

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** A converter that also takes 0 (in any unit): no delay. */
    public static final class OrZero implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parse(value, true);
        }
    }

    /**
     * The duration {@code text} names.
     *
     * @param text a whole number with a unit ({@code 250ms}, {@code 30s}, {@code 5m},
     *     {@code 1h}) or a bare number of seconds
     * @return the duration, greater than zero
     * @throws TypeConversionException when {@code text} is not a duration above zero
     */
    public static Duration parse(String text) {
        return parse(text, false);
    }

    private static Duration parse(String text, boolean zeroAllowed) {
        if (text == null || text.isEmpty()) {
            throw new TypeConversionException("empty duration (" + EXPECTED + ")");
        }
        String lower = text.toLowerCase(Locale.ROOT);
        int end = lower.length();
        while (end > 0 && !Character.isDigit(lower.charAt(end - 1))) {
            end--;
        }
        String digits = lower.substring(0, end);
        String unitText = lower.substring(end);
        ChronoUnit unit = switch (unitText) {
            case "ms" -> ChronoUnit.MILLIS;
            case "", "s" -> ChronoUnit.SECONDS;
            case "m" -> ChronoUnit.MINUTES;
            case "h" -> ChronoUnit.HOURS;
            case "d" -> ChronoUnit.DAYS;
            default -> null;
        };
        if (unit == null || digits.isEmpty()
                || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new TypeConversionException(
                    "'" + text + "' is not a duration (" + EXPECTED + ")");
        }
        Duration duration;
        try {
            duration = Duration.of(Long.parseLong(digits), unit);
            // Anything past this cannot be expressed in the wire protocol's u64 milliseconds
            // without overflow in later arithmetic; no real limit is that long.
            duration.toMillis();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new TypeConversionException("duration '" + text + "' is too long");
        }
        if (duration.isZero() && !zeroAllowed) {
            throw new TypeConversionException("duration '" + text + "' must be greater than 0");
        }
        return duration;
    }

    /**
     * {@code duration} in the notation {@link #parse} reads, in its largest exact unit.
     *
     * @param duration a duration of whole milliseconds
     * @return e.g. {@code 1500ms}, {@code 30s}, {@code 5m}, {@code 1h}
     */
    public static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 1000 != 0) {
            return millis + "ms";
        }
        long seconds = millis / 1000;
        if (seconds % 3600 == 0 && seconds != 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0 && seconds != 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
