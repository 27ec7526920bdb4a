package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection.Verdict;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.WebServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What one sandbox's egress proxy is to the others and to what outlives it (from the attacker
 * review of the sandbox side): only its own forwarder is served, the forwarder does not take
 * one of the command's processes, and nothing reaches the host once the sandbox has ended.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(180)
class EgressIsolationTest {
    private static final String REQUEST = "GET http://web.stockade.test:%s/page HTTP/1.1\r\n"
            + "Host: x\r\n\r\n";

    /**
     * For an unprivileged caller the proxy's 0700 directory is the sandbox user's own: a
     * sandbox whose view holds java.io.tmpdir (a read-only bind of it here) can connect to a
     * concurrent sandbox's socket. Without that sandbox's token it is served nothing, and the
     * victim's log says someone tried.
     */
    @Test
    void anotherSandboxThatReachesTheSocketIsServedNothing(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("page"), "victim-only-page");
        try (WebServer web = WebServer.http(root)) {
            int port = web.port();
            SandboxPolicy victim = SandboxPolicy.builder()
                    .network(Network.allow("web.stockade.test:" + port)).build();
            // The allowed case: the victim itself gets the page through its forwarder.
            Output own = SandboxTesting.run(victim, "curl", "-sS",
                    "http://web.stockade.test:" + port + "/page");
            assertEquals("victim-only-page", own.stdout(), own::toString);
            CompletableFuture<Output> victimRun = CompletableFuture.supplyAsync(() -> {
                try {
                    return SandboxTesting.run(victim, "sleep", "8");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toRealPath();
            SandboxPolicy attacker = SandboxPolicy.builder().network(Network.NONE)
                    .mount(Mount.bindReadOnly(tmp, Path.of("/hosttmp"))).build();
            String program = String.join("\n",
                    "import glob, socket, sys, time",
                    "tried = 0",
                    "for _ in range(50):",
                    "    for path in glob.glob('/hosttmp/stockade-egress-*/*'):",
                    "        try:",
                    "            s = socket.socket(socket.AF_UNIX)",
                    "            s.settimeout(20)",
                    "            s.connect(path)",
                    "            tried += 1",
                    "            s.sendall(sys.argv[1].encode())",
                    "            data = b''",
                    "            while True:",
                    "                d = s.recv(4096)",
                    "                if not d: break",
                    "                data += d",
                    "            if data: print('served', path, data[-40:])",
                    "        except OSError as e:",
                    "            pass",
                    "    if tried: break",
                    "    time.sleep(0.1)",
                    "print('tried', 'yes' if tried else 'no')");
            Output out = python(attacker, program, String.format(REQUEST, port));
            Output v = victimRun.get(120, TimeUnit.SECONDS);
            assertTrue(out.stdout().endsWith("\n") && !out.stdout().contains("served"),
                    out::toString);
            if (out.stdout().equals("tried yes\n")) {
                // It reached the socket (an unprivileged caller): refused unread, and listed.
                assertEquals(List.of(new Connection("", 0, "", Verdict.MALFORMED, "",
                        "not from this sandbox's forwarder (no session token)", 1, 0, 0)),
                        v.result().connections(), v::toString);
            } else {
                // A root caller's directory is host root's: the sandbox user cannot list it.
                assertEquals("tried no\n", out.stdout(), out::toString);
                assertEquals(List.of(), v.result().connections(), v::toString);
            }
        }
    }

    /** The forwarder is one more process of the sandbox, not one of the command's. */
    @Test
    void theForwarderDoesNotTakeOneOfTheCommandsProcesses() throws Exception {
        String program = String.join("\n",
                "import os, time",
                "n = 0",
                "while n < 50:",
                "    try:",
                "        pid = os.fork()",
                "    except OSError:",
                "        break",
                "    if pid == 0:",
                "        time.sleep(30)",
                "        os._exit(0)",
                "    n += 1",
                "print(n, flush=True)",
                "os.killpg(0, 9)");
        Limits limits = Limits.builder().processes(6).build();
        Output none = python(SandboxPolicy.builder().limits(limits).build(), program);
        Output allow = python(SandboxPolicy.builder().limits(limits).network(Network.allow())
                .build(), program);
        // pid 1, python and its children: the same count with the forwarder there.
        assertEquals(none.stdout(), allow.stdout(), () -> none + "\n" + allow);
        assertTrue(Integer.parseInt(none.stdout().strip()) >= 3, none::toString);
    }

    /**
     * A daemon that leaves the command's session keeps a tunnel open and sends on it: nothing
     * reaches the host after the sandbox ended, with a pid namespace or without one.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void nothingReachesTheHostAfterTheSandboxEnds(boolean pidNamespace) throws Exception {
        AtomicLong ended = new AtomicLong(Long.MAX_VALUE);
        AtomicLong total = new AtomicLong();
        AtomicLong afterEnd = new AtomicLong();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread reader = new Thread(() -> {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    byte[] b = new byte[4096];
                    int n;
                    while ((n = in.read(b)) > 0) {
                        total.addAndGet(n);
                        if (System.nanoTime() > ended.get()) {
                            afterEnd.addAndGet(n);
                        }
                    }
                } catch (java.io.IOException e) {
                    // closed: the end this test waits for
                }
            });
            reader.setDaemon(true);
            reader.start();
            int port = server.getLocalPort();
            SandboxPolicy.Builder b = SandboxPolicy.builder()
                    .network(Network.allow("web.stockade.test:" + port));
            if (!pidNamespace) {
                b.disable(Namespace.PID);
            }
            String program = String.join("\n",
                    "import os, socket, sys, time",
                    "if os.fork() != 0:",
                    "    time.sleep(1)",
                    "    os._exit(0)",
                    "os.setsid()",
                    "if os.fork() != 0: os._exit(0)",
                    "fd = os.open('/dev/null', os.O_RDWR)",
                    "for i in (0, 1, 2): os.dup2(fd, i)",
                    "s = socket.create_connection(('127.0.0.1', 3128))",
                    "s.sendall(b'CONNECT web.stockade.test:' + sys.argv[1].encode()"
                            + " + b' HTTP/1.1\\r\\n\\r\\n')",
                    "s.recv(100)",
                    "for i in range(100):",
                    "    try: s.sendall(b'tick')",
                    "    except OSError: os._exit(0)",
                    "    time.sleep(0.1)");
            Output out = python(b.build(), program, String.valueOf(port));
            ended.set(System.nanoTime());
            long atEnd = total.get();
            reader.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(atEnd > 0, "the tunnel carried the ticks while the sandbox ran: " + out);
            assertEquals(0, afterEnd.get(), "bytes reached the host after the sandbox ended");
            assertTrue(!reader.isAlive(), "the host side saw the tunnel closed");
        }
    }
}
