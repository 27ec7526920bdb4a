package dev.stockade.internal.egress;

import static dev.stockade.internal.egress.EgressFixtures.allow;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import dev.stockade.internal.egress.EgressFixtures.Client;
import dev.stockade.internal.egress.EgressFixtures.Echo;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many connections at once, a client that never reads, and the connection bound. */
@Timeout(120)
class EgressLoadTest {
    /** Every session a test opened, finished after it even when it failed. */
    private final EgressFixtures.Sessions sessions = new EgressFixtures.Sessions();

    @AfterEach
    void finishSessions() {
        sessions.finishAll();
    }

    private static final String WEB = "web.stockade.test";

    /** Relays {@code size} bytes each way over one connection; true if they came back equal. */
    private static byte[][] roundTrip(EgressSession s, String authority, int size, long seed)
            throws Exception {
        try (Client c = new Client(s)) {
            c.connect(authority);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                Random r = new Random(seed);
                byte[] chunk = new byte[16 * 1024];
                try {
                    for (int done = 0; done < size; done += chunk.length) {
                        r.nextBytes(chunk);
                        int n = Math.min(chunk.length, size - done);
                        sent.update(chunk, 0, n);
                        c.out.write(chunk, 0, n);
                    }
                    c.channel.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            MessageDigest received = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[16 * 1024];
            long total = 0;
            int n;
            while ((n = c.in.read(b)) > 0) {
                received.update(b, 0, n);
                total += n;
            }
            writing.get();
            assertEquals(size, total);
            return new byte[][] {sent.digest(), received.digest()};
        }
    }

    @Test
    void twoHundredConcurrentConnectionsFiftyMegabytesEachWayInBoundedMemory() throws Exception {
        int connections = 200;
        int size = 256 * 1024; // 200 x 256 KiB = 50 MiB each way
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(ok));
            ExecutorService pool = Executors.newFixedThreadPool(connections);
            try {
                List<Future<byte[][]>> runs = new ArrayList<>();
                for (int i = 0; i < connections; i++) {
                    long seed = i;
                    runs.add(pool.submit(() -> roundTrip(s, ok, size, seed)));
                }
                for (Future<byte[][]> r : runs) {
                    byte[][] d = r.get();
                    assertArrayEquals(d[0], d[1]);
                }
            } finally {
                pool.shutdownNow();
            }
            long bound = (long) connections * EgressBounds.DEFAULTS.connectionBytes();
            assertTrue(s.peakBufferedBytes() <= bound, s.peakBufferedBytes() + " > " + bound);
            assertTrue(s.peakBufferedBytes() <= EgressBounds.DEFAULTS.sessionBytes());
            List<Connection> log = s.finish();
            assertEquals(List.of(new Connection(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED,
                    ok, "", connections, (long) connections * size, (long) connections * size)),
                    log);
            assertEquals(0, s.openChannels());
            assertEquals(0, s.bufferedBytes());
            assertFalse(Files.exists(s.socketPath().getParent()));
            assertFalse(EgressProxy.shared().sessions().contains(s));
            assertEquals(1, Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals(EgressProxy.THREAD_NAME)).count());
        }
    }

    @Test
    void aClientThatNeverReadsDoesNotStallTheOthers() throws Exception {
        try (ServerSocket flood = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
                Echo echo = new Echo()) {
            Thread source = new Thread(() -> {
                try (Socket a = flood.accept()) {
                    OutputStream out = a.getOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    while (true) {
                        out.write(chunk); // blocks once every buffer on the way is full
                    }
                } catch (IOException e) {
                    // The proxy closed it at finish().
                }
            }, "flood");
            source.setDaemon(true);
            source.start();
            EgressSession s = sessions.open(allow(WEB + ":" + flood.getLocalPort(),
                    WEB + ":" + echo.port()));
            Client hog = new Client(s);
            hog.connect(WEB + ":" + flood.getLocalPort());
            hog.send("GET / HTTP/1.1\r\n\r\n"); // and never reads
            for (int i = 0; i < 10; i++) {
                byte[][] d = roundTrip(s, WEB + ":" + echo.port(), 512 * 1024, i);
                assertArrayEquals(d[0], d[1]);
            }
            assertTrue(s.bufferedBytes() <= 11 * EgressBounds.DEFAULTS.connectionBytes());
            List<Connection> log = s.finish();
            assertEquals(Verdict.ALLOWED, log.get(0).verdict());
            assertEquals(new Connection(WEB, echo.port(), "127.0.0.1", Verdict.ALLOWED,
                    WEB + ":" + echo.port(), "", 10, 10L * 512 * 1024, 10L * 512 * 1024),
                    log.get(1));
            hog.close();
            assertEquals(0, s.openChannels());
        }
    }

    @Test
    void pastTheBoundAConnectionWaitsUntilOneCloses() throws Exception {
        try (Echo echo = new Echo()) {
            String ok = WEB + ":" + echo.port();
            EgressSession s = sessions.open(allow(ok),
                    EgressBounds.DEFAULTS.withMaxConnections(2));
            Client first = new Client(s);
            first.connect(ok);
            Client second = new Client(s);
            second.connect(ok);
            Client third = new Client(s); // in the listener's backlog, not accepted
            third.send("CONNECT " + ok + " HTTP/1.1\r\n\r\n");
            // listener + 2 clients + 2 hosts, once the proxy thread has looked again.
            EgressProxy.shared().call(() -> null).join();
            assertEquals(5, s.openChannels());
            first.close();
            assertEquals("HTTP/1.1 200 Connection established\r\n\r\n", third.head());
            third.send("3");
            assertEquals("3", new String(third.read(1), StandardCharsets.US_ASCII));
            second.close();
            third.close();
            assertEquals(3, s.finish().get(0).count());
            assertEquals(0, s.openChannels());
        }
    }
}
