package dev.stockade.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes on the command line: plain bytes ({@code 4096}) or a whole number with a binary unit
 * suffix {@code k}, {@code m}, {@code g}, {@code t} (case-insensitive, 1024-based, so
 * {@code 64m} is 67108864 bytes). Fractions, negative numbers and anything that overflows a
 * {@code long} are rejected rather than rounded or clamped: a limit the user did not mean is
 * worse than an error.
 */
public final class SizeParser implements ITypeConverter<Long> {

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    /**
     * The number of bytes {@code text} names.
     *
     * @param text bytes, or a whole number with a suffix {@code k}, {@code m}, {@code g} or
     *     {@code t}
     * @return the number of bytes
     * @throws TypeConversionException when {@code text} is not a size or overflows
     */
    public static long parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new TypeConversionException("empty size (expected e.g. 4096, 512k, 64m, 1g)");
        }
        String lower = text.toLowerCase(Locale.ROOT);
        int shift = switch (lower.charAt(lower.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? lower : lower.substring(0, lower.length() - 1);
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new TypeConversionException(
                    "'" + text + "' is not a size (expected e.g. 4096, 512k, 64m, 1g)");
        }
        try {
            long number = Long.parseLong(digits);
            if (shift > 0 && number > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return number << shift;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("size '" + text + "' is too large");
        }
    }

    /**
     * {@code bytes} for people: in the largest binary unit that divides it exactly
     * ({@code 256 MiB}, {@code 1536 KiB}), or in bytes ({@code 1000 bytes}).
     *
     * @param bytes a number of bytes
     * @return it for people
     */
    public static String format(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes != 0 && bytes % unit == 0) {
                return (bytes >> shifts[i]) + " " + units[i];
            }
        }
        return bytes + (bytes == 1 ? " byte" : " bytes");
    }
}
