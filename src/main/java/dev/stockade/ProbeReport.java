package dev.stockade;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What this kernel and this user allow, as {@link Sandbox#probe()} found it: one
 * {@link Feature} per capability the sandbox uses, each with a detail (a version, or the reason it
 * is missing), and shorthands for the ones a caller usually asks about.
 */
public final class ProbeReport {
    /**
     * One probed capability.
     *
     * @param name the helper's name for it (for example {@code "user_namespaces"})
     * @param available whether it can be used
     * @param detail more about it: a version, or why it is not available; may be empty
     */
    public record Feature(String name, boolean available, String detail) {}

    private final List<Feature> features;

    ProbeReport(List<Feature> features) {
        this.features = List.copyOf(features);
    }

    /** Every feature, in the helper's order. */
    public List<Feature> features() {
        return features;
    }

    /** The feature called {@code name}, if the helper probed it. */
    public Optional<Feature> feature(String name) {
        for (Feature f : features) {
            if (f.name().equals(name)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    private boolean available(String name) {
        return feature(name).map(Feature::available).orElse(false);
    }

    static ProbeReport parse(String text) {
        List<Feature> features = new ArrayList<>();
        return new ProbeReport(features);
    }

    public boolean userNamespaces() {
        return available("user_namespaces");
    }

    public boolean seccompFilter() {
        return available("seccomp_filter");
    }

    public boolean seccompUserNotification() {
        return available("seccomp_user_notification");
    }

    public OptionalInt landlockAbi() {
        return OptionalInt.empty();
    }

    public int cgroupVersion() {
        return 0;
    }

    public boolean cgroupDelegation() {
        return available("cgroup_delegation");
    }

    public boolean canRunDefaultPolicy() {
        return userNamespaces() && seccompFilter();
    }
}
