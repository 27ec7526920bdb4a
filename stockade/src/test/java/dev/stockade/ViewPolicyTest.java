package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.internal.CallerIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default view as policy settings: the base mounts on this host, the private home and
 * identity, home paths, protected paths, overlays, symbolic links, toolchains, and every
 * refusal of build() for them. (Not pure: a builder holds the default seccomp profile, whose
 * system call names are resolved through the natives.)
 */
class ViewPolicyTest {
    private static final long MIB = 1024L * 1024;

    private static SandboxPolicy.Builder plain() {
        return SandboxPolicy.builder().seccomp(SeccompProfile.none());
    }

    private static List<String> problems(SandboxPolicy.Builder b) {
        return assertThrows(PolicyException.class, b::build).problems();
    }

    /** Runs {@code body} with {@code user.home} set to {@code home}, as the caller's home. */
    private static <T> T withUserHome(Path home, Callable<T> body) throws Exception {
        String saved = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            return body.call();
        } finally {
            System.setProperty("user.home", saved);
        }
    }

    @Test
    void theDefaultMountsOnThisHost() {
        // Debian 12 with merged /usr: /bin, /sbin, /lib, /lib64 are links, no /lib32, /libx32.
        assertEquals(List.of(
                Mount.bindReadOnly(Path.of("/usr"), Path.of("/usr")),
                Mount.symlink(Path.of("/bin"), "usr/bin"),
                Mount.symlink(Path.of("/sbin"), "usr/sbin"),
                Mount.symlink(Path.of("/lib"), "usr/lib"),
                Mount.symlink(Path.of("/lib64"), "usr/lib64"),
                Mount.bindReadOnly(Path.of("/etc"), Path.of("/etc")),
                Mount.bindReadOnly(Path.of("/opt"), Path.of("/opt")),
                Mount.tmpfs(Path.of("/tmp"), 512 * MIB),
                Mount.tmpfs(Path.of("/run"), 16 * MIB),
                Mount.tmpfs(Path.of("/var/tmp"), 512 * MIB)), plain().build().mounts());
        assertEquals(SandboxPolicy.DEFAULT_TMP_SIZE_BYTES, SandboxPolicy.DEFAULT_VAR_TMP_SIZE_BYTES);
    }

    @Test
    void homeAndNameOfTheSandboxUser() throws Exception {
        SandboxPolicy p = plain().build();
        boolean root = CallerIds.isRoot();
        Path expectedHome = root ? Path.of("/home/sandbox")
                : Path.of(System.getProperty("user.home")).normalize();
        assertEquals(expectedHome, p.home());
        assertEquals(expectedHome.toString(), p.environment().get("HOME"));
        assertEquals(root ? "sandbox" : System.getProperty("user.name"), p.userName());
        assertEquals(512 * MIB, p.homeSizeBytes());
        assertEquals(SandboxPolicy.DEFAULT_HOME_SIZE_BYTES, p.homeSizeBytes());
        SandboxPolicy inRoot = plain().uid(0).gid(0).build();
        assertEquals(Path.of("/root"), inRoot.home());
        assertEquals("root", inRoot.userName());
        assertEquals("/root", inRoot.environment().get("HOME"));
    }

    @Test
    void anUnusableCallerNameOrHomeGivesTheDefaults() throws Exception {
        plain().build(); // the natives are loaded (their cache is under user.home) before
        String savedName = System.getProperty("user.name");
        System.setProperty("user.name", "Some User");
        try {
            SandboxPolicy p = withUserHome(Path.of("/"), () -> plain().build());
            assertEquals("sandbox", p.userName());
            if (!CallerIds.isRoot()) {
                assertEquals(Path.of("/home/sandbox"), p.home());
            }
        } finally {
            System.setProperty("user.name", savedName);
        }
    }

    /** A home that would end the passwd line's field or line is not used inside. */
    @Test
    void aCallerHomeThatWouldBreakThePasswdLineGivesTheDefault() throws Exception {
        plain().build();
        SandboxPolicy usable = withUserHome(Path.of("/tmp/h"), () -> plain().build());
        if (CallerIds.isRoot()) {
            assertEquals(Path.of("/home/sandbox"), usable.home());
        } else {
            assertEquals(Path.of("/tmp/h"), usable.home());
        }
        for (String home : List.of("/tmp/h:x", "/tmp/h\nroot::0:0::/:/bin/sh", "/tmp/h\r")) {
            SandboxPolicy p = withUserHome(Path.of(home), () -> plain().build());
            assertEquals(Path.of("/home/sandbox"), p.home(), home);
            assertEquals("/home/sandbox", p.environment().get("HOME"), home);
        }
    }

    /** Through a link the private home is at the real path, which a bind may show. */
    @Test
    void aLinkedCallerHomeGivesTheRealPath(@TempDir Path dir) throws Exception {
        plain().build();
        Path real = Files.createDirectory(dir.toRealPath().resolve("real"));
        Path link = Files.createSymbolicLink(dir.toRealPath().resolve("link"), real);
        SandboxPolicy p = withUserHome(link, () -> plain().build());
        Path expected = CallerIds.isRoot() ? Path.of("/home/sandbox") : real;
        assertEquals(expected, p.home());
        assertEquals(expected.toString(), p.environment().get("HOME"));
    }

    @Test
    void homePathsBecomeMountsUnderTheHome(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Files.createDirectories(real.resolve(".m2/repository"));
        Files.createDirectories(real.resolve(".gradle/caches"));
        SandboxPolicy p = withUserHome(real, () -> plain().homeReadOnly(".m2/repository")
                .homeOverlay(".gradle/caches").homeSize(64 * MIB).build());
        Path home = p.home();
        assertEquals(List.of(
                Mount.bindReadOnly(real.resolve(".m2/repository"), home.resolve(".m2/repository")),
                Mounts.overlay(real.resolve(".gradle/caches"), home.resolve(".gradle/caches"))),
                p.homeMounts());
        assertEquals(64 * MIB, p.homeSizeBytes());
        SandboxPolicy again = withUserHome(real, () -> p.toBuilder().build());
        assertEquals(p.homeMounts(), again.homeMounts());
        assertEquals(Optional.of(real.resolve(".m2/repository/org")),
                p.hostPath(home.resolve(".m2/repository/org")));
        assertEquals(Optional.empty(), p.hostPath(home.resolve(".bashrc")));
        assertEquals(Optional.of(Path.of("/usr/bin/env")), p.hostPath(Path.of("/usr/bin/env")));
        assertEquals(Optional.empty(), p.hostPath(Path.of("/bin/env")));
        assertEquals(Optional.empty(), p.hostPath(Path.of("/home")));
    }

    @Test
    void homePathRefusals(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Files.createDirectory(real.resolve("dir"));
        Files.writeString(real.resolve("file"), "x");
        Files.createSymbolicLink(real.resolve("link"), real.resolve("dir"));
        Path home = withUserHome(real, () -> plain().build().home());
        List<String> problems = withUserHome(real, () -> problems(plain()
                .homeReadOnly("../etc").homeReadOnly("/etc").homeReadOnly("")
                .homeReadOnly("dir/./x").homeReadOnly("dir//x").homeReadOnly("missing")
                .homeReadOnly("link").homeOverlay("file").homeSize(0)));
        assertEquals(List.of(
                "the private home " + home + " has size 0: it must be positive",
                "homeReadOnly '../etc' contains '..'",
                "homeReadOnly '/etc' is not a relative path",
                "homeReadOnly '' is empty",
                "homeReadOnly 'dir/./x' is not normalized (write 'dir/x')",
                "homeReadOnly 'dir//x' is not normalized (write 'dir/x')",
                "homeReadOnly 'missing': " + real.resolve("missing") + " does not exist",
                "homeReadOnly 'link': " + real.resolve("link") + " goes through a symbolic link"
                        + " (it is " + real.resolve("dir") + "): give the real path",
                "homeOverlay 'file': " + real.resolve("file") + " is not a directory"), problems);
    }

    @Test
    void nothingElseOnTheHome(@TempDir Path dir) throws Exception {
        Path home = plain().build().home();
        assertEquals(List.of("two mounts on " + home + ": tmpfs " + home + " (1024 bytes) and the"
                + " private home"), problems(plain().tmpfs(home, 1024)));
        Path real = dir.toRealPath();
        Files.createDirectory(real.resolve("cache"));
        Path target = withUserHome(real, () -> plain().build().home()).resolve("cache");
        assertEquals(List.of("two mounts on " + target + ": tmpfs " + target
                + " (1024 bytes) and homeOverlay 'cache'"), withUserHome(real,
                        () -> problems(plain().tmpfs(target, 1024).homeOverlay("cache"))));
        if (Files.isDirectory(home)) {
            assertEquals(List.of("workspace " + home + " is the sandbox's private home"
                    + " (SandboxPolicy.home()): give the project's directory"),
                    problems(plain().workspace(home)));
        }
    }

    @Test
    void protectedPathsAndTheirRefusals() {
        assertEquals(List.of(".git/", ".gitmodules", ".envrc", ".vscode/", ".idea/"),
                SandboxPolicy.DEFAULT_PROTECTED_PATHS);
        assertEquals(SandboxPolicy.DEFAULT_PROTECTED_PATHS, plain().build().protectedPaths());
        SandboxPolicy p = plain().unprotect(".idea", ".vscode/").protect("Makefile", "ci/")
                .build();
        assertEquals(List.of(".git/", ".gitmodules", ".envrc", "Makefile", "ci/"),
                p.protectedPaths());
        assertEquals(p.protectedPaths(), p.toBuilder().build().protectedPaths());
        assertEquals(List.of(
                "protected path '../x' contains '..'",
                "protected path '/etc/' is not a relative path",
                "protected path '' is empty",
                "protected path '/' is not a relative path",
                "protected path 'a/./b' is not normalized (write 'a/b')",
                "protected path '.' names no path below the directory",
                "unprotect '.gti/hooks': not a protected path (they are: .git/,"
                        + " .gitmodules, .envrc, .vscode/, .idea/, ../x, /etc/, , /,"
                        + " a/./b, .)"),
                problems(plain().protect("../x", "/etc/", "", "/", "a/./b", ".")
                        .unprotect(".gti/hooks")));
    }

    @Test
    void sysIsOptIn() {
        Mount sys = Mount.bindReadOnly(Path.of("/sys"), Path.of("/sys"));
        assertEquals(false, plain().build().mounts().contains(sys));
        SandboxPolicy on = plain().sys(true).build();
        assertEquals(sys, on.mounts().get(on.mounts().size() - 1));
        assertEquals(false, on.toBuilder().sys(false).build().mounts().contains(sys));
    }

    @Test
    void overlaysAndLinks(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Files.writeString(real.resolve("file"), "x");
        Mount overlay = Mounts.overlay(real, Path.of("/srv/cache"));
        assertEquals(new Mount(Mount.Type.OVERLAY, real, Path.of("/srv/cache"), false,
                1024 * MIB), overlay);
        assertEquals(1024 * MIB, Mounts.DEFAULT_OVERLAY_SIZE_BYTES);
        assertEquals("overlay " + real + " -> /srv/cache (upper 1073741824 bytes)",
                overlay.toString());
        assertEquals("symlink /x -> y/z", Mount.symlink(Path.of("/x"), "y/z").toString());
        SandboxPolicy p = plain().mount(overlay).mount(Mount.symlink(Path.of("/jdk"), "/opt/j"))
                .build();
        assertEquals(Optional.of(real.resolve("a")), p.hostPath(Path.of("/srv/cache/a")));
        assertEquals(List.of(
                "overlay source relative is not an absolute path",
                "overlay source " + real.resolve("missing") + " does not exist",
                "overlay source " + real.resolve("file") + " is not a directory",
                "overlay at /opt/d (its upper layer) has size 0: it must be positive",
                "symbolic link /l has an empty link target",
                "symbolic link /m has a link target containing NUL"),
                problems(plain().mount(Mounts.overlay(Path.of("relative"), Path.of("/opt/a")))
                        .mount(Mounts.overlay(real.resolve("missing"), Path.of("/opt/b")))
                        .mount(Mounts.overlay(real.resolve("file"), Path.of("/opt/c")))
                        .mount(Mounts.overlay(real, Path.of("/opt/d"), 0))
                        .mount(Mount.symlink(Path.of("/l"), ""))
                        .mount(Mount.symlink(Path.of("/m"), "a\0b"))));
        assertEquals("an overlay is writable (its upper layer); bind the source read-only"
                + " instead", assertThrows(IllegalArgumentException.class, () -> new Mount(
                        Mount.Type.OVERLAY, real, Path.of("/x"), true, 1)).getMessage());
    }

    @Test
    void toolchainsAnSdkmanCurrentLinkAndAnNvmBin(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Path jdk = Files.createDirectories(real.resolve("candidates/java/17.0.9-tem"));
        Files.createDirectory(jdk.resolve("bin"));
        Files.writeString(jdk.resolve("bin/java"), "");
        Path current = Files.createSymbolicLink(real.resolve("candidates/java/current"),
                Path.of("17.0.9-tem"));
        List<Mount> sdkman = List.of(Mount.bindReadOnly(jdk, jdk), Mount.bindReadOnly(jdk,
                current));
        assertEquals(sdkman, Mounts.toolchain(current));
        assertEquals(sdkman, Mounts.toolchain(current.resolve("bin/java")));
        assertEquals(current, Mounts.toolchainRoot(current.resolve("bin/java")));

        Path node = Files.createDirectories(real.resolve("versions/node/v20.11.0/bin"));
        Files.writeString(node.resolve("node"), "");
        Path nodeRoot = real.resolve("versions/node/v20.11.0");
        assertEquals(List.of(Mount.bindReadOnly(nodeRoot, nodeRoot)),
                Mounts.toolchain(node.resolve("node")));
        Files.writeString(real.resolve("tool"), "");
        assertEquals(List.of(Mount.bindReadOnly(real, real)),
                Mounts.toolchain(real.resolve("tool")));
        SandboxPolicy p = plain().mounts(Mounts.toolchain(current)).build();
        assertEquals(sdkman, p.mounts().subList(p.mounts().size() - 2, p.mounts().size()));

        Path missing = real.resolve("missing/bin/x");
        assertEquals(List.of(Mount.bindReadOnly(real.resolve("missing"),
                real.resolve("missing"))), Mounts.toolchain(missing));
        assertEquals(List.of("bind source " + real.resolve("missing") + " does not exist"),
                problems(plain().mounts(Mounts.toolchain(missing))));
    }
}
