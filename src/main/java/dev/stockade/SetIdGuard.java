package dev.stockade;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The set-id guard ({@code seccomp/setid-guard.policy}): a second seccomp filter that every
 * sandbox gets under its profile, unless its policy allows set-id files. It refuses to create a
 * file with the set-user-ID or set-group-ID bit or to set either bit: {@code nosuid} holds only in
 * the sandbox's own view, and such a file left in a writable bind would stay on the host. A
 * separate filter, so that no profile (an OCI import allows every {@code chmod}) can undo it:
 * the kernel applies the stricter answer of the two.
 */
final class SetIdGuard {
    private SetIdGuard() {}

    static final String RESOURCE = "/dev/stockade/seccomp/setid-guard.policy";

    /** Parsed once per JVM; compiled once (SeccompProfile caches its program). */
    private static final class Holder {
        static final SeccompProfile PROFILE = load();
    }

    /** The guard as a profile (for tests and docs: its rules and reasons). */
    static SeccompProfile profile() {
        return Holder.PROFILE;
    }

    /** The compiled guard, not copied: only for code that never hands it out. */
    static byte[] program() throws IOException {
        return Holder.PROFILE.program(false);
    }

    private static SeccompProfile load() {
        try (InputStream in = SetIdGuard.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the Stockade jar has no " + RESOURCE);
            }
            return SeccompProfile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    "setid-guard");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
