package dev.stockade.internal.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Servers on this machine's loopback and clients of a session's socket, for the tests. */
final class EgressFixtures {
    private EgressFixtures() {}

    static EgressRules rules(List<String> allow, List<String> deny) {
        List<String> problems = new ArrayList<>();
        EgressRules r = EgressRules.parse(allow, deny, problems);
        assertEquals(List.of(), problems);
        return r;
    }

    static EgressRules allow(String... allow) {
        return rules(List.of(allow), List.of());
    }

    /** Opens sessions and finishes them all at the end (a failed test leaves no socket). */
    static final class Sessions {
        private final List<EgressSession> opened = new ArrayList<>();

        EgressSession open(EgressRules rules) throws IOException {
            return open(rules, EgressBounds.DEFAULTS);
        }

        EgressSession open(EgressRules rules, EgressBounds bounds) throws IOException {
            EgressSession s = EgressSession.open(rules, bounds);
            opened.add(s);
            return s;
        }

        void finishAll() {
            opened.forEach(EgressSession::finish);
        }
    }

    /** An echo server on 127.0.0.1 (or another loopback address): each connection its thread. */
    static final class Echo implements AutoCloseable {
        final ServerSocket server;

        Echo() throws IOException {
            this(InetAddress.getByName("127.0.0.1"));
        }

        Echo(InetAddress address) throws IOException {
            server = new ServerSocket(0, 512, address);
            Thread t = new Thread(() -> {
                while (true) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    Thread e = new Thread(() -> echo(s), "echo");
                    e.setDaemon(true);
                    e.start();
                }
            }, "echo-accept");
            t.setDaemon(true);
            t.start();
        }

        private static void echo(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] b = new byte[32 * 1024];
                int n;
                while ((n = in.read(b)) > 0) {
                    out.write(b, 0, n);
                }
                s.shutdownOutput();
            } catch (IOException e) {
                // The client went away.
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** A connection to the session's socket, as the forwarder makes it. */
    static final class Client implements AutoCloseable {
        final SocketChannel channel;
        final InputStream in;
        final OutputStream out;

        /** A stream of the sandbox's forwarder: the session's token first. */
        Client(EgressSession s) throws IOException {
            this(s, s.token());
        }

        /** A stream that begins with {@code preface} instead of the token (none: empty). */
        Client(EgressSession s, byte[] preface) throws IOException {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(s.socketPath()));
            // Not Channels.newInputStream: its streams share one lock, so a blocked read
            // would hold up a write from another thread.
            in = new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    return channel.read(ByteBuffer.wrap(b, off, len));
                }
            };
            out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (buf.hasRemaining()) {
                        channel.write(buf);
                    }
                }
            };
            out.write(preface);
        }

        void send(String ascii) throws IOException {
            out.write(ascii.getBytes(StandardCharsets.ISO_8859_1));
        }

        void send(byte... bytes) throws IOException {
            out.write(bytes);
        }

        /** Reads up to and including the empty line that ends a response head. */
        String head() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return b.toString(StandardCharsets.ISO_8859_1);
                }
                b.write(c);
                String s = b.toString(StandardCharsets.ISO_8859_1);
                if (s.endsWith("\r\n\r\n")) {
                    return s;
                }
            }
        }

        byte[] read(int n) throws IOException {
            byte[] b = in.readNBytes(n);
            assertEquals(n, b.length, "bytes before EOF");
            return b;
        }

        String rest() throws IOException {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }

        void connect(String authority) throws IOException {
            send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
            assertEquals("HTTP/1.1 200 Connection established\r\n\r\n", head());
        }

        /** A CONNECT the proxy refuses: its whole response, up to EOF. */
        String refusedConnect(String authority) throws IOException {
            send("CONNECT " + authority + " HTTP/1.1\r\n\r\n");
            String r = rest();
            assertTrue(r.startsWith("HTTP/1.1 "), r);
            return r;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** The HTTP response the proxy writes for a refusal. */
    static String refusal(int status, String phrase, String line) {
        String body = "stockade: " + line + "\n";
        return "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain;"
                + " charset=us-ascii\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body;
    }
}
