package dev.stockade.internal.oci;

import dev.stockade.SeccompProfile;
import dev.stockade.internal.policy.ProfileRules;

/**
 * The conversions {@code SeccompProfile.importOci} and {@code toOci} make, for tests of the
 * reader and writer, which exchange {@link ProfileRules}, not profiles.
 */
final class OciTesting {
    private OciTesting() {}

    /** A filtering profile's plain data. */
    static ProfileRules rules(SeccompProfile profile) {
        return new ProfileRules(profile.name().orElse(null), profile.defaultAction(),
                profile.rules());
    }

    /** The profile holding {@code rules}. */
    static SeccompProfile profile(ProfileRules rules) {
        SeccompProfile.Builder b = SeccompProfile.builder().name(rules.name())
                .defaultAction(rules.defaultAction());
        rules.rules().forEach(b::rule);
        return b.build();
    }

    /** {@code profile} as OCI JSON. */
    static String write(SeccompProfile profile) {
        return OciWriter.write(rules(profile));
    }
}
