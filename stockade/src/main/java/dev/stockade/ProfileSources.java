package dev.stockade;

import dev.stockade.internal.policy.PolicyLoader;
import dev.stockade.internal.policy.ProfileFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where seccomp profiles' text comes from, for tools that show a profile or decide how to load
 * it: the profiles shipped in Stockade's jar ({@link SeccompProfile#named(String)} loads
 * them) and profile files, read with the limits every loader applies. To load a profile, use
 * {@link SeccompProfile#load(Path)}, {@link SeccompProfile#parse(String, String)} or
 * {@link SeccompProfile#importOci(String, String)}.
 */
public final class ProfileSources {
    private ProfileSources() {}

    /**
     * {@return the names of the shipped profiles, {@code build} (the default) first} Each is a
     * name {@link SeccompProfile#named(String)} and {@link #shippedText(String)} take.
     */
    public static List<String> shippedNames() {
        return PolicyLoader.SHIPPED;
    }

    /**
     * A shipped profile's text as it is in the jar, comments included: the profile language
     * ({@code docs/policy-reference.md}), so a copy is a starting point for one's own.
     *
     * @param name one of {@link #shippedNames()}
     * @return the profile's text
     * @throws PolicySyntaxException when {@code name} is not one of {@link #shippedNames()}
     */
    public static String shippedText(String name) {
        return PolicyLoader.shippedText(Objects.requireNonNull(name, "name"));
    }

    /**
     * The text of a profile file of either format (Stockade text or OCI / Docker JSON): a
     * regular file (a FIFO or a device is refused: it would hang the reader or never end) of at
     * most 1 MiB, in UTF-8; a leading byte order mark is dropped.
     *
     * @param file the profile file
     * @return the file's text, without a leading byte order mark
     * @throws java.nio.file.NoSuchFileException when there is no such file
     * @throws IOException when it cannot be read or is no profile file, with a one-line reason
     *     ({@code "is a directory, not a profile file"}, {@code "not a regular file"},
     *     {@code "the profile is N bytes, at most 1048576"}, {@code "not UTF-8 text"})
     */
    public static String fileText(Path file) throws IOException {
        return ProfileFiles.readText(Objects.requireNonNull(file, "file"));
    }
}
