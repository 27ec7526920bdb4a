package dev.stockade.internal.egress;

import dev.stockade.Connection;
import dev.stockade.Connection.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sandbox's connection log: an entry per host, port, address, verdict, rule and reason, in
 * the order each first occurred, counting its connections and the bytes they relayed. Written
 * by the proxy thread, read by {@code finish()}.
 */
final class ConnectionLog {
    /** The longest host a log entry shows: a longer one is not a host anyway. */
    static final int MAX_SHOWN = 300;

    private record Key(String host, int port, String address, Verdict verdict, String rule,
            String reason) {}

    /** The counters of one entry; a relayed connection adds its bytes as they pass. */
    static final class Entry {
        private long count;
        private long sent;
        private long received;
    }

    private final Map<Key, Entry> entries = new LinkedHashMap<>();

    /** Counts one connection under its entry and returns the entry, for its bytes. */
    synchronized Entry add(String host, int port, String address, Verdict verdict, String rule,
            String reason) {
        Entry e = entries.computeIfAbsent(new Key(shown(host), port, address, verdict,
                shown(rule), shown(reason)), k -> new Entry());
        e.count++;
        return e;
    }

    synchronized void sent(Entry e, long n) {
        e.sent += n;
    }

    synchronized void received(Entry e, long n) {
        e.received += n;
    }

    synchronized List<Connection> snapshot() {
        List<Connection> out = new ArrayList<>(entries.size());
        for (Map.Entry<Key, Entry> m : entries.entrySet()) {
            Key k = m.getKey();
            Entry e = m.getValue();
            out.add(new Connection(k.host(), k.port(), k.address(), k.verdict(), k.rule(),
                    k.reason(), e.count, e.sent, e.received));
        }
        return List.copyOf(out);
    }

    /**
     * What the sandbox sent, as a log (and the CLI's one line per entry) may show it: printable
     * ASCII, other bytes as \xNN, cut at {@link #MAX_SHOWN} characters.
     */
    static String shown(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_SHOWN + 8));
        for (int i = 0; i < s.length(); i++) {
            if (b.length() >= MAX_SHOWN) {
                return b.append("...").toString();
            }
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                b.append(c);
            } else if (c == '\\') {
                b.append("\\\\");
            } else {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            }
        }
        return b.toString();
    }
}
