package dev.stockade.internal.egress;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Run by {@link ResolverFairnessTest} in a mount namespace whose /etc/resolv.conf names a DNS
 * server on 127.0.0.77:53 that reads queries and never answers (a lame delegation under a
 * wildcard the policy allows). Prints key=value lines.
 */
public final class ResolverStarvationMain {
    /** The flooding sandbox's names: x<i>.slow.test, as labels in a query. */
    private static final Pattern NAME = Pattern.compile("\u0001?[\\x00-\\x3f](x\\d+)\u0004slow");

    public static void main(String[] args) throws Exception {
        Set<String> asked = ConcurrentHashMap.newKeySet();
        DatagramSocket dns = new DatagramSocket(new InetSocketAddress("127.0.0.77", 53));
        Thread hole = new Thread(() -> {
            byte[] b = new byte[512];
            while (true) {
                try {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    dns.receive(p);
                    Matcher m = NAME.matcher(new String(b, 0, p.getLength(),
                            StandardCharsets.ISO_8859_1));
                    if (m.find()) {
                        asked.add(m.group(1));
                    }
                } catch (Exception e) {
                    return;
                }
            }
        });
        hole.setDaemon(true);
        hole.start();
        try (EgressFixtures.Echo echo = new EgressFixtures.Echo()) {
            EgressBounds victimBounds = EgressBounds.DEFAULTS.withTimeouts(Duration.ofSeconds(30),
                    Duration.ofSeconds(5), Duration.ofMinutes(5));
            String target = "localhost:" + echo.port();
            EgressSession victim = EgressSession.open(EgressFixtures.allow(target), victimBounds);
            System.out.println("victim.before=" + connect(victim, target));

            EgressSession attacker = EgressSession.open(EgressFixtures.allow("*.slow.test:443"));
            List<EgressFixtures.Client> held = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                EgressFixtures.Client c = new EgressFixtures.Client(attacker);
                c.send("CONNECT x" + i + ".slow.test:443 HTTP/1.1\r\n\r\n");
                held.add(c);
            }
            // Until the first lookups are asked (the DNS server sees them): the flood is on.
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (asked.size() < EgressBounds.LOOKUPS_PER_SESSION && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            System.out.println("flood.asked=" + asked.size());
            System.out.println("victim.during=" + connect(victim, target));
            for (EgressFixtures.Client c : held) {
                c.close();
            }
            attacker.finish();
            Set<String> atFinish = Set.copyOf(asked);
            System.out.println("names.atFinish=" + atFinish.size());
            // Longer than a lame lookup's first timeout (5 s), so a started one would retry,
            // and any lookup still queued would have been started by now.
            Thread.sleep(12_000);
            Set<String> after = new java.util.TreeSet<>(asked);
            after.removeAll(atFinish);
            System.out.println("names.afterFinish=" + after.size() + " " + after);
            System.out.println("victim.afterAttackerEnded=" + connect(victim, target));
            System.out.println("victim.log=" + victim.finish());
        }
        System.exit(0);
    }

    /** The status line the proxy answers a CONNECT with. */
    static String connect(EgressSession s, String target) throws Exception {
        try (EgressFixtures.Client c = new EgressFixtures.Client(s)) {
            c.send("CONNECT " + target + " HTTP/1.1\r\n\r\n");
            String head = c.head();
            int cr = head.indexOf('\r');
            return cr < 0 ? head : head.substring(0, cr);
        }
    }
}
