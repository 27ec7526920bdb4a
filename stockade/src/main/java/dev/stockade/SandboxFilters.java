package dev.stockade;

import dev.stockade.internal.FilterPrograms;
import dev.stockade.internal.SpecResolver;
import java.io.IOException;
import java.util.List;

/**
 * Chooses and compiles the seccomp programs of one sandbox before anything is spawned: the
 * profile's filter (with or without user notification) and the set-id guard. Report rules need
 * seccomp user notification; where the kernel lacks it they deny with their errno (a
 * {@code report(allow)} rule lets the call run) and record nothing, as {@link Sandbox#probe()}
 * says. Every program is compiled once per profile and then reused.
 */
final class SandboxFilters {
    private SandboxFilters() {}

    /** Whether the kernel has seccomp user notification; probed once per JVM. */
    private static volatile Boolean userNotification;

    /**
     * The programs {@code policy} installs.
     *
     * @throws IOException when compiling fails (libseccomp refuses, a program is too long), or
     *     when the kernel's support for report rules cannot be probed
     */
    static FilterPrograms of(SandboxPolicy policy) throws IOException {
        SeccompProfile profile = policy.seccomp();
        byte[] guard = policy.allowsSetIdFiles() ? null
                : SpecResolver.idmapsWritableBinds(policy) ? SetIdGuard.programForIdmappedBinds()
                : SetIdGuard.program();
        if (!profile.installsFilter()) {
            return new FilterPrograms(null, List.of(), guard);
        }
        if (!profile.hasReports()) {
            return new FilterPrograms(profile.program(true), List.of(), guard);
        }
        if (userNotification()) {
            return new FilterPrograms(profile.program(true), profile.reportSpecs(), guard);
        }
        return new FilterPrograms(profile.program(false), List.of(), guard);
    }

    /**
     * Whether report rules can use user notification here ({@code stockade-helper probe
     * seccomp}: the seccomp part only, a few milliseconds where the whole probe, namespaces and
     * all, takes ten or more). A probe that cannot run is an error: the spawn would need the
     * same helper anyway.
     */
    private static boolean userNotification() throws IOException {
        Boolean known = userNotification;
        if (known == null) {
            known = ProbeRunner.runSeccomp().seccompUserNotification();
            userNotification = known;
        }
        return known;
    }
}
