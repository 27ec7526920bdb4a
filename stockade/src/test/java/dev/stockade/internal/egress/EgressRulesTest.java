package dev.stockade.internal.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection.Verdict;
import dev.stockade.testing.Pure;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The allow and deny lists: the patterns' grammar, the decision, the restricted addresses. */
@Pure
class EgressRulesTest {

    private static EgressRules rules(List<String> allow, List<String> deny) {
        List<String> problems = new ArrayList<>();
        EgressRules r = EgressRules.parse(allow, deny, problems);
        assertEquals(List.of(), problems);
        return r;
    }

    private static List<String> problems(List<String> allow, List<String> deny) {
        List<String> problems = new ArrayList<>();
        EgressRules.parse(allow, deny, problems);
        return problems;
    }

    private static InetAddress address(String literal) throws Exception {
        return InetAddress.getByName(literal); // literals only: never a lookup
    }

    @Test
    void patternsNameHostsPortsAndDomains() {
        EgressRules r = rules(List.of("registry.npmjs.org", "Repo.Maven.Apache.Org.:8443",
                "*.githubusercontent.com", "*.example.org:80", "10.1.2.3:8081",
                "[2001:DB8::1]:80"), List.of());
        assertEquals(new EgressRules.Decision(Verdict.ALLOWED, "registry.npmjs.org", 443,
                "registry.npmjs.org", "", true), r.decide("registry.npmjs.org", 443));
        assertEquals(Verdict.DENIED, r.decide("registry.npmjs.org", 80).verdict());
        assertEquals(new EgressRules.Decision(Verdict.ALLOWED, "repo.maven.apache.org", 8443,
                "Repo.Maven.Apache.Org.:8443", "", true),
                r.decide("REPO.maven.apache.org.", 8443));
        EgressRules.Decision wild = r.decide("raw.githubusercontent.com", 443);
        assertEquals(new EgressRules.Decision(Verdict.ALLOWED, "raw.githubusercontent.com", 443,
                "*.githubusercontent.com", "", false), wild);
        assertTrue(r.decide("a.b.githubusercontent.com", 443).allowed());
        // The wildcard is for names under the domain, not the domain, nor a name ending alike.
        assertEquals(Verdict.DENIED, r.decide("githubusercontent.com", 443).verdict());
        assertEquals(Verdict.DENIED, r.decide("evilgithubusercontent.com", 443).verdict());
        assertTrue(r.decide("www.example.org", 80).allowed());
        assertEquals(Verdict.DENIED, r.decide("www.example.org", 443).verdict());
        assertTrue(r.decide("10.1.2.3", 8081).allowed());
        assertTrue(r.decide("10.1.2.3", 8081).exact());
        assertTrue(r.decide("[2001:db8:0::1]", 80).allowed());
        assertTrue(r.decide("2001:db8::1", 80).allowed());
        EgressRules.Decision none = r.decide("evil.example", 443);
        assertEquals(new EgressRules.Decision(Verdict.DENIED, "evil.example", 443, "",
                "not in the allow list", false), none);
    }

    @Test
    void theDenyListComesFirstAndWithoutAPortDeniesEveryPort() {
        EgressRules r = rules(List.of("*.example.org", "*.example.org:80"),
                List.of("evil.example.org", "*.internal.example.org:443"));
        assertTrue(r.decide("good.example.org", 443).allowed());
        assertEquals(new EgressRules.Decision(Verdict.DENIED, "evil.example.org", 443,
                "evil.example.org", "denied by evil.example.org", false),
                r.decide("evil.example.org", 443));
        assertEquals(Verdict.DENIED, r.decide("evil.example.org", 80).verdict());
        assertEquals("*.internal.example.org:443",
                r.decide("a.internal.example.org", 443).rule());
        assertTrue(r.decide("a.internal.example.org", 80).allowed());
    }

