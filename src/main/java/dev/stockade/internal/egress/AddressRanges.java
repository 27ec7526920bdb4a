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
 * The addresses a wildcard entry never reaches: loopback, link-local (the cloud metadata
 * address 169.254.169.254 among them), private, shared (carrier-grade NAT; some clouds put
 * their metadata service there), multicast, reserved and unspecified ranges, and the host's own
 * addresses. The one table of them is {@link #RANGES}. An IPv6 address that carries an IPv4
 * one (IPv4-mapped {@code ::ffff:0:0/96}, NAT64 {@code 64:ff9b::/96}) is judged by the IPv4
 * address it leads to.
 */
final class AddressRanges {
    private AddressRanges() {}

    /** A range: its first address's bytes, its prefix length, and what it is called. */
    private record Range(byte[] prefix, int bits, String kind) {
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
        int slash = cidr.indexOf('/');
        try {
            byte[] prefix = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
            return new Range(prefix, Integer.parseInt(cidr.substring(slash + 1)), kind);
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e); // literals only: cannot happen
        }
    }

    private static final List<Range> RANGES = List.of(
            range("0.0.0.0/8", "an unspecified address"),
            range("10.0.0.0/8", "a private address"),
            range("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
            range("127.0.0.0/8", "a loopback address"),
            range("169.254.0.0/16", "a link-local address"),
            range("172.16.0.0/12", "a private address"),
            range("192.0.0.0/24", "a reserved address"),
            range("192.0.2.0/24", "a reserved address"),
            range("192.168.0.0/16", "a private address"),
            range("198.18.0.0/15", "a reserved address"),
            range("198.51.100.0/24", "a reserved address"),
            range("203.0.113.0/24", "a reserved address"),
            range("224.0.0.0/4", "a multicast address"),
            range("240.0.0.0/4", "a reserved address"),
            range("::/128", "an unspecified address"),
            range("::1/128", "a loopback address"),
            range("100::/64", "a reserved address"),
            range("2001:db8::/32", "a reserved address"),
            range("fc00::/7", "a private address"),
            range("fe80::/10", "a link-local address"),
            range("fec0::/10", "a private address"),
            range("ff00::/8", "a multicast address"));

    private static final long OWN_ADDRESSES_TTL_NS = 5_000_000_000L;
    private static Set<InetAddress> ownAddresses = Set.of();
    private static long ownAddressesRead = Long.MIN_VALUE;

    /**
     * What a wildcard may not reach this address as ("a loopback address", "a link-local
     * address", "one of the host's own addresses", ...), or empty for a public address.
     */
    static Optional<String> restricted(InetAddress address) {
        byte[] a = embeddedIpv4(address.getAddress());
        for (Range r : RANGES) {
            if (r.contains(a)) {
                return Optional.of(r.kind());
            }
        }
        try {
            if (own().contains(InetAddress.getByAddress(a))) {
                return Optional.of("one of the host's own addresses");
            }
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
        }
        return Optional.empty();
    }

    /** The IPv4 address an IPv4-mapped or NAT64 IPv6 address leads to, else the address. */
    private static byte[] embeddedIpv4(byte[] a) {
        if (a.length != 16) {
            return a;
        }
        boolean mapped = true;
        for (int i = 0; i < 10; i++) {
            mapped &= a[i] == 0;
        }
        mapped &= a[10] == (byte) 0xff && a[11] == (byte) 0xff;
        boolean nat64 = a[0] == 0 && a[1] == 0x64 && a[2] == (byte) 0xff && a[3] == (byte) 0x9b;
        for (int i = 4; i < 12 && nat64; i++) {
            nat64 = a[i] == 0;
        }
        if (!mapped && !nat64) {
            return a;
        }
        return new byte[] {a[12], a[13], a[14], a[15]};
    }

    /** The host's interface addresses, read again at most every few seconds. */
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
