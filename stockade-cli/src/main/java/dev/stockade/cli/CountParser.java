package dev.stockade.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Counts given as limits ({@code --open-files}, {@code --processes}, {@code --cpu-time}): a
 * whole decimal number greater than zero. Picocli's own {@code long} conversion would accept
 * {@code -1}, {@code 0x10} and {@code 010}, none of which anyone means as a limit.
 */
public final class CountParser implements ITypeConverter<Long> {

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    /**
     * The positive number {@code text} names.
     *
     * @param text decimal digits only
     * @return the number, at least 1
     * @throws TypeConversionException when {@code text} is not a whole number above 0
     */
    public static long parse(String text) {
        long value = parseDecimal(text, "a positive whole number");
        if (value == 0) {
            throw new TypeConversionException("'" + text + "' must be greater than 0");
        }
        return value;
    }

    /** Digits only, no sign, no radix prefix; {@code expected} words the error. */
    static long parseDecimal(String text, String expected) {
        if (text == null || text.isEmpty()
                || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new TypeConversionException("'" + text + "' is not " + expected);
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is too large");
        }
    }
}
