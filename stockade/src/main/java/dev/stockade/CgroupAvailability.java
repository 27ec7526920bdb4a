package dev.stockade;

import java.io.IOException;

/**
 * Whether this JVM's sandboxes can have cgroups of their own, probed once
 * ({@code stockade-helper probe cgroup}) the first time a policy with a best-effort memory bound
 * needs to know: the answer depends on the JVM's own cgroup and user, which do not change
 * while it runs. Every other cgroup limit is sent to the helper as it is, which fails closed
 * where it cannot apply it.
 */
final class CgroupAvailability {
    private CgroupAvailability() {}

    private static final Object LOCK = new Object();
    private static String reason; // "" once probed usable
    private static boolean probed;

    /** {@code null} when usable, else why not. */
    static String unusableReason() {
        synchronized (LOCK) {
            if (!probed) {
                reason = probe();
                probed = true;
            }
            return reason.isEmpty() ? null : reason;
        }
    }

    private static String probe() {
        try {
            ProbeReport r = ProbeRunner.runCgroup();
            return r.cgroupDelegation() ? "" : r.cgroupReason();
        } catch (IOException e) {
            return "the cgroup probe failed: " + e.getMessage();
        }
    }
}
