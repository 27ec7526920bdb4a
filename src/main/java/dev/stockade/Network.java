package dev.stockade;

/** What network a sandboxed command gets. */
public enum Network {
    /**
     * No network: a new network namespace in which only loopback is up, so a server the command
     * starts on 127.0.0.1 is reachable from inside, and nothing on the host is.
     */
    NONE,
    /** The host's network: no network namespace (as disabling {@link Namespace#NETWORK}). */
    HOST
}
