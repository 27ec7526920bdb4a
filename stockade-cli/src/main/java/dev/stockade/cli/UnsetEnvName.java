package dev.stockade.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value of {@code --unset-env}: a variable's name. The policy checks the names it sets and
 * passes, not the ones it removes, where a malformed one would silently remove nothing.
 */
final class UnsetEnvName implements ITypeConverter<String> {

    @Override
    public String convert(String value) {
        if (value.isEmpty()) {
            throw new TypeConversionException("empty variable name");
        }
        if (value.indexOf('=') >= 0 || value.indexOf('\0') >= 0) {
            throw new TypeConversionException("'" + ErrorHandler.oneLine(value)
                    + "' is not a variable name (it contains '=' or NUL)");
        }
        return value;
    }
}
