package dev.stockade;

import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection.Verdict;
import dev.stockade.testing.EgressFixtures;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.WebServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools a build step uses, inside a {@link Network#allow(String...)} sandbox with no
 * setting of their own: a JVM (through JAVA_TOOL_OPTIONS), git over dumb HTTP, npm against a
 * one-package registry. Each reaches exactly the allowed host.
 */
@Timeout(300)
class EgressToolsTest {
    @TempDir
    static Path served;
    @TempDir
    static Path scratch;

    static WebServer server;
    static String commit;

    @BeforeAll
    static void serve() throws Exception {
        Files.writeString(served.resolve("hello.txt"), "hello from the host\n");
        commit = EgressFixtures.dumbGitRepository(served, scratch, "cloned through the proxy\n");
        server = WebServer.http(served);
        EgressFixtures.npmRegistry(served, scratch,
                "http://registry.stockade.test:" + server.port() + "/");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static SandboxPolicy allow(String... patterns) {
        return SandboxPolicy.builder().network(Network.allow(patterns)).build();
    }

    static Output sh(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(policy, "/bin/sh", "-c", script);
    }

    static List<Verdict> verdicts(Output out) {
        return out.result().connections().stream().map(Connection::verdict).toList();
    }

    static String web() {
        return "web.stockade.test:" + server.port();
    }

    /** Both JDK clients, with no proxy setting of their own: the JVM picks it up. */
    static final String JAVA_CLIENTS = String.join("\n",
            "import java.net.*; import java.net.http.*;",
            "public class Fetch {",
            "  public static void main(String[] a) throws Exception {",
            "    URI uri = URI.create(a[0]);",
            "    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();",
            "    System.out.print(\"url: \" + new String(c.getInputStream().readAllBytes()));",
            "    HttpClient client = HttpClient.newHttpClient();",
            "    System.out.print(\"client: \" + client.send(HttpRequest.newBuilder(uri).build(),",
            "        HttpResponse.BodyHandlers.ofString()).body());",
            "  }",
            "}");

    @Test
    void aJavaProgramReachesTheAllowedServerWithNoFlagsOfItsOwn() throws Exception {
        Path javaPath = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
        String java = javaPath.toString();
        SandboxPolicy.Builder policy = SandboxPolicy.builder()
                .network(Network.allow(web()));
        // A JDK outside /usr (CI's may live under /opt or a home) is bound where it is.
        if (!javaPath.startsWith("/usr")) {
            policy.mounts(Mounts.toolchain(javaPath));
        }
        String script = "cat > /tmp/Fetch.java <<'EOF'\n" + JAVA_CLIENTS + "\nEOF\n"
                + java + " /tmp/Fetch.java http://" + web() + "/hello.txt";
        Output out = sh(policy.build(), script);
        assertExitedZero(out);
        assertEquals("url: hello from the host\nclient: hello from the host\n", out.stdout(),
                out::toString);
        // The JVM says it read JAVA_TOOL_OPTIONS: the one line the environment adds.
        assertTrue(out.stderr().startsWith("Picked up JAVA_TOOL_OPTIONS: "), out::toString);
        Connection c = out.result().connections().get(0);
        assertEquals(List.of(Verdict.ALLOWED), verdicts(out), out::toString);
        assertEquals(2, c.count(), out::toString);
    }

    @Test
    void gitClonesOverDumbHttp() throws Exception {
        Output out = sh(allow(web()), "cd /tmp && git clone -q http://" + web() + "/repo.git"
                + " && cat repo/README && git -C repo rev-parse HEAD");
        assertExitedZero(out);
        assertEquals("cloned through the proxy\n" + commit + "\n", out.stdout(), out::toString);
        assertEquals(List.of(Verdict.ALLOWED), verdicts(out), out::toString);
    }

    @Test
    void npmInstallsFromTheRegistry() throws Exception {
        String registry = "registry.stockade.test:" + server.port();
        Output out = sh(allow(registry), "cd \"$HOME\" && npm install --no-audit --no-fund"
                + " --no-update-notifier --registry http://" + registry + "/"
                + " --cache \"$HOME/.npm-cache\" " + EgressFixtures.NPM_PACKAGE
                + " >/dev/null && cat node_modules/" + EgressFixtures.NPM_PACKAGE + "/index.js");
        assertExitedZero(out);
        assertEquals(EgressFixtures.NPM_INDEX, out.stdout(), out::toString);
        assertTrue(verdicts(out).stream().allMatch(v -> v == Verdict.ALLOWED)
                && !verdicts(out).isEmpty(), out::toString);
        assertTrue(server.requests().stream().anyMatch(r -> r.path().equals("/"
                + EgressFixtures.NPM_PACKAGE + "/-/" + EgressFixtures.NPM_PACKAGE + "-"
                + EgressFixtures.NPM_VERSION + ".tgz")), server.requests()::toString);
    }

    @Test
    void theSameToolsAreRefusedAHostNotAllowed() throws Exception {
        Output out = sh(allow("other.stockade.test:" + server.port()), "cd /tmp;"
                + " git clone -q http://" + web() + "/repo.git; echo git=$?");
        assertExitedZero(out);
        assertEquals("git=128\n", out.stdout(), out::toString);
        assertEquals(List.of(Verdict.DENIED), verdicts(out), out::toString);
    }
}
