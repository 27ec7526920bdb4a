package dev.stockade.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A static file server on the host's 127.0.0.1 for the egress tests: serves the files under
 * {@code root} by request path (a directory by its {@code index.json}; GET and HEAD; POST
 * echoes its body), over HTTP or, with a
 * {@link TestCertificate}, HTTPS. It records every request it saw, so a test can show that a
 * refused connection never reached it.
 */
public final class WebServer implements AutoCloseable {
    /** One request the server answered: method, path, the Host header. */
    public record Request(String method, String path, String host) {}

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-web-server");
        t.setDaemon(true);
        return t;
    });
    private final Path root;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    private WebServer(HttpServer server, Path root) {
        this.server = server;
        this.root = root.toAbsolutePath().normalize();
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** An HTTP server for the files under {@code root}, on 127.0.0.1 and a free port. */
    public static WebServer http(Path root) throws IOException {
        return new WebServer(HttpServer.create(loopback(), 0), root);
    }

    /** An HTTPS server presenting {@code certificate}, for the files under {@code root}. */
    public static WebServer https(Path root, TestCertificate certificate) throws Exception {
        HttpsServer server = HttpsServer.create(loopback(), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(certificate.sslContext()));
        return new WebServer(server, root);
    }

    private static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Every request answered so far, in order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            URI uri = exchange.getRequestURI();
            requests.add(new Request(method, uri.getPath(),
                    exchange.getRequestHeaders().getFirst("Host")));
            if (method.equals("POST")) {
                byte[] body;
                try (InputStream in = exchange.getRequestBody()) {
                    body = in.readAllBytes();
                }
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            Path file = root.resolve(uri.getPath().substring(1)).normalize();
            if (Files.isDirectory(file)) {
                // A registry's metadata document lives at the path of the directory that
                // holds its tarballs.
                file = file.resolve("index.json");
            }
            if (!file.startsWith(root) || !Files.isRegularFile(file)
                    || !(method.equals("GET") || method.equals("HEAD"))) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            byte[] body = Files.readAllBytes(file);
            exchange.getResponseHeaders().set("Content-Type", contentType(file));
            if (method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static String contentType(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".json")) {
            return "application/json";
        }
        return name.endsWith(".html") ? "text/html" : "application/octet-stream";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
