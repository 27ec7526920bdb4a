package dev.stockade.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;

/**
 * What the egress tests serve from the host: a dumb-HTTP git repository and a one-package npm
 * registry, as directory trees a {@link WebServer} serves as they are.
 */
public final class EgressFixtures {
    private EgressFixtures() {}

    /** The one package of the tiny registry. */
    public static final String NPM_PACKAGE = "stockade-egress-probe";
    public static final String NPM_VERSION = "1.0.0";
    /** What the package's index.js holds, to compare after the install. */
    public static final String NPM_INDEX = "module.exports = 'installed through the proxy';\n";

    /**
     * A bare repository {@code <root>/repo.git} with one commit (README: {@code readme}),
     * prepared for the dumb HTTP protocol ({@code git update-server-info}): cloned from
     * {@code http://host:port/repo.git}. Returns the commit's hash.
     */
    public static String dumbGitRepository(Path root, Path scratch, String readme)
            throws Exception {
        Path work = Files.createDirectories(scratch.resolve("git-work"));
        HostGit.git(work, "init", "-q", "-b", "main", work.toString());
        Files.writeString(work.resolve("README"), readme);
        HostGit.git(work, "add", "README");
        HostGit.git(work, "commit", "-q", "-m", "first");
        Path bare = root.resolve("repo.git");
        HostGit.git(root, "clone", "-q", "--bare", work.toString(), bare.toString());
        HostGit.git(bare, "update-server-info");
        return HostGit.git(bare, "rev-parse", "HEAD").strip();
    }

    /**
     * The registry's files under {@code root}: {@code <root>/stockade-egress-probe} (the
     * package's metadata, the document npm asks for) and the tarball it points at, on
     * {@code registryUrl} (such as {@code http://registry.stockade.test:PORT/}), with the
     * tarball's real sha1 and sha512 (npm checks them).
     */
    public static void npmRegistry(Path root, Path scratch, String registryUrl) throws Exception {
        Path pkg = Files.createDirectories(scratch.resolve("npm-src/package"));
        Files.writeString(pkg.resolve("package.json"), "{\"name\": \"" + NPM_PACKAGE
                + "\", \"version\": \"" + NPM_VERSION + "\", \"main\": \"index.js\"}\n");
        Files.writeString(pkg.resolve("index.js"), NPM_INDEX);
        String tarballName = NPM_PACKAGE + "-" + NPM_VERSION + ".tgz";
        Path tarball = Files.createDirectories(root.resolve(NPM_PACKAGE + "/-"))
                .resolve(tarballName);
        SandboxTesting.HostOutput tar = SandboxTesting.runOnHost(new ProcessBuilder("tar",
                "-czf", tarball.toString(), "-C", pkg.getParent().toString(), "package")
                .redirectErrorStream(true));
        if (tar.exitCode() != 0) {
            throw new IllegalStateException("tar failed: " + tar.stdout());
        }
        byte[] bytes = Files.readAllBytes(tarball);
        String sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        String sha512 = "sha512-" + Base64.getEncoder()
                .encodeToString(MessageDigest.getInstance("SHA-512").digest(bytes));
        String url = registryUrl + NPM_PACKAGE + "/-/" + tarballName;
        String metadata = "{\"name\": \"" + NPM_PACKAGE + "\","
                + " \"dist-tags\": {\"latest\": \"" + NPM_VERSION + "\"},"
                + " \"versions\": {\"" + NPM_VERSION + "\": {\"name\": \"" + NPM_PACKAGE
                + "\", \"version\": \"" + NPM_VERSION + "\", \"main\": \"index.js\","
                + " \"dist\": {\"tarball\": \"" + url + "\", \"shasum\": \"" + sha1 + "\","
                + " \"integrity\": \"" + sha512 + "\"}}}}\n";
        // The package's directory holds the tarball, so the metadata document npm asks for at
        // /<name> is served from a file beside it (see WebServer's index rule).
        Files.writeString(root.resolve(NPM_PACKAGE + "/index.json"), metadata,
                StandardCharsets.UTF_8);
    }
}
