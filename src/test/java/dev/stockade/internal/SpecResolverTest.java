package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stockade.Limits;
import dev.stockade.Namespace;
import dev.stockade.Network;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
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

    private static SandboxSpec resolve(List<String> argv, SandboxPolicy policy, Path cwd)
            throws SpecException {
        return SpecResolver.resolve(argv, policy, cwd, FilterPrograms.NONE);
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
        assertEquals(List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp"),
                spec.environment());
        assertEquals("stockade", spec.hostname());
        assertEquals(List.of(new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0,
                512L * 1024 * 1024, "", "/tmp"), new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS,
                0, 16L * 1024 * 1024, "", "/run")), spec.mounts());
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
        assertEquals(List.of(
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 512L * 1024 * 1024, "", "/tmp"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_TMPFS, 0, 16L * 1024 * 1024, "", "/run"),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, 0, 0, dir.toString(),
                        dir.toString()),
                new SandboxSpec.MountSpec(Protocol.MOUNT_BIND, Protocol.MOUNT_READONLY, 0, "/usr",
                        "/tmp/a/b/usr")), spec.mounts());
        assertEquals(List.of(
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NOFILE, 100, 100),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_NPROC, 50, 50),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_FSIZE, 1 << 20, 1 << 20),
                new SandboxSpec.RlimitSpec(Protocol.RLIMIT_CPU, 9, 9),
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
}
