package dev.stockade.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value of {@code --bind}/{@code --ro-bind}: {@code SRC[:DST]}. SRC is a host path,
 * made absolute against the current directory so that {@code --bind out} does what it says;
 * DST is the path inside the sandbox and defaults to SRC. DST is taken as written: whether it
 * is absolute is the policy's check, so the CLI and the library report it the same way. The
 * first ':' separates the two, so SRC cannot contain one.
 */
public record BindSpec(Path source, Path target) {

    /** Picocli converter for {@link BindSpec}. */
    public static final class Converter implements ITypeConverter<BindSpec> {
        @Override
        public BindSpec convert(String value) {
            return parse(value);
        }
    }

    /**
     * The bind {@code text} names.
     *
     * @param text {@code SRC} or {@code SRC:DST}, as the bind options take it
     * @return the source and target
     * @throws TypeConversionException when {@code text} is malformed
     */
    public static BindSpec parse(String text) {
        int colon = text.indexOf(':');
        String source = colon < 0 ? text : text.substring(0, colon);
        String target = colon < 0 ? null : text.substring(colon + 1);
        if (source.isEmpty()) {
            throw new TypeConversionException("'" + text + "' has no source (expected SRC[:DST])");
        }
        if (target != null && target.isEmpty()) {
            throw new TypeConversionException(
                    "'" + text + "' has an empty destination (expected SRC[:DST])");
        }
        try {
            Path sourcePath = Path.of(source).toAbsolutePath().normalize();
            Path targetPath = target == null ? sourcePath : Path.of(target);
            return new BindSpec(sourcePath, targetPath);
        } catch (InvalidPathException e) {
            throw new TypeConversionException("'" + text + "' is not a valid path: " + e.getReason());
        }
    }
}
