package dev.stockade.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value of {@code --env}: {@code NAME=VALUE}, split at the first '=' (so the value may
 * contain more). The name's finer rules (no NUL, ...) are the policy's to check.
 */
public record EnvAssignment(String name, String value) {

    /** Picocli converter for {@link EnvAssignment}. */
    public static final class Converter implements ITypeConverter<EnvAssignment> {
        @Override
        public EnvAssignment convert(String value) {
            return parse(value);
        }
    }

    /**
     * The assignment {@code text} names.
     *
     * @param text {@code NAME=VALUE} (the value may be empty)
     * @return the name and value
     * @throws TypeConversionException when {@code text} has no {@code =} or an empty name
     */
    public static EnvAssignment parse(String text) {
        int equals = text.indexOf('=');
        if (equals < 0) {
            throw new TypeConversionException("'" + text + "' is not NAME=VALUE");
        }
        if (equals == 0) {
            throw new TypeConversionException("'" + text + "' has no variable name");
        }
        return new EnvAssignment(text.substring(0, equals), text.substring(equals + 1));
    }
}