    @Test
    void tooWideEmptyAndMalformedPatternsAreRefusedWithOneLineEach() {
        assertEquals(List.of(
                "network allow entry \"*:443\" is too wide: it names every host",
                "network allow entry \"*\" is too wide: it names every host",
                "network empty allow entry: name a host",
                "network empty allow entry: name a host",
                "network allow entry \"*.com\" is too wide: it names every host of the"
                        + " top-level domain .com",
                "network allow entry \"foo.*.org\": a wildcard may only be the whole first"
                        + " label, as in *.example.org",
                "network allow entry \"*example.org\": a wildcard may only be the whole first"
                        + " label, as in *.example.org",
                "network allow entry \"example.org:*\": the port must be a number from 1 to"
                        + " 65535 (every port is too wide)",
                "network allow entry \"example.org:0\": the port must be a number from 1 to"
                        + " 65535",
                "network allow entry \"example.org:65536\": the port must be a number from 1"
                        + " to 65535",
                "network allow entry \"::1\": write an IPv6 address in brackets,"
                        + " [2001:db8::1]:443",
                "network allow entry \"[::1\": an IPv6 address needs its closing ]",
                "network allow entry \"[fe80::1%eth0]\": not an IPv6 address in brackets",
                "network allow entry \"127.1\": neither a host name (its last label is all"
                        + " digits) nor an IPv4 address of four decimal numbers",
                "network allow entry \"010.0.0.1\": neither a host name (its last label is"
                        + " all digits) nor an IPv4 address of four decimal numbers",
                "network allow entry \"exa mple.org\": ' ' is not allowed in a host name"
                        + " (letters, digits, '-' and '_'; an IPv6 address goes in brackets)",
                "network allow entry \"-bad.org\": a label of the host name starts or ends"
                        + " with '-'",
                "network allow entry \"a..org\": the host name has an empty label",
                "network deny entry \"*\" is too wide: it names every host"),
                problems(List.of("*:443", "*", "", "  ", "*.com", "foo.*.org", "*example.org",
                        "example.org:*", "example.org:0", "example.org:65536", "::1", "[::1",
                        "[fe80::1%eth0]", "127.1", "010.0.0.1", "exa mple.org", "-bad.org",
                        "a..org"), List.of("*")));
    }

    @Test
    void requestsThatAreNeitherANameNorACanonicalAddressAreDenied() {
        EgressRules r = rules(List.of("*.example.org"), List.of());
        for (String odd : List.of("127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "a b",
                "", "exa%6dple.org", "fe80::1%eth0", "[::1", "a..example.org")) {
            EgressRules.Decision d = r.decide(odd, 443);
            assertEquals(Verdict.DENIED, d.verdict(), odd);
            assertTrue(d.reason().startsWith("not a host name or an address: "), d.reason());
        }
        assertEquals(Verdict.DENIED, r.decide("a.example.org", 0).verdict());
        assertEquals("port 70000 is not from 1 to 65535",
                r.decide("a.example.org", 70000).reason());
    }

    @Test
    void whatASandboxAsksForIsShownWithoutItsControlCharacters() {
        EgressRules r = rules(List.of("*.example.org"), List.of());
        EgressRules.Decision d = r.decide("EVIL\u001b[2J\\.example.org\u00e9\u2028", 443);
        assertEquals("evil\\x1b[2j\\\\.example.org\\xe9\\u2028", d.host());
        assertEquals("not a host name or an address: '\\x1b' is not allowed in a host name"
                + " (letters, digits, '-' and '_'; an IPv6 address goes in brackets)",
                d.reason());
        String longName = "a".repeat(1000);
        assertEquals("a".repeat(253) + "...", r.decide(longName, 443).host());
    }

