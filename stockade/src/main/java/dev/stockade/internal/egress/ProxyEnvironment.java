package dev.stockade.internal.egress;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The variables that point a sandbox's tools at its egress proxy on {@code 127.0.0.1:port}
 * inside: the proxy variables most tools read (curl, wget, git, pip, npm, Go; some read only
 * the lower-case forms, some only the upper-case ones), {@code NO_PROXY} for the sandbox's own
 * loopback (a server the step starts itself stays reachable directly), and for JVMs, which read
 * none of them, {@code JAVA_TOOL_OPTIONS} with the proxy system properties, after whatever the
 * policy's own value holds (a later {@code -D} wins).
 */
public final class ProxyEnvironment {
    private ProxyEnvironment() {}

    /** The sandbox's own loopback, which tools reach directly. */
    static final String NO_PROXY = "localhost,127.0.0.1,::1";
    /** The same for JVMs ({@code http.nonProxyHosts} syntax; all of 127/8 is the sandbox's). */
    static final String JAVA_NON_PROXY_HOSTS = "localhost|127.*|[::1]";

    /**
     * {@code environment} with the proxy's variables set (replacing the policy's: inside,
     * nothing but this proxy leads out) and {@code JAVA_TOOL_OPTIONS} extended.
     */
    public static Map<String, String> apply(Map<String, String> environment, int port) {
        Map<String, String> env = new LinkedHashMap<>(environment);
        String http = "http://127.0.0.1:" + port;
        String socks = "socks5h://127.0.0.1:" + port;
        for (String name : new String[] {"HTTP_PROXY", "HTTPS_PROXY"}) {
            env.put(name, http);
            env.put(name.toLowerCase(Locale.ROOT), http);
        }
        env.put("ALL_PROXY", socks);
        env.put("all_proxy", socks);
        env.put("NO_PROXY", NO_PROXY);
        env.put("no_proxy", NO_PROXY);
        String java = "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=" + port
                + " -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=" + port
                + " -Dhttp.nonProxyHosts=" + JAVA_NON_PROXY_HOSTS;
        String own = env.get("JAVA_TOOL_OPTIONS");
        env.put("JAVA_TOOL_OPTIONS", own == null || own.isBlank() ? java : own + " " + java);
        return env;
    }
}
