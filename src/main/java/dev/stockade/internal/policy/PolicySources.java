package dev.stockade.internal.policy;

import static dev.stockade.internal.policy.PolicyLoader.MAX_FILE_BYTES;
import static dev.stockade.internal.policy.PolicyLoader.SHIPPED;

import dev.stockade.PolicySyntaxException.Entry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * The text of the profile files one load reads, shipped (resources under
 * {@code /dev/stockade/seccomp/}) or on disk: regular files of at most
 * {@link PolicyLoader#MAX_FILE_BYTES}, UTF-8. A file that cannot be read is a problem recorded
 * at the {@code @include} line that named it (or for the file itself), like any other.
 */
final class PolicySources {
    private static final String RESOURCE_DIR = "/dev/stockade/seccomp/";

    private final List<Entry> problems;

    /** @param problems where problems are recorded: the load's list */
    PolicySources(List<Entry> problems) {
        this.problems = problems;
    }

    /** A shipped profile's text, or null with a problem recorded (at the include line). */
    String readShipped(String name, Entry includedAt) {
        try (InputStream in = PolicySources.class.getResourceAsStream(RESOURCE_DIR + name
                + ".policy")) {
            if (in == null || !SHIPPED.contains(name)) {
                String msg = "no shipped profile '" + name + "' (shipped: "
                        + String.join(", ", SHIPPED) + ")";
                problems.add(includedAt != null ? PolicyLoader.at(includedAt, msg)
                        : new Entry(name, 0, 0, msg));
                return null;
            }
            return decode(in.readNBytes(MAX_FILE_BYTES + 1), name + ".policy", includedAt);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the shipped profile " + name, e);
        }
    }

    /** The file's text, or null with a problem recorded (at the include line, if any). */
    String readFile(Path path, String display, Entry includedAt) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            if (!attrs.isRegularFile()) {
                fileProblem(display, includedAt, "not a regular file");
                return null;
            }
            if (attrs.size() > MAX_FILE_BYTES) {
                fileProblem(display, includedAt, "the profile is " + attrs.size() + " bytes, at"
                        + " most " + MAX_FILE_BYTES);
                return null;
            }
            try (InputStream in = Files.newInputStream(path)) {
                // Bounded even if the file grows between the size check and the read.
                return decode(in.readNBytes(MAX_FILE_BYTES + 1), display, includedAt);
            }
        } catch (NoSuchFileException e) {
            fileProblem(display, includedAt, "no such file");
        } catch (IOException e) {
            fileProblem(display, includedAt, "cannot read it: " + describe(e));
        }
        return null;
    }

    private String decode(byte[] bytes, String display, Entry includedAt) {
        if (bytes.length > MAX_FILE_BYTES) {
            fileProblem(display, includedAt, "the profile is larger than " + MAX_FILE_BYTES
                    + " bytes");
            return null;
        }
        try {
            return ProfileFiles.utf8(bytes);
        } catch (CharacterCodingException e) {
            fileProblem(display, includedAt, "not UTF-8 text");
            return null;
        }
    }

    private void fileProblem(String display, Entry includedAt, String message) {
        if (includedAt != null) {
            problems.add(PolicyLoader.at(includedAt, "cannot include " + display + ": " + message));
        } else {
            problems.add(new Entry(display, 0, 0, message));
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /** The length of {@code s} in UTF-8, without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
