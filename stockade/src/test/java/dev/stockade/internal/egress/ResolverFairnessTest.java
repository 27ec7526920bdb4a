package dev.stockade.internal.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One sandbox asking for many names that resolve slowly (real DNS: a server that never
 * answers) does not delay another sandbox's lookups, and none of its names is asked for after
 * it finished. In a child JVM without jdk.net.hosts.file, in a private mount namespace whose
 * /etc/resolv.conf names that server: root only (mounting over /etc/resolv.conf needs it).
 */
@Timeout(120)
class ResolverFairnessTest {
    @Test
    void slowNamesOfOneSessionNeitherStarveAnotherNorOutliveIt() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root: the child's /etc/resolv.conf is replaced in a mount namespace");
        Path resolv = Files.createTempFile("resolv", ".conf");
        try {
            Files.writeString(resolv, "nameserver 127.0.0.77\n");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = System.getProperty("java.class.path");
            ProcessBuilder pb = new ProcessBuilder("unshare", "-m", "--propagation", "private",
                    "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" -cp \"$2\" "
                            + ResolverStarvationMain.class.getName(),
                    resolv.toString(), java, cp);
            pb.redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            Map<String, String> kv = new HashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    kv.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            String max = String.valueOf(EgressBounds.LOOKUPS_PER_SESSION);
            assertEquals("HTTP/1.1 200 Connection established", kv.get("victim.before"), out);
            // The flood is on: its session's bound of lookups is out, and no more.
            assertEquals(max, kv.get("flood.asked"), out);
            assertEquals("HTTP/1.1 200 Connection established", kv.get("victim.during"), out);
            assertEquals(max, kv.get("names.atFinish"), out);
            assertEquals("0 []", kv.get("names.afterFinish"), out);
            assertEquals("HTTP/1.1 200 Connection established",
                    kv.get("victim.afterAttackerEnded"), out);
        } finally {
            Files.deleteIfExists(resolv);
        }
    }
}
