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
    private final int maxEntries;

    /** @param maxEntries distinct entries kept; past them one entry per verdict counts on */
    ConnectionLog(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /** The reason of the entry that counts what the full log could not list apart. */
    static String overflowReason(int maxEntries) {
        return "not listed apart: the log holds " + maxEntries + " distinct entries";
    }

    /** Counts one connection under its entry and returns the entry, for its bytes. */
    synchronized Entry add(String host, int port, String address, Verdict verdict, String rule,
            String reason) {
        // What the sandbox sent is already printable (EgressRules, HttpRequestHead).
        Key key = new Key(host, port, address, verdict, rule, reason);
        Entry e = entries.get(key);
        if (e == null) {
            if (entries.size() >= maxEntries) {
                key = new Key("", 0, "", verdict, "", overflowReason(maxEntries));
            }
            e = entries.computeIfAbsent(key, k -> new Entry());
        }
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
