package dev.stockade.testing;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A self-signed certificate for the test servers' names, made by the JDK's {@code keytool}
 * ({@code -ext SAN=dns:web.stockade.test,...}): the key store for the server and the
 * certificate as PEM for the client ({@code curl --cacert}).
 */
public final class TestCertificate {
    private static final char[] PASSWORD = "stockade-test".toCharArray();

    private final Path keyStore;
    private final Path pem;

    private TestCertificate(Path keyStore, Path pem) {
        this.keyStore = keyStore;
        this.pem = pem;
    }

    /** Generates a key pair and certificate in {@code directory} for {@code dnsNames}. */
    public static TestCertificate generate(Path directory, String... dnsNames) throws Exception {
        Path keyStore = directory.resolve("server.p12");
        Path pem = directory.resolve("server.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        StringBuilder san = new StringBuilder();
        for (String name : dnsNames) {
            san.append(san.length() == 0 ? "SAN=" : ",").append("dns:").append(name);
        }
        san.append(",ip:127.0.0.1");
        keytool(List.of(keytool, "-genkeypair", "-keystore", keyStore.toString(),
                "-storetype", "PKCS12", "-storepass", new String(PASSWORD), "-alias", "server",
                "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=" + dnsNames[0], "-ext", san.toString()));
        keytool(List.of(keytool, "-exportcert", "-rfc", "-keystore", keyStore.toString(),
                "-storetype", "PKCS12", "-storepass", new String(PASSWORD), "-alias", "server",
                "-file", pem.toString()));
        return new TestCertificate(keyStore, pem);
    }

    private static void keytool(List<String> command) throws Exception {
        SandboxTesting.HostOutput out = SandboxTesting.runOnHost(
                new ProcessBuilder(command).redirectErrorStream(true));
        if (out.exitCode() != 0) {
            throw new IllegalStateException("keytool failed: " + command + "\n" + out.stdout());
        }
    }

    /** The certificate, PEM, for a client to trust (world-readable: the sandbox reads it). */
    public Path pem() {
        return pem;
    }

    /** A server context presenting this certificate. */
    public SSLContext sslContext() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(
                KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }
}
