package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copy-on-write host trees: the step reads an overlaid host directory, writes, deletes and
 * renames there, and nothing of it reaches the host. The case it is for: an offline Maven
 * build with the host's local repository, which the build cannot poison.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(300)
class OverlayTest {

    /** The plugins the offline project (src/test/resources/.../offline-maven) pins. */
    private static final List<String> PINNED_PLUGINS = List.of(
            "maven-resources-plugin/3.3.1/maven-resources-plugin-3.3.1.jar",
            "maven-compiler-plugin/3.13.0/maven-compiler-plugin-3.13.0.jar",
            "maven-surefire-plugin/3.5.2/maven-surefire-plugin-3.5.2.jar",
            "maven-jar-plugin/3.4.2/maven-jar-plugin-3.4.2.jar");
    private static final String PROJECT = "/dev/stockade/offline-maven/";
    private static final List<String> PROJECT_FILES = List.of("pom.xml",
            "src/main/java/demo/Hello.java");

    @TempDir
    Path lower;

    @TempDir
    Path workspace;

    /**
     * A small host tree with the kinds of entries a step may change, writable by anyone (so
     * that for a root caller, whose command is host uid 65534, the overlay's own behaviour is
     * what is tested, not the tree's permissions;
     * {@link #aRootOwnedTreeIsWritableThroughTheOverlay}
     * has the tree as a root caller usually has it).
     */
    private void plantTree() throws Exception {
        plantTree("rw-rw-rw-", "rwxrwxrwx");
    }

