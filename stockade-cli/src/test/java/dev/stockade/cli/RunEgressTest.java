package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.cli.CliProcess.Result;
import dev.stockade.testing.WebServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run --net allow} end to end: the allowed host reached, the one line per
 * refused, failed or malformed connection on stderr, and the report's {@code connections}.
 */
class RunEgressTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path workspace;
    @TempDir
    Path reports;
    @TempDir
    Path served;

    private Result sh(List<String> options, String script) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(options);
        args.addAll(List.of("--", "/bin/bash", "-c", script));
        return CliProcess.run(workspace, args.toArray(String[]::new));
    }

    @Test
    void refusedConnectionsAreOneLineEachAndTheReportListsEveryConnection() throws Exception {
        Files.writeString(served.resolve("hello.txt"), "hello from the host\n");
        try (WebServer server = WebServer.http(served)) {
            String web = "web.stockade.test:" + server.port();
            String other = "other.stockade.test:" + server.port();
            Path report = reports.resolve("report.json");
            Result r = sh(List.of("--net", "allow", "--allow-host", web, "--allow-host",
                    "*.stockade.test:" + server.port(), "--deny-host", "other.stockade.test",
                    "--report", report.toString()),
                    "curl -sS http://" + web + "/hello.txt\n"
                    + "curl -s -p http://" + other + "/; curl -s -p http://" + other + "/\n"
                    + "curl -s https://evil.example/\n"
                    + "exec 3<>/dev/tcp/127.0.0.1/3128; printf '\\001\\002' >&3; cat <&3\n"
                    + "exit 0");
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals("hello from the host\n", r.stdout(), r.toString());
            assertEquals(List.of(
                    "stockade: refused connection to " + other + " x2 (denied by"
                            + " other.stockade.test)",
                    "stockade: refused connection to evil.example:443 (not in the allow list)",
                    "stockade: refused connection: not an HTTP or SOCKS5 request (first byte 0x01)"),
                    r.stderrLines());

            JsonNode connections = JSON.readTree(report.toFile()).get("connections");
            assertEquals(4, connections.size(), connections.toString());
            JsonNode allowed = connections.get(0);
            assertEquals("web.stockade.test", allowed.get("host").asText());
            assertEquals(server.port(), allowed.get("port").asInt());
            assertEquals("127.0.0.1", allowed.get("address").asText());
            assertEquals("ALLOWED", allowed.get("verdict").asText());
            assertEquals(web, allowed.get("rule").asText());
            assertEquals("", allowed.get("reason").asText());
            assertEquals(1, allowed.get("count").asLong());
            assertEquals(List.of("host", "port", "address", "verdict", "rule", "reason", "count",
                    "bytesSent", "bytesReceived"), fieldNames(allowed));
            assertEquals(JSON.readTree("{\"host\":\"other.stockade.test\",\"port\":"
                    + server.port() + ",\"address\":\"\",\"verdict\":\"DENIED\",\"rule\":"
                    + "\"other.stockade.test\",\"reason\":\"denied by other.stockade.test\",\"count\":2,"
                    + "\"bytesSent\":0,\"bytesReceived\":0}"), connections.get(1));
        }
    }

    @Test
    void aConnectionThatFailsIsNamed() throws Exception {
        int closed;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort();
        }
        String target = "web.stockade.test:" + closed;
        Result r = sh(List.of("--net", "allow", "--allow-host", target),
                "curl -s -p http://" + target + "/; echo $?");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("56\n", r.stdout(), r.toString());
        assertEquals(List.of("stockade: connection to " + target + " failed (connection refused)"),
                r.stderrLines());
    }

    @Test
    void withoutAllowHostsEveryAttemptIsRefusedAndListed() throws Exception {
        Result r = sh(List.of("--net", "allow"), "curl -s -p https://registry.example/; echo $?");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("56\n", r.stdout(), r.toString());
        assertEquals(List.of("stockade: refused connection to registry.example:443 (not in the"
                + " allow list)"), r.stderrLines());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
