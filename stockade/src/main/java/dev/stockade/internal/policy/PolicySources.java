package dev.stockade.internal.policy;

import static dev.stockade.internal.policy.PolicyLoader.MAX_FILE_BYTES;
import static dev.stockade.internal.policy.PolicyLoader.SHIPPED;

import dev.stockade.PolicySyntaxException.Entry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The text of the profile files one load reads, shipped (resources under
 * {@code /dev/stockade/seccomp/}) or on disk (read by {@link ProfileFiles}, as every loader
 * reads them): at most {@link PolicyLoader#MAX_FILE_BYTES}, UTF-8. A file that cannot be read is
 * a problem recorded at the {@code @include} line that named it (or for the file itself), like
 * any other.
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
            // The jar's own profiles: too large or not UTF-8 is a broken build, not a user's
            // problem (ShippedProfilesTest loads each).
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new IllegalStateException("the shipped profile " + name + " is larger"
                        + " than " + MAX_FILE_BYTES + " bytes");
            }
            return ProfileFiles.utf8(bytes); // a CharacterCodingException is an IOException
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the shipped profile " + name, e);
        }
    }

    /**
     * The file's text ({@link ProfileFiles#readText}), or null with its problem recorded (at the
     * include line, if any).
     */
    String readFile(Path path, String display, Entry includedAt) {
        try {
            return ProfileFiles.readText(path);
        } catch (IOException e) {
            fileProblem(display, includedAt, ProfileFiles.reason(e));
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
