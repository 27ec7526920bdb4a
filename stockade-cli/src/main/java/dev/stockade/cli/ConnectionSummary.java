package dev.stockade.cli;

import dev.stockade.Connection;
import java.io.PrintWriter;
import java.util.List;

/**
 * The lines {@code stockade run --net allow} prints on stderr after the command, one per
 * connection entry that did not go through: {@code stockade: refused connection to
 * evil.example:443 (not in the allow list)}, {@code stockade: refused connection: <reason>}
 * for a request the proxy could not read, {@code stockade: connection to host:port failed
 * (<reason>)} for an allowed host that could not be reached; {@code x3} after the target
 * when the entry stands for several connections. Allowed connections are in
 * {@code --report} only.
 */
public final class ConnectionSummary {
    private ConnectionSummary() {}

    static void print(List<Connection> connections, PrintWriter err) {
        for (Connection c : connections) {
            String line = line(c);
            if (line != null) {
                err.println(line);
            }
        }
        err.flush();
    }

    /**
     * The line {@code stockade run} prints for a connection that did not go through.
     *
     * @param c a connection of {@code SandboxResult.connections()}
     * @return the line, or {@code null} for an allowed connection
     */
    public static String line(Connection c) {
        // Host and reason come from what the sandbox sent (kept printable by the proxy);
        // oneLine keeps one entry one line whatever it holds.
        String target = ErrorHandler.oneLine(c.target()) + times(c);
        String reason = ErrorHandler.oneLine(c.reason());
        String unread = "stockade: refused connection" + times(c) + ": " + reason;
        return switch (c.verdict()) {
            case ALLOWED -> null;
            // No target to name: the log's overflow entry, or a request for an empty host.
            case DENIED -> c.target().isEmpty() ? unread
                    : "stockade: refused connection to " + target + " (" + reason + ")";
            case MALFORMED -> unread;
            case FAILED -> "stockade: connection to " + target + " failed (" + reason + ")";
        };
    }

    private static String times(Connection c) {
        return c.count() > 1 ? " x" + c.count() : "";
    }
}
