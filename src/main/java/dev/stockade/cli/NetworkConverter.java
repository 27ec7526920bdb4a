package dev.stockade.cli;

import dev.stockade.Network;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --net none|host}: the lower-case words the CLI documents, nothing else. */
final class NetworkConverter implements ITypeConverter<Network> {

    @Override
    public Network convert(String value) {
        return switch (value) {
            case "none" -> Network.NONE;
            case "host" -> Network.HOST;
            default -> throw new TypeConversionException(
                    "'" + value + "' is not a network mode (expected none or host)");
        };
    }
}
