package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Limits;
import dev.stockade.Namespace;
import dev.stockade.Network;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A call under a policy, resolved to the helper's values: decisions and the call's bounds. */
class SpecResolverTest {
    private static final SandboxPolicy PLAIN = SandboxPolicy.builder().unsetEnv("LANG")
            .unsetEnv("TERM").seccomp(SeccompProfile.none()).build();

    /** The flags of a writable bind: idmapped to its owner for a root caller. */
    private static final int WRITABLE = CallerIds.isRoot() ? Protocol.MOUNT_IDMAP_OWNER : 0;
    private static final long MIB = 1024L * 1024;

    /**
     * The default view on this host (Debian 12, merged /usr), in the order sent: depth 1, then
     * depth 2 (the private home is at depth 2 for a root caller and for the test users).
     */
    private static List<SandboxSpec.MountSpec> defaultView(SandboxPolicy p) {
        String passwd = IdentityFiles.passwd(p.userName(), p.uid(), p.gid(), p.home());
        String group = IdentityFiles.group(p.userName(), p.gid());
        List<SandboxSpec.MountSpec> view = new ArrayList<>(List.of(
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/usr",
                        "/usr"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0, "usr/bin", "/bin"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0, "usr/sbin", "/sbin"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0, "usr/lib", "/lib"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_SYMLINK, 0, 0, "usr/lib64", "/lib64"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/etc",
                        "/etc"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/opt",
                        "/opt"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 512 * MIB, "", "/tmp"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 16 * MIB, "", "/run"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 512 * MIB, "", "/var/tmp"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, Protocol.MOUNT_PRIVATE, 512 * MIB,
                        "", p.home().toString()),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0644, passwd, "/etc/passwd"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0644, passwd, "/etc/passwd-"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0644, group, "/etc/group"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0644, group, "/etc/group-"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0, "", "/etc/shadow"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0, "", "/etc/gshadow"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0, "", "/etc/shadow-"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, 0, "", "/etc/gshadow-")));
        return view;
    }

    private static SandboxSpec resolve(List<String> argv, SandboxPolicy policy, Path cwd)
            throws SpecException {
        return SpecResolver.resolve(argv, policy, cwd, FilterPrograms.NONE);
    }

    private static SandboxPolicy withLimits(Limits.Builder limits) {
        return SandboxPolicy.builder().limits(limits.build()).build();
    }

    private static List<Integer> rlimitResources(SandboxSpec spec) {
        return spec.rlimits().stream().map(SandboxSpec.RlimitSpec::resource).toList();
    }

    @Test
    void cgroupLimitsAndTheProcessBoundThatGoesWithThem() throws Exception {
        Path cwd = Path.of("/");
        // Without a memory bound or a CPU share: no cgroup, processes is RLIMIT_NPROC.
        SandboxSpec none = resolve(List.of("true"), withLimits(Limits.builder().processes(50)),
                cwd);
        assertNull(none.cgroup());
        assertTrue(rlimitResources(none).contains(Protocol.RLIMIT_NPROC));
        // With them: the cgroup's fields, processes as pids.max, no RLIMIT_NPROC; swap left to
        // the helper's default (0).
        SandboxSpec both = resolve(List.of("true"), withLimits(Limits.builder().processes(50)
                .memoryBytes(256L << 20).cpus(0.5)), cwd);
        assertEquals(new SandboxSpec.CgroupSpec(256L << 20, -1, 50, 50000, 100000), both.cgroup());
        assertTrue(!rlimitResources(both).contains(Protocol.RLIMIT_NPROC), both.toString());
        assertEquals(List.of(), both.notes());
        SandboxSpec swap = resolve(List.of("true"), withLimits(Limits.builder()
                .memoryBytes(256L << 20).memorySwapBytes(1L << 20)), cwd);
        assertEquals(1L << 20, swap.cgroup().swapMax());
        assertEquals(0, swap.cgroup().cpuQuotaUs());
        // The kernel's smallest quota for the smallest share.
        SandboxSpec tiny = resolve(List.of("true"), withLimits(Limits.builder()
                .cpus(Limits.MIN_CPUS)), cwd);
        assertEquals(Protocol.MIN_CPU_QUOTA_US, tiny.cgroup().cpuQuotaUs());
    }

    @Test
    void bestEffortMemoryFallsBackPerProcessOnlyWhereNoCgroupIsUsable() throws Exception {
        Path cwd = Path.of("/");
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(256L << 20)
                .memoryBestEffort(true).processes(64));
        SandboxSpec usable = SpecResolver.resolve(List.of("true"), policy, cwd,
                FilterPrograms.NONE, () -> null, null, null);
        assertEquals(256L << 20, usable.cgroup().memoryMax());
        assertEquals(List.of(), usable.notes());
        SandboxSpec fallback = SpecResolver.resolve(List.of("true"), policy, cwd,
                FilterPrograms.NONE, () -> "no cgroup here", null, null);
        assertNull(fallback.cgroup());
        assertTrue(fallback.rlimits().contains(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_DATA,
                256L << 20, 256L << 20)), fallback.toString());
        assertTrue(fallback.rlimits().contains(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC,
                64, 64)), fallback.toString());
        assertEquals(List.of("memory 268435456 bytes (best effort): no usable cgroup (no cgroup"
                + " here); each process is bounded instead to 268435456 bytes of private memory"
                + " (RLIMIT_DATA)"), fallback.notes());
        // An explicit per-process bound is the one that stands in.
        SandboxSpec perProcess = SpecResolver.resolve(List.of("true"), withLimits(Limits.builder()
                .memoryBytes(256L << 20).memoryBestEffort(true).memoryPerProcessBytes(64L << 20)),
                cwd, FilterPrograms.NONE, () -> "no cgroup here", null, null);
        assertTrue(perProcess.rlimits().contains(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_DATA,
                64L << 20, 64L << 20)), perProcess.toString());
        // Not best effort: the bound goes to the helper, which fails closed without a cgroup;
        // the probe is not even asked.
        SandboxSpec strict = SpecResolver.resolve(List.of("true"), withLimits(Limits.builder()
                .memoryBytes(256L << 20)), cwd, FilterPrograms.NONE, () -> {
                    throw new AssertionError("asked");
                }, null, null);
        assertEquals(256L << 20, strict.cgroup().memoryMax());
    }

    private static String refused(List<String> argv, Path cwd) {
        return assertThrows(SpecException.class, () -> resolve(argv, PLAIN, cwd)).getMessage();
    }

    @Test
    void defaultPolicyResolvesToEveryNamespaceAndTheDocumentedDefaults() throws Exception {
        SandboxSpec spec = resolve(List.of("true"), PLAIN, Path.of("/"));
        assertEquals(List.of("true"), spec.argv());
        assertEquals("/", spec.cwd());
        assertEquals(0x7e020000, spec.namespaces());
        assertEquals(List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + PLAIN.home()),
                spec.environment());
        assertEquals("stockade", spec.hostname());
        assertEquals(defaultView(PLAIN), spec.mounts());
        assertEquals(List.of(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE, 1024, 4096),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC, 4096, 4096),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CORE, 0, 0)), spec.rlimits());
        assertEquals(List.of(
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_INOTIFY_INSTANCES, 32),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_INOTIFY_WATCHES, 16384),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_FANOTIFY_GROUPS, 4),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_FANOTIFY_MARKS, 1024),
                new SandboxSpec.UserLimitSpec(Protocol.USER_LIMIT_NAMESPACES, 8)),
                spec.userLimits());
        assertEquals(64, spec.ptyMax());
        assertEquals(0, spec.timeoutMs());
        assertEquals(2000, spec.killGraceMs());
        assertNull(spec.seccompBpf());
        assertNull(spec.guardBpf());
        assertEquals(List.of(), spec.reports());
    }

    @Test
    void policyResolution(@TempDir Path dir) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder()
                .workspace(dir)
                .network(Network.HOST)
                .disable(Namespace.UTS)
                .bindReadOnly(Path.of("/usr"), Path.of("/tmp/a/b/usr"))
                .limits(Limits.builder().openFiles(100).processes(50).fileSizeBytes(1 << 20)
                        .cpuTimeSeconds(9).addressSpaceBytes(1L << 32).stackBytes(1 << 23)
                        .coreBytes(Limits.UNSET).build())
                .timeout(Duration.ofMillis(1500))
                .killGrace(Duration.ofMillis(250))
                .uid(1234).gid(4321)
                .build();
        SandboxSpec spec = resolve(List.of("true"), policy, dir);
        assertEquals(0x7e020000 & ~0x40000000 & ~0x04000000, spec.namespaces());
        assertNull(spec.hostname(), "no UTS namespace: no hostname field");
        assertEquals(1234, spec.uid());
        assertEquals(4321, spec.gid());
        assertEquals(dir.toString(), spec.cwd());
        // Shallowest first: the tmpfs mounts, then the workspace under /tmp, then the deeper bind.
        List<String> mine = List.of("/tmp", "/run", dir.toString(), "/tmp/a/b/usr");
        assertEquals(List.of(
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 512L * 1024 * 1024, "", "/tmp"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 16L * 1024 * 1024, "", "/run"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, WRITABLE, 0, dir.toString(),
                        dir.toString()),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/usr",
                        "/tmp/a/b/usr")),
                spec.mounts().stream().filter(m -> mine.contains(m.target())).toList());
        assertEquals(IdentityFiles.passwd(policy.userName(), 1234, 4321, policy.home()),
                spec.mounts().stream()
                        .filter(m -> m.target().equals("/etc/passwd")).findFirst().orElseThrow()
                        .source());
        assertEquals(List.of(
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE, 100, 100),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC, 50, 50),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_FSIZE, 1 << 20, 1 << 20),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CPU, 9, 10),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_AS, 1L << 32, 1L << 32),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_STACK, 1 << 23, 1 << 23)),
                spec.rlimits());
        assertEquals(1500, spec.timeoutMs());
        assertEquals(250, spec.killGraceMs());
    }

    @Test
    void withoutAMountNamespaceNoMountsAndNoPtyBound() throws Exception {
        SandboxPolicy policy = PLAIN.toBuilder().disable(Namespace.MOUNT).clearMounts().build();
        SandboxSpec spec = resolve(List.of("true"), policy, Path.of("/"));
        assertEquals(0, spec.ptyMax(), "devpts is the sandbox's own only with NEWNS");
        assertEquals(List.of(), spec.mounts());
        assertEquals(5, spec.userLimits().size());
    }

    @Test
    void identityFiles() {
        assertEquals("sandbox:x:65534:65534:sandbox:/home/sandbox:/bin/sh\n",
                IdentityFiles.passwd("sandbox", 65534, 65534, Path.of("/home/sandbox")));
        assertEquals("dev:x:1000:1000:dev:/home/dev:/bin/sh\n"
                + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                IdentityFiles.passwd("dev", 1000, 1000, Path.of("/home/dev")));
        assertEquals("root:x:0:0:root:/root:/bin/sh\n"
                + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                IdentityFiles.passwd("root", 0, 0, Path.of("/root")));
        assertEquals("sandbox:x:65534:\n", IdentityFiles.group("sandbox", 65534));
        assertEquals("dev:x:1000:\nnogroup:x:65534:\n", IdentityFiles.group("dev", 1000));
    }

    @Test
    void identityFilesOnlyWhereTheViewHasTheHostFileAndNothingElse(@TempDir Path dir)
            throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "mine:x:1:1::/:/bin/sh\n");
        SandboxPolicy own = PLAIN.toBuilder().bindReadOnly(passwd, Path.of("/etc/passwd"))
                .build();
        List<String> files = resolve(List.of("true"), own, Path.of("/")).mounts().stream()
                .filter(m -> m.type() == Protocol.MOUNT_FILE).map(m -> m.target()).toList();
        assertEquals(List.of("/etc/passwd-", "/etc/group", "/etc/group-", "/etc/shadow",
                "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"), files);
        SandboxPolicy noEtc = PLAIN.toBuilder().removeMount(Path.of("/etc")).build();
        assertEquals(List.of(), resolve(List.of("true"), noEtc, Path.of("/")).mounts().stream()
                .filter(m -> m.type() == Protocol.MOUNT_FILE).toList());
    }

    @Test
    void aRootCallersWritableBindsAreIdmappedToTheirOwnerUnlessSetIdFilesAreAllowed(
            @TempDir Path dir) throws Exception {
        Path ws = Files.createDirectory(dir.resolve("ws")).toRealPath();
        Path cache = Files.createDirectory(dir.resolve("cache")).toRealPath();
        SandboxPolicy policy = PLAIN.toBuilder().workspace(ws).bind(cache, Path.of("/srv/c"))
                .bindReadOnly(cache, Path.of("/srv/r")).build();
        assertEquals(List.of(WRITABLE, WRITABLE, Protocol.MOUNT_READONLY), binds(policy, ws));
        assertEquals(List.of(0, 0, Protocol.MOUNT_READONLY),
                binds(policy.toBuilder().allowSetIdFiles(true).build(), ws));
    }

    /** The flags of the binds at ws, /srv/c and /srv/r. */
    private static List<Integer> binds(SandboxPolicy policy, Path ws) throws Exception {
        List<String> targets = List.of(ws.toString(), "/srv/c", "/srv/r");
        return resolve(List.of("true"), policy, ws).mounts().stream()
                .filter(m -> targets.contains(m.target()))
                .sorted(java.util.Comparator.comparing(m -> targets.indexOf(m.target())))
                .map(SandboxSpec.MountSpec::flags).toList();
    }

    @Test
    void theHomeItsPathsAndTheProtectedPathsInOrder(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Path ws = Files.createDirectories(real.resolve("ws/.git/hooks")).getParent().getParent();
        Files.createDirectories(real.resolve("home/.m2/repository"));
        String saved = System.getProperty("user.home");
        SandboxPolicy policy;
        System.setProperty("user.home", real.resolve("home").toString());
        try {
            policy = PLAIN.toBuilder().workspace(ws).homeReadOnly(".m2/repository")
                    .unprotect(".vscode", ".idea", ".envrc", ".gitmodules", ".git/")
                    .protect(".git/hooks/", ".git/config").build();
        } finally {
            System.setProperty("user.home", saved);
        }
        List<SandboxSpec.MountSpec> mounts = resolve(List.of("true"), policy, ws).mounts();
        String home = policy.home().toString();
        String w = ws.toString();
        // In the order made (workspace, home, its paths, protected paths), then by depth.
        List<SandboxSpec.MountSpec> expected = new ArrayList<>(List.of(
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, WRITABLE, 0, w, w),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, Protocol.MOUNT_PRIVATE, 512 * MIB,
                        "", home),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0,
                        real.resolve("home/.m2/repository").toString(), home + "/.m2/repository"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT, 0, 0, w + "/.git", w + "/.git"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT, Protocol.MOUNT_READONLY
                        | Protocol.MOUNT_CREATE | Protocol.MOUNT_DIRECTORY, 0,
                        w + "/.git/hooks", w + "/.git/hooks"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT, Protocol.MOUNT_READONLY
                        | Protocol.MOUNT_CREATE, 0, w + "/.git/config", w + "/.git/config")));
        expected.sort(java.util.Comparator.comparingInt(m -> Path.of(m.target()).getNameCount()));
        List<String> targets = expected.stream().map(SandboxSpec.MountSpec::target).toList();
        assertEquals(expected, mounts.stream().filter(m -> targets.contains(m.target()))
                .toList());
        for (int i = 1; i < mounts.size(); i++) {
            assertTrue(Path.of(mounts.get(i - 1).target()).getNameCount()
                    <= Path.of(mounts.get(i).target()).getNameCount(), "shallowest first");
        }
    }

    @Test
    void aProtectedPathThroughASymlinkFailsTheStart(@TempDir Path dir) throws Exception {
        Path ws = dir.toRealPath();
        Files.createDirectory(ws.resolve("elsewhere"));
        Files.createSymbolicLink(ws.resolve(".git"), Path.of("elsewhere"));
        SandboxPolicy policy = PLAIN.toBuilder().workspace(ws).build();
        assertEquals("protected path .git/: .git is a symbolic link, which a read-only"
                + " mount cannot cover; remove it, or leave the path unprotected"
                + " (unprotect(\".git/\"), --unprotect .git/)",
                assertThrows(SpecException.class,
                        () -> resolve(List.of("true"), policy, ws)).getMessage());
        SandboxPolicy unprotected = policy.toBuilder().unprotect(".git/").build();
        assertEquals(ws.toString(), resolve(List.of("true"), unprotected, ws).cwd());
    }

    @Test
    void subMillisecondTimeoutIsStillATimeout() throws Exception {
        SandboxPolicy policy = PLAIN.toBuilder().timeout(Duration.ofNanos(1)).build();
        assertEquals(1, resolve(List.of("true"), policy, Path.of("/")).timeoutMs());
    }

    @Test
    void theProgramsGoIntoTheSpecAsTheyAre() throws Exception {
        byte[] filter = new byte[16];
        byte[] guard = new byte[8];
        List<SandboxSpec.ReportSpec> reports = List.of(new SandboxSpec.ReportSpec(101, 1));
        SandboxSpec spec = SpecResolver.resolve(List.of("true"), PLAIN, Path.of("/"),
                new FilterPrograms(filter, reports, guard));
        assertSame(filter, spec.seccompBpf());
        assertSame(guard, spec.guardBpf());
        assertEquals(reports, spec.reports());
        assertEquals("reported system calls without a seccomp program",
                assertThrows(IllegalArgumentException.class,
                        () -> new FilterPrograms(null, reports, guard)).getMessage());
    }

    @Test
    void argumentCountBound() throws Exception {
        List<String> most = new ArrayList<>(Collections.nCopies(Protocol.MAX_ARGS, "a"));
        assertEquals(Protocol.MAX_ARGS, resolve(most, PLAIN, Path.of("/")).argv().size());
        most.add("a");
        assertEquals("the command has 65537 arguments, at most 65536",
                refused(most, Path.of("/")));
    }

    @Test
    void argumentLengthBoundCountsUtf8Bytes() throws Exception {
        String longest = "x".repeat(Protocol.MAX_STRING);
        resolve(List.of("true", longest), PLAIN, Path.of("/"));
        assertEquals("argument 1 is 65537 bytes long, at most 65536",
                refused(List.of("true", longest + "x"), Path.of("/")));
        // 32768 two-byte characters are 65536 bytes; one more is over.
        String wide = "\u00e9".repeat(Protocol.MAX_STRING / 2);
        resolve(List.of(wide), PLAIN, Path.of("/"));
        assertEquals("argument 0 is 65538 bytes long, at most 65536",
                refused(List.of(wide + "\u00e9"), Path.of("/")));
    }

    @Test
    void workingDirectoryLengthBound() throws Exception {
        Path longest = Path.of("/" + "d".repeat(Protocol.MAX_STRING - 1));
        assertEquals(longest.toString(), resolve(List.of("true"), PLAIN, longest).cwd());
        assertEquals("the working directory is 65537 bytes long, at most 65536",
                refused(List.of("true"), Path.of(longest + "d")));
    }

    @Test
    void everyProblemOfTheCallAtOnce() {
        assertEquals("argument 1 contains a NUL character: a\\0b; the working directory is"
                + " 65537 bytes long, at most 65536", refused(List.of("true", "a\0b"),
                        Path.of("/" + "d".repeat(Protocol.MAX_STRING))));
    }

    @Test
    void anAllowListBindsTheProxySocketAsksForTheForwarderAndPointsToolsAtIt() throws Exception {
        SandboxPolicy p = PLAIN.toBuilder().network(Network.allow("web.stockade.test:8080"))
                .env("JAVA_TOOL_OPTIONS", "-Xmx64m").env("HTTPS_PROXY", "http://elsewhere:1")
                .build();
        Path socket = Path.of("/tmp/stockade-egress-test/s");
        byte[] token = new byte[16];
        token[0] = 7;
        SandboxSpec spec = SpecResolver.resolve(List.of("true"), p, Path.of("/"),
                FilterPrograms.NONE, () -> null, socket, token);
        assertEquals(new SandboxSpec.EgressSpec(3128, 256, token, "/run/stockade-egress.sock"),
                spec.egress());
        assertFalse(spec.egress().toString().contains("7"), "the token is never printed");
        SandboxSpec.MountSpec bind = new SandboxSpec.MountSpec(Protocol.MOUNT_BIND,
                Protocol.MOUNT_READONLY | Protocol.MOUNT_SPECIAL, 0, socket.toString(),
                "/run/stockade-egress.sock");
        List<SandboxSpec.MountSpec> mounts = spec.mounts();
        assertTrue(mounts.contains(bind), mounts.toString());
        // After /run, which it lies in (shallowest first).
        assertTrue(mounts.indexOf(bind) > mounts.stream().map(SandboxSpec.MountSpec::target)
                .toList().indexOf("/run"));
        List<String> env = spec.environment();
        for (String v : List.of("HTTP_PROXY=http://127.0.0.1:3128",
                "HTTPS_PROXY=http://127.0.0.1:3128", "http_proxy=http://127.0.0.1:3128",
                "https_proxy=http://127.0.0.1:3128", "ALL_PROXY=socks5h://127.0.0.1:3128",
                "all_proxy=socks5h://127.0.0.1:3128", "NO_PROXY=localhost,127.0.0.1,::1",
                "no_proxy=localhost,127.0.0.1,::1",
                "JAVA_TOOL_OPTIONS=-Xmx64m -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=3128"
                        + " -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=3128"
                        + " -Dhttp.nonProxyHosts=localhost|127.*|[::1]")) {
            assertTrue(env.contains(v), v + " in " + env);
        }
        assertEquals(1, env.stream().filter(v -> v.startsWith("HTTPS_PROXY=")).count());
        // The forwarder is a process of the sandbox the command did not ask for: one more.
        long asked = p.limits().processes().getAsLong();
        assertTrue(spec.rlimits().contains(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC,
                asked + 1, asked + 1)), spec.rlimits().toString());
        // Without an allow list none of it.
        SandboxSpec none = SpecResolver.resolve(List.of("true"), PLAIN, Path.of("/"),
                FilterPrograms.NONE, () -> null, null, null);
        assertNull(none.egress());
        assertTrue(none.rlimits().contains(new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC,
                asked, asked)), none.rlimits().toString());
        assertTrue(none.environment().stream().noneMatch(v -> v.contains("PROXY")),
                none.environment().toString());
    }

    @Test
    void aWorkspaceOrWritableBindHoldingStockadesOwnFilesIsRefused(@TempDir Path dir)
            throws Exception {
        // This build's natives and classes, as the library runs them (target/classes here).
        Path natives = NativeLoader.helperPath().toRealPath().getParent();
        Path holder = natives.getParent();
        String refused = "holds Stockade's own installation (" + natives + "): a sandboxed"
                + " step could change what runs on the host next; install Stockade outside it";
        // Allowed: read-only, and a writable bind or workspace elsewhere.
        resolve(List.of("true"), SandboxPolicy.builder().bindReadOnly(holder, Path.of("/mnt"))
                .bind(dir, Path.of("/out")).workspace(dir).build(), dir);

        assertEquals("the workspace " + holder + " " + refused, assertThrows(SpecException.class,
                () -> resolve(List.of("true"), SandboxPolicy.builder().workspace(holder).build(),
                        holder)).getMessage());
        assertEquals("the writable bind of " + holder + " " + refused,
                assertThrows(SpecException.class, () -> resolve(List.of("true"),
                        SandboxPolicy.builder().bind(holder, Path.of("/mnt")).build(),
                        Path.of("/"))).getMessage());
        // Inside the natives' directory (a writable cache a step could fill) as well.
        Path inside = natives.resolve("no-such-dir").getParent();
        assertEquals("the workspace " + inside + " " + refused, assertThrows(SpecException.class,
                () -> resolve(List.of("true"), SandboxPolicy.builder().workspace(inside).build(),
                        inside)).getMessage());
    }
}
