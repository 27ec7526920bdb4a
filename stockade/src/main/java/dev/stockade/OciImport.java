package dev.stockade;

import java.util.List;
import java.util.Objects;

/**
 * The result of importing an OCI / Docker seccomp profile with
 * {@link SeccompProfile#importOci(String, String)}: the profile, and what of the JSON does not
 * apply here and was skipped or changed on the way (system calls this architecture does not
 * have, entries gated on capabilities the sandbox never holds, a TRACE action with no
 * tracer...). The warnings do not make the import fail: a runtime that uses libseccomp treats
 * the same JSON the same way.
 *
 * @param profile the imported profile
 * @param warnings one line each, naming the JSON path they are about
 */
public record OciImport(SeccompProfile profile, List<String> warnings) {
    /**
     * An import's result; {@code warnings} is copied.
     *
     * @param profile the imported profile
     * @param warnings one line each; empty when all of the JSON applied
     */
    public OciImport {
        Objects.requireNonNull(profile, "profile");
        warnings = List.copyOf(warnings);
    }
}