    private void plantTree(String fileMode, String dirMode) throws Exception {
        Files.setPosixFilePermissions(lower, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(lower.resolve("a.txt"), "alpha\n");
        Files.createDirectories(lower.resolve("sub/deep"));
        Files.writeString(lower.resolve("sub/b.txt"), "beta\n");
        Files.writeString(lower.resolve("sub/deep/c.txt"), "gamma\n");
        Files.createDirectory(lower.resolve("bin"));
        Files.copy(Path.of("/bin/true"), lower.resolve("bin/tool"));
        Files.setPosixFilePermissions(lower.resolve("bin/tool"),
                PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectory(lower.resolve("empty"));
        Files.createSymbolicLink(lower.resolve("link"), Path.of("a.txt"));
        for (String f : List.of("a.txt", "sub/b.txt", "sub/deep/c.txt")) {
            Files.setPosixFilePermissions(lower.resolve(f),
                    PosixFilePermissions.fromString(fileMode));
        }
        for (String d : List.of("", "sub", "sub/deep", "bin", "empty")) {
            Files.setPosixFilePermissions(lower.resolve(d),
                    PosixFilePermissions.fromString(dirMode));
        }
    }

    /** The overlay step of {@link #writesDeletesAndRenamesStayInTheSandbox}. */
    private static final String CHANGES = String.join(" && ",
            "cd /ov", "cat a.txt link", "echo changed >> a.txt", "echo new > new.txt",
            "rm sub/b.txt", "mv sub/deep sub/moved", "rm link",
            "ln -s new.txt link2", "mkdir empty/d", "rmdir empty/d", "rm -r empty",
            "./bin/tool", "cat a.txt", "find . | LC_ALL=C sort");
    private static final String CHANGED = "alpha\nalpha\nalpha\nchanged\n.\n./a.txt\n./bin\n"
            + "./bin/tool\n./link2\n./new.txt\n./sub\n./sub/moved\n./sub/moved/c.txt\n";

    @Test
    void writesDeletesAndRenamesStayInTheSandbox() throws Exception {
        plantTree();
        Map<String, String> before = HostTree.snapshot(lower);
        Path ov = Path.of("/ov");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .mount(Mounts.overlay(lower, ov)).build();
        Output out = SandboxTesting.run(policy, "/bin/sh", "-c", CHANGES
                + " && cp a.txt " + workspace.resolve("copied"));
        assertExitedZero(out);
        assertEquals(CHANGED, out.stdout(), out.toString());
        assertEquals("alpha\nchanged\n", Files.readString(workspace.resolve("copied")));
        assertEquals(before, HostTree.snapshot(lower), "the host tree changed");

        // A second sandbox starts from the host tree again.
        Output again = SandboxTesting.run(policy, "/bin/sh", "-c",
                "cat /ov/a.txt; ls /ov | tr '\\n' ' '");
        assertEquals("alpha\na.txt bin empty link sub ", again.stdout(), again.toString());
    }

    /**
     * The tree as a root caller has it (root's, 0644 files, 0755 directories): the command is
     * host uid 65534, yet the overlay is its to change, as it is for an unprivileged caller
     * whose own tree it is.
     */
    @Test
    void aRootOwnedTreeIsWritableThroughTheOverlay() throws Exception {
        plantTree("rw-r--r--", "rwxr-xr-x");
        Map<String, String> before = HostTree.snapshot(lower);
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .mount(Mounts.overlay(lower, Path.of("/ov"))).build();
        Output out = SandboxTesting.run(policy, "/bin/sh", "-c", CHANGES
                + " && chmod 700 bin/tool && stat -c %a bin/tool");
        assertEquals(before, HostTree.snapshot(lower), "the host tree changed");
        assertExitedZero(out);
        assertEquals(CHANGED + "700\n", out.stdout(), out.toString());
    }

    @Test
    void theUpperLayerIsBounded() throws Exception {
        plantTree();
        SandboxPolicy policy = SandboxPolicy.builder()
                .mount(Mounts.overlay(lower, Path.of("/ov"), 1024 * 1024)).build();
        Output out = SandboxTesting.python(policy, String.join("\n",
                "open('/ov/small', 'wb').write(b'x' * 1000)",
                "try:",
                "    with open('/ov/big', 'wb') as f:",
                "        f.write(b'x' * (2 * 1024 * 1024))",
                "    print('written')",
                "except OSError as e:",
                "    print(e.errno)"));
        assertEquals("28\n", out.stdout(), out.toString());
        assertFalse(Files.exists(lower.resolve("small")));
    }

    @Test
    void homePathsReadOnlyAndOverlaid() throws Exception {
        Path realHome = Path.of(System.getProperty("user.home"));
        String name = ".stockade-home-" + SandboxTesting.marker();
        Path ro = realHome.resolve(name + "-ro");
        Path cow = realHome.resolve(name + "-cow");
        try {
            for (Path d : List.of(ro, cow)) {
                Files.createDirectory(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.writeString(d.resolve("f"), "host\n");
                // Writable by anyone: the read-only mount, not the file's mode, refuses.
                Files.setPosixFilePermissions(d.resolve("f"),
                        PosixFilePermissions.fromString("rw-rw-rw-"));
            }
            Map<String, String> roBefore = HostTree.snapshot(ro);
            Map<String, String> cowBefore = HostTree.snapshot(cow);
            SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                    .homeReadOnly(ro.getFileName().toString())
                    .homeOverlay(cow.getFileName().toString()).build();
            Path home = policy.home();
            FsProbe.Result r = FsProbe.run(policy, "read " + home.resolve(ro.getFileName() + "/f"),
                    "append " + home.resolve(ro.getFileName() + "/f"),
                    "append " + home.resolve(cow.getFileName() + "/f"),
                    "read " + home.resolve(cow.getFileName() + "/f"),
                    "create " + home.resolve(cow.getFileName() + "/g"),
                    "list " + home);
            String host = "ok 5 " + HostTree.sha256(ro.resolve("f"));
            r.expect("read " + home.resolve(ro.getFileName() + "/f"), host);
            r.expect("append " + home.resolve(ro.getFileName() + "/f"), "EROFS");
            r.expect("append " + home.resolve(cow.getFileName() + "/f"), "ok");
            r.expect("read " + home.resolve(cow.getFileName() + "/f"), "ok 6 "
                    + HostTree.sha256Of("host\nx"));
            r.expect("create " + home.resolve(cow.getFileName() + "/g"), "ok");
            // Only the two paths of the host's home, nothing else of it.
            r.expect("list " + home, "ok " + List.of(cow.getFileName().toString(),
                    ro.getFileName().toString()).stream().sorted()
                    .reduce((a, b) -> a + "," + b).orElseThrow());
            assertEquals(roBefore, HostTree.snapshot(ro));
            assertEquals(cowBefore, HostTree.snapshot(cow));
        } finally {
            for (Path d : List.of(ro, cow)) {
                Files.deleteIfExists(d.resolve("f"));
                Files.deleteIfExists(d);
            }
        }
    }

    /**
     * The local repository the offline build uses: {@code stockade.test.mavenRepository} (the
     * build's own, set by pom.xml; a world-readable copy for the unprivileged run in .ci/run),
     * else the caller's {@code ~/.m2/repository}.
     */
    private static Path mavenRepository() {
        String set = System.getProperty("stockade.test.mavenRepository");
        return set != null && !set.isEmpty() ? Path.of(set)
                : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    @Test
    void anOfflineMavenBuildCannotPoisonTheLocalRepository() throws Exception {
        Path repo = mavenRepository();
        Path plugins = repo.resolve("org/apache/maven/plugins");
        for (String jar : PINNED_PLUGINS) {
            assumeTrue(Files.isRegularFile(plugins.resolve(jar)), "the local repository " + repo
                    + " lacks " + jar + " (build Stockade with it once, online)");
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/mvn")), "Maven at /usr/bin/mvn");
        for (String f : PROJECT_FILES) {
            Path dst = workspace.resolve(f);
            Files.createDirectories(dst.getParent());
            try (InputStream in = OverlayTest.class.getResourceAsStream(PROJECT + f)) {
                Files.copy(in, dst, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        // A settings.xml with a credential in the caller's real ~/.m2, if there is none yet.
        Path settings = Path.of(System.getProperty("user.home"), ".m2", "settings.xml");
        boolean planted = false;
        boolean madeDir = false;
        if (!Files.exists(settings.getParent(), LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(settings.getParent());
            madeDir = true;
        }
        if (!Files.exists(settings, LinkOption.NOFOLLOW_LINKS)
                && Files.isDirectory(settings.getParent())
                && Files.isWritable(settings.getParent())) {
            Path tmp = settings.resolveSibling(".settings.xml." + SandboxTesting.marker());
            Files.writeString(tmp, "<settings><!-- stockade test: token=hunter2 --></settings>\n");
            Files.move(tmp, settings, StandardCopyOption.ATOMIC_MOVE);
            planted = true;
        }
        Path jarPlugin = plugins.resolve("maven-jar-plugin/3.4.2");
        Map<String, String> jarPluginBefore = HostTree.snapshot(jarPlugin);
        Path poisonDir = repo.resolve("dev/stockade/poison");
        try {
            SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
            Path insideRepo = policy.home().resolve(".m2/repository");
            policy = policy.toBuilder().mount(Mounts.overlay(repo, insideRepo)).build();
            List<String> settingsChecks = new ArrayList<>();
            settingsChecks.add("test ! -e \"$HOME/.m2/settings.xml\"");
            if (Files.exists(settings)) {
                settingsChecks.add("test ! -e " + settings);
            }
            Output build = SandboxTesting.run(policy, "/bin/sh", "-c", String.join(" && ",
                    settingsChecks)
                    + " && { mvn -o -B package > /tmp/mvn.log 2>&1"
                    + " || { cat /tmp/mvn.log; exit 1; }; }"
                    + " && java -cp target/offline-demo-1.0.jar demo.Hello"
                    + " && echo poisoned > " + insideRepo.resolve(
                            "org/apache/maven/plugins/maven-jar-plugin/3.4.2/"
                                    + "maven-jar-plugin-3.4.2.jar")
                    + " && mkdir -p " + insideRepo.resolve("dev/stockade/poison")
                    + " && echo x > " + insideRepo.resolve("dev/stockade/poison/evil.pom")
                    + " && cat " + insideRepo.resolve(
                            "org/apache/maven/plugins/maven-jar-plugin/3.4.2/"
                                    + "maven-jar-plugin-3.4.2.jar"));
            assertExitedZero(build);
            assertEquals("hello from the sandbox\npoisoned\n", build.stdout(), build.toString());
            Path jar = workspace.resolve("target/offline-demo-1.0.jar");
            try (ZipFile z = new ZipFile(jar.toFile())) {
                assertTrue(z.getEntry("demo/Hello.class") != null, "the jar holds the class");
            }
            assertEquals(jarPluginBefore, HostTree.snapshot(jarPlugin), "the plugin changed");
            assertFalse(Files.exists(poisonDir), "the step's artifact reached the host");
        } finally {
            if (planted) {
                Files.delete(settings);
            }
            if (madeDir) {
                Files.delete(settings.getParent());
            }
        }
    }
}
