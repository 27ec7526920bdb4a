package dev.stockade.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A user or group id for {@code --uid}/{@code --gid}: a whole decimal number from 0 up to
 * {@link Integer#MAX_VALUE} (the range the policy's {@code int} ids hold; the kernel's
 * {@code (uid_t) -1} is reserved and never valid).
 */
public final class IdParser implements ITypeConverter<Integer> {

    @Override
    public Integer convert(String value) {
        return parse(value);
    }

    /**
     * The id {@code text} names.
     *
     * @param text decimal digits only
     * @return the user or group id
     * @throws TypeConversionException when {@code text} is not an id (0 or more, within range)
     */
    public static int parse(String text) {
        long value = CountParser.parseDecimal(text, "a user or group id (0 or more)");
        if (value > Integer.MAX_VALUE) {
            throw new TypeConversionException("id '" + text + "' is too large");
        }
        return (int) value;
    }
}
