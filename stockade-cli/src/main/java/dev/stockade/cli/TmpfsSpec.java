package dev.stockade.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value of {@code --tmpfs}: {@code DST[:SIZE]}, a fresh tmpfs at DST inside the sandbox,
 * SIZE as {@link SizeParser} reads it (default {@link #DEFAULT_SIZE}). The last ':' separates
 * the two, since a size never contains one.
 */
public record TmpfsSpec(Path target, long sizeBytes) {

    /** 64 MiB: enough for the scratch files of a build step, small enough to notice abuse. */
    public static final long DEFAULT_SIZE = 64L << 20;

    /** Picocli converter for {@link TmpfsSpec}. */
    public static final class Converter implements ITypeConverter<TmpfsSpec> {
        @Override
        public TmpfsSpec convert(String value) {
            return parse(value);
        }
    }

    /**
     * The tmpfs {@code text} names.
     *
     * @param text {@code DST} or {@code DST:SIZE}
     * @return the target and size
     * @throws TypeConversionException when {@code text} is malformed
     */
    public static TmpfsSpec parse(String text) {
        int colon = text.lastIndexOf(':');
        String target = colon < 0 ? text : text.substring(0, colon);
        if (target.isEmpty()) {
            throw new TypeConversionException(
                    "'" + text + "' has no destination (expected DST[:SIZE])");
        }
        long size = colon < 0 ? DEFAULT_SIZE : SizeParser.parse(text.substring(colon + 1));
        if (size == 0) {
            throw new TypeConversionException("tmpfs size in '" + text + "' must be greater than 0");
        }
        try {
            return new TmpfsSpec(Path.of(target), size);
        } catch (InvalidPathException e) {
            throw new TypeConversionException("'" + text + "' is not a valid path: " + e.getReason());
        }
    }
}
