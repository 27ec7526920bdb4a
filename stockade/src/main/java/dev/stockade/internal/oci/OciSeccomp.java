package dev.stockade.internal.oci;

import dev.stockade.internal.policy.ProfileRules;
import java.util.List;
import java.util.Objects;

/**
 * OCI runtime-spec / Docker seccomp JSON in and out of a profile's plain data
 * ({@code SeccompProfile.importOci}, {@code fromOci} and {@code toOci} delegate here and
 * convert).
 *
 * <p>The JSON work is done with Jackson, which the library jar does not depend on at run time
 * (it is an optional dependency; the CLI jar carries it). This class names no Jackson type, so
 * it loads without Jackson and can say what is missing instead of failing with a
 * {@code NoClassDefFoundError} from deep inside the reader.
 */
public final class OciSeccomp {
    private OciSeccomp() {}

    /** The Maven artifact that OCI import and export need on the class path. */
    static final String JACKSON_ARTIFACT = "com.fasterxml.jackson.core:jackson-databind";
    private static final String JACKSON_PROBE_CLASS =
            "com.fasterxml.jackson.databind.ObjectMapper";

    /**
     * A profile read from OCI JSON, and what of the JSON does not apply on this machine.
     *
     * @param profile the profile's name, default action and rules
     * @param warnings one line each, naming the JSON path they are about
     */
    public record Imported(ProfileRules profile, List<String> warnings) {
        public Imported {
            Objects.requireNonNull(profile, "profile");
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * The profile described by {@code json} and what of it does not apply on this machine.
     * The profile's name is the one Stockade's export wrote into the JSON; else, with a
     * {@code source}, the file's ({@code seccomp} for
     * {@code /usr/share/containers/seccomp.json}).
     *
     * @param source names the JSON in error messages (a file name), may be {@code null}
     * @throws dev.stockade.PolicyException listing every problem, each with its JSON path
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static Imported read(String json, String source) {
        requireJackson("reading");
        Imported imported = OciReader.read(json, source == null ? "OCI seccomp JSON" : source);
        if (source == null || imported.profile().name() != null) {
            return imported;
        }
        // Named after the file, as a loaded text profile is: reports say which profile denied.
        return new Imported(imported.profile().withName(baseName(source)),
                imported.warnings());
    }

    /** "/etc/x/seccomp.json" gives "seccomp". */
    static String baseName(String source) {
        String base = source.substring(source.lastIndexOf('/') + 1);
        return base.endsWith(".json") && base.length() > 5
                ? base.substring(0, base.length() - 5) : base;
    }

    /**
     * {@code profile} as OCI seccomp JSON (see {@link OciWriter} for how Stockade's
     * {@code report} action is written).
     *
     * @throws IllegalStateException when Jackson is not on the class path
     */
    public static String write(ProfileRules profile) {
        requireJackson("writing");
        return OciWriter.write(profile);
    }

    private static void requireJackson(String what) {
        try {
            Class.forName(JACKSON_PROBE_CLASS, false, OciSeccomp.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException(what + " OCI seccomp JSON needs Jackson, which"
                    + " Stockade's library jar does not bring along: add the dependency "
                    + JACKSON_ARTIFACT + " (2.x) to your build", e);
        }
    }
}
