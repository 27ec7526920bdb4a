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
        // What the sandbox sent is already printable (EgressRules, HttpRequestHead).
        Entry e = entries.computeIfAbsent(new Key(host, port, address, verdict, rule, reason),
                k -> new Entry());
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
}
