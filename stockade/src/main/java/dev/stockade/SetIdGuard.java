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
    /**
     * Added where writable binds are idmapped to their owner (a root caller's): no new user
     * namespace, in which the command would have CAP_SETFCAP and could write a file capability
     * that the idmapping stores with rootid 0, effective on the host. Only there, since its
     * errno outranks a profile's report rule for the same calls (build's clone/unshare).
     */
    static final String IDMAPPED_RESOURCE = "/dev/stockade/seccomp/setid-guard-idmapped.policy";

    /** Parsed once per JVM; compiled once (SeccompProfile caches its program). */
    private static final class Holder {
        static final SeccompProfile PROFILE = load(RESOURCE);
        static final SeccompProfile IDMAPPED = load(RESOURCE, IDMAPPED_RESOURCE);
    }

    /** The guard as a profile (for tests and docs: its rules and reasons). */
    static SeccompProfile profile() {
        return Holder.PROFILE;
    }

    /** The compiled guard, not copied: only for code that never hands it out. */
    static byte[] program() throws IOException {
        return Holder.PROFILE.program(false);
    }

    /** The guard with {@link #IDMAPPED_RESOURCE}'s rules too (for tests and docs). */
    static SeccompProfile profileForIdmappedBinds() {
        return Holder.IDMAPPED;
    }

    /** The compiled guard for a sandbox whose writable binds are idmapped, not copied. */
    static byte[] programForIdmappedBinds() throws IOException {
        return Holder.IDMAPPED.program(false);
    }

    private static SeccompProfile load(String... resources) {
        StringBuilder text = new StringBuilder();
        for (String resource : resources) {
            try (InputStream in = SetIdGuard.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("the Stockade jar has no " + resource);
                }
                text.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource, e);
            }
        }
        return SeccompProfile.parse(text.toString(), "setid-guard");
    }
}
