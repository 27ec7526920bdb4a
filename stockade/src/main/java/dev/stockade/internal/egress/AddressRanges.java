package dev.stockade.internal.egress;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The addresses a wildcard entry never reaches: loopback, link-local, private, shared
 * (carrier-grade NAT), multicast, reserved and unspecified ranges, tunnels (Teredo, the 6to4
 * relays), the clouds' metadata services, and the host's own addresses. Link-local and
 * metadata addresses are reached only through an entry that is the address itself, never a
 * name: a name's answer can be steered (rebinding, a poisoned or split-horizon resolver), and
 * there is nothing a build needs at 169.254.169.254. The one table is {@link #RANGES}. An IPv6
 * address that carries an IPv4 one (IPv4-mapped {@code ::ffff:0:0/96}, IPv4-translated
 * {@code ::ffff:0:0:0/96}, IPv4-compatible {@code ::/96}, NAT64 {@code 64:ff9b::/96} and
 * {@code 64:ff9b:1::/48}, 6to4 {@code 2002::/16}) is judged by the IPv4 address as well.
 */
final class AddressRanges {
    private AddressRanges() {}

    /**
     * Why an address is restricted.
     *
     * @param kind what it is, as a sentence's object ("a loopback address")
     * @param addressEntryOnly whether only an entry naming the address itself reaches it (an
     *     exact host name does not)
     */
    record Restriction(String kind, boolean addressEntryOnly) {}

    /** A range: its first address's bytes, its prefix length, and what it is. */
    private record Range(byte[] prefix, int bits, Restriction restriction) {
        boolean contains(byte[] a) {
            if (a.length != prefix.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (a[full] & mask) == (prefix[full] & mask);
        }
    }

    private static Range range(String cidr, String kind) {
        return range(cidr, kind, false);
    }

    private static Range range(String cidr, String kind, boolean addressEntryOnly) {
        int slash = cidr.indexOf('/');
        try {
            byte[] prefix = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
            return new Range(prefix, Integer.parseInt(cidr.substring(slash + 1)),
                    new Restriction(kind, addressEntryOnly));
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e); // literals only: cannot happen
        }
    }

    private static final String METADATA = "a cloud metadata address";
    private static final String LINK_LOCAL = "a link-local address";

    /** Searched in order: the metadata addresses before the ranges that hold them. */
    private static final List<Range> RANGES = List.of(
            range("100.100.100.200/32", METADATA, true), // Alibaba Cloud
            range("168.63.129.16/32", METADATA, true), // Azure's host agent
            range("fd00:ec2::254/128", METADATA, true), // AWS over IPv6
            range("0.0.0.0/8", "an unspecified address"),
            range("10.0.0.0/8", "a private address"),
            range("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
            range("127.0.0.0/8", "a loopback address"),
            range("169.254.0.0/16", LINK_LOCAL, true), // 169.254.169.254 among them
            range("172.16.0.0/12", "a private address"),
            range("192.0.0.0/24", "a reserved address"),
            range("192.0.2.0/24", "a reserved address"),
            range("192.88.99.0/24", "a 6to4 relay address"),
            range("192.168.0.0/16", "a private address"),
            range("198.18.0.0/15", "a reserved address"),
            range("198.51.100.0/24", "a reserved address"),
            range("203.0.113.0/24", "a reserved address"),
            range("224.0.0.0/4", "a multicast address"),
            range("240.0.0.0/4", "a reserved address"),
            range("::/128", "an unspecified address"),
            range("::1/128", "a loopback address"),
            range("100::/64", "a reserved address"),
            range("2001::/32", "a Teredo tunnel address"),
            range("2001:db8::/32", "a reserved address"),
            range("fc00::/7", "a private address"),
            range("fe80::/10", LINK_LOCAL, true),
            range("fec0::/10", "a private address"),
            range("ff00::/8", "a multicast address"));

    private static final long OWN_ADDRESSES_TTL_NS = 5_000_000_000L;
    private static Set<InetAddress> ownAddresses;
    private static long ownAddressesRead = Long.MIN_VALUE;

    /**
     * Why this address is restricted (what only an exact entry, or only the address itself,
     * reaches), or empty for a public address. An IPv6 address with an IPv4 one inside is
     * restricted when either is.
     */
    static Optional<Restriction> restricted(InetAddress address) {
        byte[] raw = address.getAddress();
        Optional<Restriction> r = restrictedBytes(raw);
        if (r.isPresent()) {
            return r;
        }
        byte[] inside = embeddedIpv4(raw);
        return inside == null ? Optional.empty() : restrictedBytes(inside);
    }

    private static Optional<Restriction> restrictedBytes(byte[] a) {
        for (Range r : RANGES) {
            if (r.contains(a)) {
                return Optional.of(r.restriction());
            }
        }
        try {
            Set<InetAddress> own = own();
            if (own == null) {
                return Optional.of(new Restriction("possibly one of the host's own addresses"
                        + " (its interfaces could not be read)", false));
            }
            if (own.contains(InetAddress.getByAddress(a))) {
                return Optional.of(new Restriction("one of the host's own addresses", false));
            }
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
        }
        return Optional.empty();
    }

    /** The IPv4 address {@code address} carries inside, if it is an IPv6 one that does. */
    static Optional<InetAddress> carriedIpv4(InetAddress address) {
        byte[] inside = embeddedIpv4(address.getAddress());
        try {
            return inside == null ? Optional.empty()
                    : Optional.of(InetAddress.getByAddress(inside));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // 4 bytes: cannot happen
        }
    }

    /**
     * The IPv4 address an IPv6 address carries (IPv4-mapped, -translated, -compatible, NAT64,
     * 6to4), or null.
     */
    private static byte[] embeddedIpv4(byte[] a) {
        if (a.length != 16) {
            return null;
        }
        if (a[0] == 0x20 && a[1] == 0x02) { // 6to4: 2002:AABB:CCDD::/48
            return new byte[] {a[2], a[3], a[4], a[5]};
        }
        boolean zeros8 = allZero(a, 0, 8);
        boolean compatible = zeros8 && allZero(a, 8, 12); // ::a.b.c.d
        boolean mapped = allZero(a, 0, 10) && a[10] == (byte) 0xff && a[11] == (byte) 0xff;
        boolean translated = zeros8 && a[8] == (byte) 0xff && a[9] == (byte) 0xff
                && a[10] == 0 && a[11] == 0; // ::ffff:0:a.b.c.d
        boolean nat64 = a[0] == 0 && a[1] == 0x64 && a[2] == (byte) 0xff && a[3] == (byte) 0x9b
                && (allZero(a, 4, 12) || (a[4] == 0 && a[5] == 1)); // /96 and local-use /48
        if (compatible || mapped || translated || nat64) {
            return new byte[] {a[12], a[13], a[14], a[15]};
        }
        return null;
    }

    private static boolean allZero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The host's interface addresses, read again at most every few seconds; null when they
     * have never been readable (every address is then treated as possibly the host's own).
     */
    private static synchronized Set<InetAddress> own() {
        long now = System.nanoTime();
        if (ownAddressesRead != Long.MIN_VALUE && now - ownAddressesRead < OWN_ADDRESSES_TTL_NS) {
            return ownAddresses;
        }
        Set<InetAddress> found = new HashSet<>();
        try {
            Enumeration<NetworkInterface> all = NetworkInterface.getNetworkInterfaces();
            while (all != null && all.hasMoreElements()) {
                Enumeration<InetAddress> addrs = all.nextElement().getInetAddresses();
                while (addrs.hasMoreElements()) {
                    InetAddress a = addrs.nextElement();
                    // Without the scope: a link-local address is in the table anyway.
                    found.add(InetAddress.getByAddress(a.getAddress()));
                }
            }
        } catch (SocketException | java.net.UnknownHostException e) {
            // Unreadable: keep what was read last (the ranges above still hold).
            return ownAddresses;
        }
        ownAddresses = Set.copyOf(found);
        ownAddressesRead = now;
        return ownAddresses;
    }
}
