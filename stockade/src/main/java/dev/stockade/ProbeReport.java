package dev.stockade;

import dev.stockade.internal.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What this kernel and this user allow, as {@link Sandbox#probe()} found it by trying each
 * feature for real: one {@link Feature} per line of {@code stockade-helper probe} (the format is
 * in {@code docs/protocol.md}), and shorthands for what callers usually ask.
 */
public final class ProbeReport {
    /**
     * One probed feature.
     *
     * @param name the helper's name for it ({@code "user_namespace"}, {@code "landlock"},
     *     {@code "cgroup"} ...)
     * @param available whether it can be used
     * @param detail the reason it is not available (with the errno's text), or what is known
     *     about it ({@code "abi=4"}, {@code "v2"}); may be empty
     * @param errno the errno of the failed attempt, 0 when available or not applicable
     * @param attributes every {@code key=value} the helper reported, {@code reason} included
     */
    public record Feature(String name, boolean available, String detail, int errno,
            Map<String, String> attributes) {
        /**
         * A feature; {@code attributes} is copied, keeping its order.
         *
         * @param name the helper's name for the feature
         * @param available whether it can be used
         * @param detail the reason it is not available, or what is known about it
         * @param errno the errno of the failed attempt, or 0
         * @param attributes every {@code key=value} the helper reported
         */
        public Feature {
            attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }
    }

    /**
     * The feature {@link Sandbox#probe()} reports, unavailable and alone, when this JVM's OS or
     * architecture is not one this jar has natives for; its detail says which it is and which
     * the jar has.
     */
    public static final String PLATFORM = "platform";

    /**
     * The feature {@link Sandbox#probe()} reports, unavailable and alone, when the natives of
     * this platform cannot be loaded (extracted, opened or linked); its detail says why.
     */
    public static final String NATIVES = "natives";

    private final List<Feature> features;

    ProbeReport(List<Feature> features) {
        this.features = List.copyOf(features);
    }

    /** A report of one unavailable feature, {@code reason} its detail. */
    static ProbeReport unavailable(String feature, String reason) {
        return new ProbeReport(List.of(new Feature(feature, false, reason, 0,
                Map.of("reason", reason))));
    }

    /** {@return every feature, in the helper's order} */
    public List<Feature> features() {
        return features;
    }

    /**
     * The feature of a name.
     *
     * @param name the helper's name for the feature ({@code "landlock"})
     * @return the feature, or empty when the helper did not probe one of that name
     */
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

    /** {@return whether this user can create a user namespace} */
    public boolean userNamespaces() {
        return available("user_namespace");
    }

    /** {@return whether a seccomp-bpf filter can be installed} */
    public boolean seccompFilter() {
        return available("seccomp_filter");
    }

    /**
     * {@return whether seccomp user notification (a supervisor deciding system calls) is
     * available} Without it {@code report} rules deny without recording.
     */
    public boolean seccompUserNotification() {
        return available("seccomp_user_notif");
    }

    /**
     * {@return the Landlock ABI version (1 and up)} Empty when Landlock is not available or the
     * helper reported no version.
     */
    public OptionalInt landlockAbi() {
        Optional<Feature> f = feature("landlock");
        if (f.isEmpty() || !f.get().available()) {
            return OptionalInt.empty();
        }
        String abi = f.get().attributes().get("abi");
        try {
            return abi == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(abi));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * {@return the machine's cgroup hierarchy: 2 for the unified cgroup v2 hierarchy, 1 for v1
     * (or hybrid), 0 when there is none} Whether a sandbox can use it is
     * {@link #cgroupUsableVersion()}.
     */
    public int cgroupVersion() {
        String mode = feature("cgroup").map(Feature::detail).orElse("none");
        return switch (mode) {
            case "v2" -> 2;
            case "v1", "hybrid" -> 1;
            default -> 0;
        };
    }

    /**
     * Whether a sandbox can have cgroups of its own here (the helper made and removed one with
     * the memory, pids and cpu controllers, as it would for {@link Limits#memoryBytes()}).
     *
     * @return {@code true} when the helper could make a sandbox's cgroup
     */
    public boolean cgroupDelegation() {
        return available("cgroup_delegation");
    }

    /**
     * Which cgroup a sandbox's limits use here: 2 (v2), 1 (v1), or 0 when none is usable
     * ({@link #cgroupReason()} says why).
     *
     * @return the cgroup version a sandbox's limits use, 0..2
     */
    public int cgroupUsableVersion() {
        return feature("cgroup_delegation").filter(Feature::available)
                .map(f -> f.attributes().getOrDefault("version", ""))
                .map(v -> v.equals("v2") ? 2 : v.equals("v1") ? 1 : 0).orElse(0);
    }

    /**
     * Why a sandbox can or cannot have cgroups here: where they would go, or what failed and how
     * to get one (root, or {@code systemd-run --user --scope -p Delegate=yes}).
     *
     * @return the helper's one-line reason; never empty when the helper probed cgroups
     */
    public String cgroupReason() {
        return feature("cgroup_delegation").map(Feature::detail)
                .orElse("the helper did not probe cgroups");
    }

    /**
     * Whether {@link SandboxPolicy#defaults()} can run here: every namespace together (tried
     * the way the helper creates them: one clone, the network namespace made beside it and
     * joined) and a seccomp filter.
     *
     * @return {@code true} when both were tried successfully
     */
    public boolean canRunDefaultPolicy() {
        return available("all_namespaces") && seccompFilter();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ProbeReport[");
        for (Feature f : features) {
            sb.append(f.name()).append('=').append(f.available() ? "yes" : "no").append(' ');
        }
        return sb.toString().trim() + "]";
    }

    /**
     * Parses the helper's probe output: {@code name=yes [key=value ...]},
     * {@code name=no errno=N [key=value ...] reason=text to the end of the line}, or
     * {@code name=value} (for example {@code cgroup=v2}; available unless the value is
     * {@code none}). Values are single tokens with {@code \ooo} octal escapes; only
     * {@code reason} runs to the end of the line.
     */
    static ProbeReport parse(String text) throws ProtocolException {
        List<Feature> features = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                features.add(parseLine(line));
            }
        }
        if (features.isEmpty()) {
            throw new ProtocolException("the helper's probe printed nothing");
        }
        return new ProbeReport(features);
    }

    private static Feature parseLine(String line) throws ProtocolException {
        int eq = line.indexOf('=');
        if (eq <= 0) {
            throw new ProtocolException("unexpected probe line: " + line);
        }
        String name = line.substring(0, eq);
        String rest = line.substring(eq + 1);
        int space = rest.indexOf(' ');
        String value = space < 0 ? rest : rest.substring(0, space);
        Map<String, String> attributes = new LinkedHashMap<>();
        String remaining = space < 0 ? "" : rest.substring(space + 1);
        while (!remaining.isEmpty()) {
            if (remaining.startsWith("reason=")) {
                attributes.put("reason", remaining.substring("reason=".length()));
                break;
            }
            int sp = remaining.indexOf(' ');
            String token = sp < 0 ? remaining : remaining.substring(0, sp);
            remaining = sp < 0 ? "" : remaining.substring(sp + 1);
            int keq = token.indexOf('=');
            if (keq <= 0) {
                throw new ProtocolException("unexpected token '" + token + "' in probe line: "
                        + line);
            }
            attributes.put(token.substring(0, keq), unescape(token.substring(keq + 1)));
        }
        int errno = 0;
        if (attributes.containsKey("errno")) {
            try {
                errno = Integer.parseInt(attributes.get("errno"));
            } catch (NumberFormatException e) {
                throw new ProtocolException("bad errno in probe line: " + line);
            }
        }
        boolean available;
        String detail;
        switch (value) {
            case "yes", "no" -> {
                available = value.equals("yes");
                if (attributes.containsKey("reason")) {
                    detail = attributes.get("reason");
                } else {
                    StringBuilder sb = new StringBuilder();
                    for (Map.Entry<String, String> a : attributes.entrySet()) {
                        if (!a.getKey().equals("errno")) {
                            sb.append(sb.length() == 0 ? "" : " ").append(a.getKey()).append('=')
                                    .append(a.getValue());
                        }
                    }
                    detail = sb.toString();
                }
            }
            default -> {
                available = !value.equals("none") && !value.isEmpty();
                detail = unescape(value);
            }
        }
        return new Feature(name, available, detail, errno, attributes);
    }

    /** Undoes the helper's {@code \ooo} escapes (space, backslash, newline) in a value. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && octal(raw[i + 1]) && octal(raw[i + 2])
                    && octal(raw[i + 3])) {
                out.write((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean octal(byte b) {
        return b >= '0' && b <= '7';
    }
}
