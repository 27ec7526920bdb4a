package dev.stockade.internal.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads a profile file of either format with the same limits everywhere: a regular file (a FIFO
 * or a device would hang the reader or never end) of at most {@link PolicyLoader#MAX_FILE_BYTES},
 * checked before reading and again while reading (the file may grow in between); its text is
 * strict UTF-8.
 */
public final class ProfileFiles {
    private ProfileFiles() {}

    /** The file's bytes; an IOException with a one-line reason when it is not a profile file. */
    public static byte[] read(Path file) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        if (!attrs.isRegularFile()) {
            throw new IOException(attrs.isDirectory() ? "is a directory, not a profile file"
                    : "not a regular file");
        }
        if (attrs.size() > PolicyLoader.MAX_FILE_BYTES) {
            throw new IOException(tooLarge(attrs.size()));
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(PolicyLoader.MAX_FILE_BYTES + 1);
        }
        if (bytes.length > PolicyLoader.MAX_FILE_BYTES) {
            throw new IOException(tooLarge(bytes.length));
        }
        return bytes;
    }

    /**
     * The file's text: {@link #read}, decoded by {@link #utf8}, without a leading byte order
     * mark (editors on some systems start UTF-8 files with one); an IOException
     * {@code "not UTF-8 text"} when it is not.
     */
    public static String readText(Path file) throws IOException {
        byte[] bytes = read(file);
        String text;
        try {
            text = utf8(bytes);
        } catch (CharacterCodingException e) {
            throw new IOException("not UTF-8 text", e);
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /**
     * {@code bytes} as UTF-8, refusing malformed input rather than replacing it: a profile
     * that is not text is reported, not read as something else.
     */
    static String utf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }

    private static String tooLarge(long size) {
        return "the profile is " + size + " bytes, at most " + PolicyLoader.MAX_FILE_BYTES;
    }
}
