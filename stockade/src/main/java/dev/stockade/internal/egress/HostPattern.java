package dev.stockade.internal.egress;

import java.util.Locale;

/**
 * One entry of a network allow or deny list: an exact host (a name or an address), or every
 * name under a domain ({@code *.example.org}), with a port or (deny entries only) every port.
 * The grammar is in {@code dev.stockade.Network}'s class comment; {@link #parse} refuses the
 * rest with one line saying why.
 *
 * @param text the pattern as the policy wrote it (what results and messages show)
 * @param host the exact host in lower case (an IPv6 address without brackets), or for a
 *     wildcard the domain under it, without the {@code "*."}
 * @param wildcard whether this names every name under {@code host} (never {@code host} itself)
 * @param port the port, or {@link #ANY_PORT}
 */
record HostPattern(String text, String host, boolean wildcard, int port) {
    /** The port of an allow entry that names none. */
    static final int DEFAULT_PORT = 443;
    /** The port of a deny entry that names none: it denies every port. */
    static final int ANY_PORT = 0;

    /**
     * @param denyEntry a deny entry: without a port it covers every port
     * @throws IllegalArgumentException with the one-line reason the pattern is refused
     */
    static HostPattern parse(String text, boolean denyEntry) {
        String what = (denyEntry ? "deny" : "allow") + " entry \"" + text + "\"";
        if (text.isBlank()) {
            throw new IllegalArgumentException("empty " + what.replace(" \"" + text + "\"", "")
                    + ": name a host");
        }
        String host = text.strip().toLowerCase(Locale.ROOT);
        int port = denyEntry ? ANY_PORT : DEFAULT_PORT;
        String hostPart;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(what + ": an IPv6 address needs its closing ]");
            }
            hostPart = host.substring(1, close);
            String rest = host.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException(what + ": only :port may follow ]");
                }
                port = port(what, rest.substring(1));
            }
            if (!Hosts.isIpv6Literal(hostPart)) {
                throw new IllegalArgumentException(what + ": not an IPv6 address in brackets");
            }
            return new HostPattern(text, Hosts.canonicalIpv6(hostPart), false, port);
        }
        int colon = host.lastIndexOf(':');
        if (colon >= 0) {
            if (host.indexOf(':') != colon) {
                throw new IllegalArgumentException(what + ": write an IPv6 address in brackets,"
                        + " [2001:db8::1]:443");
            }
            port = port(what, host.substring(colon + 1));
            hostPart = host.substring(0, colon);
        } else {
            hostPart = host;
        }
        if (hostPart.endsWith(".") && hostPart.length() > 1) {
            hostPart = hostPart.substring(0, hostPart.length() - 1);
        }
        if (hostPart.equals("*")) {
            throw new IllegalArgumentException(what + " is too wide: it names every host");
        }
        if (hostPart.startsWith("*.")) {
            String domain = hostPart.substring(2);
            String problem = Hosts.nameProblem(domain);
            if (problem != null) {
                throw new IllegalArgumentException(what + ": " + problem);
            }
            if (domain.indexOf('.') < 0) {
                throw new IllegalArgumentException(what + " is too wide: it names every host of"
                        + " the top-level domain ." + domain);
            }
            return new HostPattern(text, domain, true, port);
        }
        if (hostPart.indexOf('*') >= 0) {
            throw new IllegalArgumentException(what + ": a wildcard may only be the whole first"
                    + " label, as in *.example.org");
        }
        if (Hosts.isIpv4Literal(hostPart)) {
            return new HostPattern(text, hostPart, false, port);
        }
        String problem = Hosts.nameProblem(hostPart);
        if (problem != null) {
            throw new IllegalArgumentException(what + ": " + problem);
        }
        return new HostPattern(text, hostPart, false, port);
    }

    private static int port(String what, String digits) {
        if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(Hosts::isDigit)) {
            throw new IllegalArgumentException(what + ": the port must be a number from 1 to"
                    + " 65535" + (digits.equals("*") ? " (every port is too wide)" : ""));
        }
        int p = Integer.parseInt(digits);
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException(what + ": the port must be a number from 1 to"
                    + " 65535");
        }
        return p;
    }

    /** Whether this entry covers {@code host} (normalized by {@link Hosts#target}) and port. */
    boolean matches(String normalizedHost, int requestedPort) {
        if (port != ANY_PORT && port != requestedPort) {
            return false;
        }
        if (wildcard) {
            return normalizedHost.endsWith("." + host) && !Hosts.isIpLiteral(normalizedHost);
        }
        return normalizedHost.equals(host);
    }
}
