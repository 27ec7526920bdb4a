package dev.stockade.cli;

import dev.stockade.Network;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --net none|host|allow}: the lower-case words the CLI documents, nothing else. For
 * {@code allow} this is the mode only; {@link RunCommand} adds the {@code --allow-host} and
 * {@code --deny-host} patterns.
 */
final class NetworkConverter implements ITypeConverter<Network> {

    /** The words {@link #convert} takes, for the bash completion. */
    static final class Modes implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("none", "host", "allow").iterator();
        }
    }

    @Override
    public Network convert(String value) {
        return switch (value) {
            case "none" -> Network.NONE;
            case "host" -> Network.HOST;
            case "allow" -> Network.allow();
            default -> throw new TypeConversionException(
                    "'" + value + "' is not a network mode (expected none, host or allow)");
        };
    }
}
