package dev.stockade;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What network a sandboxed command gets: {@link #NONE}, {@link #HOST}, or an
 * {@linkplain #allow(String...) allow list} of the hosts it may reach through a proxy that the
 * library runs on the caller's side.
 *
 * <p>Host patterns: {@code host} (port 443), {@code host:port}, {@code *.example.org} (every
 * name under {@code example.org}, not {@code example.org} itself, port 443) and
 * {@code *.example.org:port}; an IPv4 address or a bracketed IPv6 one ({@code [2001:db8::1]:80})
 * in place of the host. A pattern for every host ({@code *}, {@code *:443}) is refused: it
 * would let anything out. A loopback, link-local (the cloud metadata address 169.254.169.254
 * among them), private, multicast or reserved address, or one of the host's own, is reached
 * only through an exact entry (a host name without a wildcard that resolves to it, or that
 * address itself), never through a wildcard. The patterns are checked by
 * {@link SandboxPolicy.Builder#build()}, with every other setting.
 *
 * <p>Immutable; {@link #equals} compares the mode and the lists.
 */
public final class Network {
    /** What kind of network this is. */
    public enum Mode {
        /** No network: see {@link Network#NONE}. */
        NONE,
        /** The host's network: see {@link Network#HOST}. */
        HOST,
        /** The sandbox's own empty network and a proxy to the allowed hosts. */
        ALLOW_LIST
    }

    /**
     * No network: a new network namespace in which only loopback is up, so a server the command
     * starts on 127.0.0.1 is reachable from inside, and nothing on the host is.
     */
    public static final Network NONE = new Network(Mode.NONE, List.of(), List.of());
    /** The host's network: no network namespace (as disabling {@link Namespace#NETWORK}). */
    public static final Network HOST = new Network(Mode.HOST, List.of(), List.of());

    private final Mode mode;
    private final List<String> allowed;
    private final List<String> denied;

    private Network(Mode mode, List<String> allowed, List<String> denied) {
        this.mode = mode;
        this.allowed = allowed;
        this.denied = denied;
    }

    /**
     * The sandbox's own network namespace with only loopback up, as {@link #NONE}, and one way
     * out: a proxy on {@code 127.0.0.1} inside (HTTP {@code CONNECT}, plain HTTP and SOCKS5)
     * that reaches exactly the hosts these patterns name. The proxy resolves names on the
     * caller's side; there is no resolver inside. The command's environment points tools at it
     * ({@code HTTP_PROXY}, {@code HTTPS_PROXY}, {@code ALL_PROXY}, {@code NO_PROXY}, their lower
     * case forms, and {@code JAVA_TOOL_OPTIONS} for JVMs). Every attempt, allowed or not, is
     * listed in {@link SandboxResult#connections()}. With no patterns every attempt is refused
     * and listed: a way to learn what a step would reach.
     *
     * @param hostPatterns the hosts the sandbox may reach (see the class comment)
     * @return an allow-list network with an empty deny list
     */
    public static Network allow(String... hostPatterns) {
        return new Network(Mode.ALLOW_LIST, copy(hostPatterns), List.of());
    }

    /**
     * This allow list with hosts that are refused even where an allowed pattern matches them
     * (the deny list is checked first). A deny pattern without a port denies every port, and a
     * wildcard may be as wide as {@code *.example.org}; {@code *} alone is refused (deny by
     * leaving it out of the allow list instead).
     *
     * @param hostPatterns the hosts to refuse, added after those already denied
     * @return a new network; this one is unchanged
     * @throws IllegalStateException on {@link #NONE} or {@link #HOST}, which have no allow list
     */
    public Network deny(String... hostPatterns) {
        if (mode != Mode.ALLOW_LIST) {
            throw new IllegalStateException("deny() needs an allow list: Network.allow(...)"
                    + ".deny(...)");
        }
        List<String> d = new ArrayList<>(denied);
        d.addAll(copy(hostPatterns));
        return new Network(mode, allowed, Collections.unmodifiableList(d));
    }

    /** {@return the mode: {@link Mode#NONE}, {@link Mode#HOST} or {@link Mode#ALLOW_LIST}} */
    public Mode mode() {
        return mode;
    }

    /**
     * {@return the allow list's patterns as given, in order} Empty but for
     * {@link Mode#ALLOW_LIST}.
     */
    public List<String> allowedHosts() {
        return allowed;
    }

    /**
     * {@return the deny list's patterns as given, in order} Empty unless {@link #deny} added
     * some.
     */
    public List<String> deniedHosts() {
        return denied;
    }

    private static List<String> copy(String[] patterns) {
        List<String> list = new ArrayList<>(patterns.length);
        for (String p : patterns) {
            list.add(Objects.requireNonNull(p, "host pattern"));
        }
        return Collections.unmodifiableList(list);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Network n && n.mode == mode && n.allowed.equals(allowed)
                && n.denied.equals(denied);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, allowed, denied);
    }

    @Override
    public String toString() {
        return switch (mode) {
            case NONE -> "NONE";
            case HOST -> "HOST";
            case ALLOW_LIST -> "allow" + allowed + (denied.isEmpty() ? "" : " deny" + denied);
        };
    }
}
