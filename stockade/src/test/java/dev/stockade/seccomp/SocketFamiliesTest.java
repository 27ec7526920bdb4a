package dev.stockade.seccomp;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.SeccompProfile;
import dev.stockade.seccomp.TrySyscall.Call;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The build profile's socket families: AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK work; every
 * other family fails with EAFNOSUPPORT. AF_VSOCK is the reason: vsock is not network-namespaced,
 * so without the rule a sandbox with no network binds and reaches the host's vsock ports.
 */
@Tag(SandboxTesting.ISOLATION)
class SocketFamiliesTest {
    private static final int EAFNOSUPPORT = 97;
    private static final int AF_VSOCK = 40;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_DGRAM = 2;

    @Test
    void vsockWorksWithoutTheFilterAndFailsUnderBuild() throws Exception {
        Call open = TrySyscall.call(TrySyscall.policy(SeccompProfile.none()), "socket",
                String.valueOf(AF_VSOCK), String.valueOf(SOCK_STREAM), "0");
        assertTrue(open.ret() >= 0, "vsock is reachable inside --net none without the rule: "
                + open);
        Call denied = TrySyscall.call(TrySyscall.policy(SeccompProfile.defaults()), "socket",
                String.valueOf(AF_VSOCK), String.valueOf(SOCK_STREAM), "0");
        assertEquals("errno " + EAFNOSUPPORT, denied.outcome(), denied.toString());
    }

    @Test
    void theFourFamiliesWork() throws Exception {
        // AF_UNIX stream, AF_INET stream, AF_INET6 datagram, AF_NETLINK (NETLINK_ROUTE) raw.
        for (String[] args : List.of(new String[] {"1", "1", "0"}, new String[] {"2", "1", "0"},
                new String[] {"10", "2", "0"}, new String[] {"16", "3", "0"})) {
            Call c = TrySyscall.call(TrySyscall.policy(SeccompProfile.defaults()), "socket",
                    args[0], args[1], args[2]);
            assertTrue(c.ret() >= 0, "socket(" + String.join(", ", args) + "): " + c);
        }
        Call pair = TrySyscall.call(TrySyscall.policy(SeccompProfile.defaults()), "socketpair",
                "1", "1", "0", "s:12345678");
        assertEquals("ret 0", pair.outcome(), pair.toString());
    }

    @Test
    void everyOtherFamilyFailsWithEafnosupport() throws Exception {
        // unspec, ax25, bridge, key, packet, rds, can, tipc, bluetooth, alg, vsock, kcm, xdp,
        // mctp, one beyond AF_MAX, -1, and vsock and AF_INET with garbage in the upper half.
        for (String family : List.of("0", "3", "7", "15", "17", "21", "29", "30", "31", "38",
                "40", "41", "44", "45", "46", "-1", "0x100000028", "0x100000002")) {
            for (String call : List.of("socket", "socketpair")) {
                Call c = TrySyscall.call(TrySyscall.policy(SeccompProfile.defaults()), call,
                        family, String.valueOf(SOCK_DGRAM), "0", "s:12345678");
                assertEquals("errno " + EAFNOSUPPORT, c.outcome(), call + " " + family + ": " + c);
            }
        }
    }
}
