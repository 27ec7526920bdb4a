package dev.stockade.internal.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * What counts as a host name or an address, for the policy's patterns and for what a sandbox
 * asks its proxy for alike: one spelling per host, so that a pattern and a request compare as
 * strings. Only canonical forms pass: a dotted quad of four decimal numbers without leading
 * zeros, an IPv6 address (written as Java writes it), or a name of letters, digits, hyphens and
 * underscores whose last label is not all digits. {@code 127.1}, {@code 2130706433} and
 * {@code 0x7f.1}, which the C resolver would take for 127.0.0.1, are none of these.
 */
final class Hosts {
    private Hosts() {}

    /** The longest host name (RFC 1035). */
    static final int MAX_NAME = 253;
    private static final int MAX_LABEL = 63;

    static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    static boolean isIpv4Literal(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Hosts::isDigit)
                    || (p.length() > 1 && p.charAt(0) == '0') || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    static boolean isIpv6Literal(String s) {
        if (s.indexOf(':') < 0 || s.length() > 45) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':'
                    || c == '.')) {
                return false; // a scope id (%eth0) among them
            }
        }
        try {
            InetAddress.getByName(s); // a literal with ':' is parsed, never looked up
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** An IPv6 literal as Java writes it; an IPv4-mapped one becomes its IPv4 address. */
    static String canonicalIpv6(String s) {
        try {
            return InetAddress.getByName(s).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(s + " is not an IPv6 address", e);
        }
    }

    /** {@code host} as a URL or a {@code Host} header writes it: an IPv6 address in brackets. */
    static String inUrl(String host) {
        return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    }

    static boolean isIpLiteral(String normalized) {
        return normalized.indexOf(':') >= 0 || isIpv4Literal(normalized);
    }

    /** Why {@code name} (lower case, no trailing dot) is not a host name, or null. */
    static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "the host name is empty";
        }
        if (name.length() > MAX_NAME) {
            return "the host name is longer than " + MAX_NAME + " characters";
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty()) {
                return "the host name has an empty label";
            }
            if (label.length() > MAX_LABEL) {
                return "a label of the host name is longer than " + MAX_LABEL + " characters";
            }
            if (label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
                return "a label of the host name starts or ends with '-'";
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(isDigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
                    return "'" + printable(String.valueOf(c)) + "' is not allowed in a host name"
                            + " (letters, digits, '-' and '_'; an IPv6 address goes in brackets)";
                }
            }
        }
        if (labels[labels.length - 1].chars().allMatch(Hosts::isDigit)) {
            return "neither a host name (its last label is all digits) nor an IPv4 address of"
                    + " four decimal numbers";
        }
        return null;
    }

    /**
     * {@code s} as it may be shown: a sandbox writes what it asks for, and a result, a log or
     * the caller's terminal must not get its control characters. Printable ASCII stays (a
     * backslash doubled); a Latin-1 character as {@code \xNN}, any other as a backslash,
     * {@code u} and four hex digits. At most {@link #MAX_NAME} characters of {@code s} are
     * kept, and "..." says when more were.
     */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_NAME) + 8);
        int n = Math.min(s.length(), MAX_NAME);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                b.append("\\\\");
            } else if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else if (c <= 0xff) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return s.length() > n ? b.append("...").toString() : b.toString();
    }

    /**
     * A requested host in the one spelling patterns use: lower case, without a trailing dot
     * or IPv6 brackets, an IPv6 address as Java writes it.
     *
     * @throws IllegalArgumentException saying why it is neither a name nor an address
     */
    static String normalize(String requested) {
        String h = requested.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.indexOf(':') >= 0) {
            if (!isIpv6Literal(h)) {
                throw new IllegalArgumentException("not an IPv6 address");
            }
            return canonicalIpv6(h);
        }
        if (h.endsWith(".") && h.length() > 1) {
            h = h.substring(0, h.length() - 1);
        }
        if (isIpv4Literal(h)) {
            return h;
        }
        String problem = nameProblem(h);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return h;
    }
}