    @Test
    void restrictedAddressesNeedAnExactEntry() throws Exception {
        EgressRules r = rules(List.of("*.stockade.test:8080", "web.stockade.test:8080",
                "169.254.169.254:80", "[::1]:8080"), List.of());
        EgressRules.Decision wildcard = r.decide("evil.stockade.test", 8080);
        assertTrue(wildcard.allowed());
        // Public: any allowing entry.
        assertEquals(Optional.empty(), r.refusal(wildcard, address("93.184.216.34")));
        assertEquals(Optional.empty(), r.refusal(wildcard, address("2606:2800:220:1::1")));
        // Restricted, through a wildcard: refused, each range named.
        String[][] cases = {
            {"127.0.0.1", "a loopback address"}, {"127.45.1.2", "a loopback address"},
            {"10.0.0.1", "a private address"}, {"172.16.5.4", "a private address"},
            {"172.31.255.255", "a private address"}, {"192.168.1.1", "a private address"},
            {"100.100.100.201", "a shared (carrier-grade NAT) address"},
            {"192.88.99.1", "a 6to4 relay address"},
            {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo tunnel address"},
            {"0.0.0.0", "an unspecified address"}, {"224.0.0.1", "a multicast address"},
            {"255.255.255.255", "a reserved address"}, {"::1", "a loopback address"},
            {"::", "an unspecified address"},
            {"fd00:ec2::253", "a private address"}, {"ff02::1", "a multicast address"},
            // IPv4 inside IPv6: judged by the IPv4 address it leads to.
            {"64:ff9b::a00:1", "a private address"}, {"64:ff9b:1::7f00:1", "a loopback address"},
            {"::7f00:1", "a loopback address"}, {"::ffff:0:a00:1", "a private address"},
            {"2002:7f00:1::1", "a loopback address"},
        };
        for (String[] c : cases) {
            InetAddress a = address(c[0]);
            assertEquals(Optional.of(a.getHostAddress() + " is " + c[1] + ": only an exact"
                    + " entry reaches it, not *.stockade.test:8080"), r.refusal(wildcard, a),
                    c[0]);
        }
        // Link-local and metadata addresses: only an entry that is the address itself.
        String[][] addressOnly = {
            {"169.254.169.254", "a link-local address"}, {"fe80::1", "a link-local address"},
            {"64:ff9b::a9fe:a9fe", "a link-local address"},
            {"2002:a9fe:a9fe::1", "a link-local address"},
            {"100.100.100.200", "a cloud metadata address"},
            {"168.63.129.16", "a cloud metadata address"},
            {"fd00:ec2::254", "a cloud metadata address"},
        };
        EgressRules.Decision exactWeb = r.decide("web.stockade.test", 8080);
        for (String[] c : addressOnly) {
            InetAddress a = address(c[0]);
            String why = a.getHostAddress() + " is " + c[1] + ": only an entry naming the"
                    + " address itself reaches it, not ";
            assertEquals(Optional.of(why + "*.stockade.test:8080"), r.refusal(wildcard, a), c[0]);
            assertEquals(Optional.of(why + "web.stockade.test:8080"), r.refusal(exactWeb, a),
                    c[0]);
        }
        assertEquals(Optional.empty(), r.refusal(wildcard, address("172.32.0.1")));
        assertEquals(Optional.empty(), r.refusal(wildcard, address("100.128.0.1")));
        // The IPv4-mapped form is an IPv4 address to Java already, and refused as one.
        assertEquals(Optional.of("127.0.0.1 is a loopback address: only an exact entry reaches"
                + " it, not *.stockade.test:8080"),
                r.refusal(wildcard, address("::ffff:127.0.0.1")));
        // Exact entries reach them: a name spelled in full, or the address itself.
        EgressRules.Decision exactName = r.decide("web.stockade.test", 8080);
        assertEquals("web.stockade.test:8080", exactName.rule());
        assertTrue(exactName.exact());
        assertEquals(Optional.empty(), r.refusal(exactName, address("127.0.0.1")));
        EgressRules.Decision metadata = r.decide("169.254.169.254", 80);
        assertEquals(Optional.empty(), r.refusal(metadata, address("169.254.169.254")));
        assertEquals(Verdict.DENIED, r.decide("169.254.169.254", 8080).verdict());
        assertTrue(r.decide("[0:0:0:0:0:0:0:1]", 8080).allowed());
        assertEquals(Verdict.DENIED, r.decide("127.0.0.1", 8080).verdict());
    }

    @Test
    void aDenyEntryNamingAnAddressRefusesANameThatResolvesToIt() throws Exception {
        EgressRules r = rules(List.of("registry.example.org"), List.of("93.184.216.34",
                "[2606:2800:220:1::1]:443"));
        EgressRules.Decision d = r.decide("registry.example.org", 443);
        assertEquals(Optional.of("93.184.216.34 is denied by 93.184.216.34"),
                r.refusal(d, address("93.184.216.34")));
        assertEquals(Optional.of("2606:2800:220:1:0:0:0:1 is denied by [2606:2800:220:1::1]:443"),
                r.refusal(d, address("2606:2800:220:1::1")));
        assertEquals(Optional.empty(), r.refusal(d, address("93.184.216.35")));
        // The same IPv4 address inside an IPv6 one is the same address.
        assertEquals(Optional.of("2002:5db8:d822:0:0:0:0:1 is denied by 93.184.216.34"),
                r.refusal(d, address("2002:5db8:d822::1")));
        assertEquals(Optional.of("64:ff9b:0:0:0:0:5db8:d822 is denied by 93.184.216.34"),
                r.refusal(d, address("64:ff9b::5db8:d822")));
    }

    @Test
    void anEmptyAllowListDeniesEverything() {
        EgressRules r = rules(List.of(), List.of());
        assertFalse(r.decide("registry.npmjs.org", 443).allowed());
        assertEquals("not in the allow list", r.decide("localhost", 8080).reason());
    }
}
