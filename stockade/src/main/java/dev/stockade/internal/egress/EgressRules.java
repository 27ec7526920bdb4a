package dev.stockade.internal.egress;

import dev.stockade.Connection.Verdict;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A sandbox's allow and deny lists, parsed once (by {@code SandboxPolicy.build()}) and asked by
 * its proxy for every connection: first {@link #decide} on the host and port asked for (the
 * deny list first, then the allow list), then, after the proxy resolved the
 * name, {@link #refusal} on each address it could connect to. Of the allow entries that
 * match, an exact one is taken before a wildcard, else the first.
 */
public final class EgressRules {
    private final List<HostPattern> allow;
    private final List<HostPattern> deny;

    private EgressRules(List<HostPattern> allow, List<HostPattern> deny) {
        this.allow = allow;
        this.deny = deny;
    }

    /**
     * Parses both lists; every pattern refused adds one line to {@code problems}.
     *
     * @return the rules of the patterns that parsed (use them only when no problem was added)
     */
    public static EgressRules parse(List<String> allowPatterns, List<String> denyPatterns,
            List<String> problems) {
        return new EgressRules(parse(allowPatterns, false, problems),
                parse(denyPatterns, true, problems));
    }

    private static List<HostPattern> parse(List<String> patterns, boolean deny,
            List<String> problems) {
        List<HostPattern> parsed = new ArrayList<>(patterns.size());
        for (String p : patterns) {
            try {
                parsed.add(HostPattern.parse(p, deny));
            } catch (IllegalArgumentException e) {
                problems.add("network " + e.getMessage());
            }
        }
        return List.copyOf(parsed);
    }

    /**
     * What the lists say of a request, before any name is resolved.
     *
     * @param verdict {@link Verdict#ALLOWED} or {@link Verdict#DENIED}
     * @param host the host in the one spelling patterns use ({@link Hosts#normalize}); as asked
     *     (in lower case, {@linkplain Hosts#printable printable}) when it is not a host at all
     * @param rule the deciding pattern as written, or empty
     * @param reason why it is denied, or empty
     * @param exact whether the allowing entry names this host exactly (no wildcard): only then
     *     may it reach a {@linkplain AddressRanges restricted} address
     */
    public record Decision(Verdict verdict, String host, int port, String rule, String reason,
            boolean exact) {
        public boolean allowed() {
            return verdict == Verdict.ALLOWED;
        }
    }

    /**
     * Decides on {@code requestedHost} (a name, an IPv4 address, or an IPv6 one with or without
     * brackets) and {@code port}.
     */
    public Decision decide(String requestedHost, int port) {
        String host;
        try {
            host = Hosts.normalize(requestedHost);
        } catch (IllegalArgumentException e) {
            return new Decision(Verdict.DENIED,
                    Hosts.printable(requestedHost.toLowerCase(Locale.ROOT)), port, "",
                    "not a host name or an address: " + e.getMessage(), false);
        }
        if (port < 1 || port > 65535) {
            return new Decision(Verdict.DENIED, host, port, "", "port " + port
                    + " is not from 1 to 65535", false);
        }
        for (HostPattern d : deny) {
            if (d.matches(host, port)) {
                return new Decision(Verdict.DENIED, host, port, d.text(), "denied by "
                        + d.text(), false);
            }
        }
        // An exact entry wins over a wildcard listed before it: only it reaches a restricted
        // address, whatever the order the policy wrote them in.
        HostPattern match = null;
        for (HostPattern a : allow) {
            if (a.matches(host, port) && (match == null || (match.wildcard() && !a.wildcard()))) {
                match = a;
            }
        }
        if (match != null) {
            return new Decision(Verdict.ALLOWED, host, port, match.text(), "", !match.wildcard());
        }
        return new Decision(Verdict.DENIED, host, port, "", "not in the allow list", false);
    }

    /**
     * Why an allowed request may not connect to {@code address}, one of those its host resolved
     * to, or empty when it may: a deny entry naming the address refuses it, a restricted
     * address needs an exact entry, and a link-local or metadata address an entry that is the
     * address itself.
     */
    public Optional<String> refusal(Decision allowed, InetAddress address) {
        return refusalOf(allowed, address).map(Refusal::reason);
    }

    /**
     * A refused address.
     *
     * @param rule the entry that refused it: the deny entry naming it, or the allow entry that
     *     cannot reach it
     * @param reason why, naming the address (for the caller's log)
     * @param shown why, for the sandbox's reply: without the address, since what a name
     *     resolved to on the caller's side (a host on its LAN, say) is not the sandbox's to
     *     learn
     */
    public record Refusal(String rule, String reason, String shown) {}

    /** {@link #refusal}, with the entry that decided it (what a connection log shows). */
    public Optional<Refusal> refusalOf(Decision allowed, InetAddress address) {
        if (!allowed.allowed()) {
            throw new IllegalArgumentException("not an allowed decision: " + allowed);
        }
        String literal = address.getHostAddress();
        String carried = AddressRanges.carriedIpv4(address).map(InetAddress::getHostAddress)
                .orElse(null);
        for (HostPattern d : deny) {
            for (String a : carried == null ? List.of(literal) : List.of(literal, carried)) {
                if (!d.wildcard() && d.matches(a, allowed.port())) {
                    return Optional.of(new Refusal(d.text(), literal + " is denied by "
                            + d.text(), "its address is denied"));
                }
            }
        }
        Optional<AddressRanges.Restriction> restricted = AddressRanges.restricted(address);
        if (restricted.isEmpty()) {
            return Optional.empty();
        }
        AddressRanges.Restriction r = restricted.get();
        // Only an address request matches an address entry (Hosts: one spelling each).
        boolean addressEntry = allowed.exact() && Hosts.isIpLiteral(allowed.host());
        String needed;
        if (r.addressEntryOnly() && !addressEntry) {
            needed = "an entry naming the address itself";
        } else if (!allowed.exact()) {
            needed = "an exact entry";
        } else {
            return Optional.empty();
        }
        String only = "only " + needed + " reaches it";
        return Optional.of(new Refusal(allowed.rule(), literal + " is " + r.kind() + ": " + only
                + ", not " + allowed.rule(), "its address is restricted: " + only));
    }
}
