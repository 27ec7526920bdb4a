package dev.stockade.internal.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one way a profile file of either format is read, by every loader (text profiles and their
 * includes, the OCI import, the CLI through {@code ProfileSources}), with the same limits and
 * the same words: a regular file (a FIFO or a device would hang the reader or never end; the type
 * is checked before the file is opened) of at most {@link PolicyLoader#MAX_FILE_BYTES}, checked
 * before reading and again while reading (the file may grow in between); its text is strict
 * UTF-8.
 */
public final class ProfileFiles {
    private ProfileFiles() {}

    /** A file that was read, or could have been, but is no profile file; the message says why. */
    public static final class NotAProfileFile extends IOException {
        private static final long serialVersionUID = 1L;

        NotAProfileFile(String why) {
            super(why);
        }
    }

    /** The file's bytes; {@link NotAProfileFile} with a one-line reason when it is none. */
    public static byte[] read(Path file) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        if (!attrs.isRegularFile()) {
            throw new NotAProfileFile(attrs.isDirectory() ? "is a directory, not a profile file"
                    : "not a regular file");
        }
        if (attrs.size() > PolicyLoader.MAX_FILE_BYTES) {
            throw new NotAProfileFile(tooLarge(attrs.size()));
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(PolicyLoader.MAX_FILE_BYTES + 1);
        }
        if (bytes.length > PolicyLoader.MAX_FILE_BYTES) {
            throw new NotAProfileFile(tooLarge(bytes.length));
        }
        return bytes;
    }

    /**
     * The file's text: {@link #read}, decoded by {@link #utf8}, without a leading byte order
     * mark (editors on some systems start UTF-8 files with one); {@link NotAProfileFile}
     * {@code "not UTF-8 text"} when it is not.
     */
    public static String readText(Path file) throws IOException {
        byte[] bytes = read(file);
        String text;
        try {
            text = utf8(bytes);
        } catch (CharacterCodingException e) {
            throw new NotAProfileFile("not UTF-8 text");
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /**
     * Why {@link #read} or {@link #readText} failed, in one line, as every loader says it after
     * the file's name: {@code "no such file"}, the reason a file is no profile file, or
     * {@code "cannot read it: ..."} for any other error.
     */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof NotAProfileFile) {
            return e.getMessage();
        }
        if (e instanceof AccessDeniedException) {
            return "cannot read it: permission denied";
        }
        // A FileSystemException's message starts with the path, which the caller already says.
        String m = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getMessage();
        return "cannot read it: " + (m == null ? e.getClass().getSimpleName() : m);
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
