package dev.stockade.cli;

import dev.stockade.OciImport;
import dev.stockade.PolicyException;
import dev.stockade.ProfileSources;
import dev.stockade.SeccompProfile;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A profile named on the command line ({@code --profile}, {@code policy check/export}): a
 * shipped profile's name, or a file in either format, told apart by content. A file whose
 * first non-blank character is <code>{</code> is OCI / Docker seccomp JSON; anything else is
 * a Stockade text profile.
 */
public final class ProfileArgument {
    private ProfileArgument() {}

    /** How a profile argument was found. */
    public enum Format {
        /** A shipped profile's name. */
        NAMED,
        /** A Stockade text profile file. */
        TEXT,
        /** An OCI / Docker seccomp JSON file. */
        OCI
    }

    /**
     * A loaded profile.
     *
     * @param profile the profile
     * @param format how it was found
     * @param warnings what an OCI import skipped or changed (empty for the other formats)
     * @param label the name or file, for messages
     */
    public record Loaded(SeccompProfile profile, Format format, List<String> warnings, String label) {}

    /**
     * Loads {@code argument}: a shipped profile's name (a file with such a name is {@code ./NAME}),
     * else a file.
     *
     * @param argument a shipped profile's name or a file's path
     * @return the profile, how it was found, and an import's warnings
     * @throws PolicyException every problem of the profile, or the file could not be read
     *     (one problem naming the file)
     */
    public static Loaded load(String argument) {
        if (ProfileSources.shippedNames().contains(argument)) {
            return new Loaded(SeccompProfile.named(argument), Format.NAMED, List.of(), argument);
        }
        return loadFile(Path.of(argument));
    }

    static Loaded loadFile(Path file) {
        String text = read(file);
        String label = file.toString();
        if (looksLikeJson(text)) {
            OciImport imported = SeccompProfile.importOci(text, label);
            return new Loaded(imported.profile(), Format.OCI, imported.warnings(), label);
        }
        return new Loaded(SeccompProfile.parse(text, label), Format.TEXT, List.of(), label);
    }

    /** JSON profiles are objects; no text profile line can start with a brace. */
    static boolean looksLikeJson(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                continue;
            }
            return c == '{';
        }
        return false;
    }

    private static String read(Path file) {
        try {
            return ProfileSources.fileText(file);
        } catch (NoSuchFileException e) {
            throw problem(file, "no such file (and not a profile name: "
                    + String.join(", ", ProfileSources.shippedNames()) + ")");
        } catch (IOException e) {
            throw problem(file, ErrorHandler.oneLine(e.getMessage()));
        }
    }

    private static PolicyException problem(Path file, String message) {
        return new PolicyException(List.of(file + ": " + message));
    }
}
