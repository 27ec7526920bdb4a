package dev.stockade.cli;

import dev.stockade.OciImport;
import dev.stockade.PolicyException;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompProfile;
import dev.stockade.internal.Errno;
import dev.stockade.internal.policy.PolicyLoader;
import dev.stockade.internal.policy.ProfileFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A profile named on the command line ({@code --profile}, {@code policy check/export}): a
 * shipped profile's name, or a file in either format, told apart by content. A file whose
 * first non-blank character is <code>{</code> is OCI / Docker seccomp JSON; anything else is
 * a Stockade text profile.
 */
final class ProfileArgument {
    private ProfileArgument() {}

    /** The shipped profiles. */
    static final List<String> NAMES = PolicyLoader.SHIPPED;

    /** Larger than any profile should be; both loaders have their own limit below this. */

    enum Format { NAMED, TEXT, OCI }

    /**
     * A loaded profile.
     *
     * @param profile the profile
     * @param format how it was found
     * @param warnings what an OCI import skipped or changed (empty for the other formats)
     * @param label the name or file, for messages
     */
    record Loaded(SeccompProfile profile, Format format, List<String> warnings, String label) {}

    /**
     * Loads {@code argument}: a shipped profile's name (a file with such a name is {@code ./NAME}),
     * else a file.
     *
     * @throws PolicyException every problem of the profile, or the file could not be read
     *     (one problem naming the file)
     */
    static Loaded load(String argument) {
        if (NAMES.contains(argument)) {
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
        byte[] bytes;
        try {
            bytes = ProfileFiles.read(file);
        } catch (NoSuchFileException e) {
            throw problem(file, "no such file (and not a profile name: "
                    + String.join(", ", NAMES) + ")");
        } catch (IOException e) {
            throw problem(file, ErrorHandler.oneLine(e.getMessage()));
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString()
                    // Editors on some systems start UTF-8 files with a byte order mark.
                    .replaceFirst("^\uFEFF", "");
        } catch (CharacterCodingException e) {
            throw problem(file, "not UTF-8 text");
        }
    }

    private static PolicyException problem(Path file, String message) {
        return new PolicyException(List.of(file + ": " + message));
    }

    /** An action as the text language spells it: {@code errno(EPERM)}, {@code report(allow)}. */
    static String describe(SeccompAction action) {
        return switch (action.kind()) {
            case ALLOW -> "allow";
            case ERRNO -> "errno(" + Errno.name(action.errno()) + ")";
            case KILL_PROCESS -> "kill";
            case KILL_THREAD -> "kill-thread";
            case TRAP -> "trap";
            case LOG -> "log";
            case REPORT -> "report(" + (action.errno() == 0 ? "allow"
                    : Errno.name(action.errno())) + ")";
        };
    }
}
