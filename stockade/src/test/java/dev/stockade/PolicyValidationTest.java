package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.CallerIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Building a policy: the defaults, and every problem reported at once. */
class PolicyValidationTest {

    private static List<String> problems(SandboxPolicy.Builder b) {
        return assertThrows(PolicyException.class, b::build).problems();
    }

    @Test
    void hostPathsThroughASymlinkAreRefused(@TempDir Path dir) throws Exception {
        Path secret = Files.createDirectory(dir.resolve("secret"));
        Path link = Files.createSymbolicLink(dir.resolve("cache"), secret);
        // The allowed case: the real path.
        SandboxPolicy.builder().workspace(secret).bind(secret, Path.of("/tmp/cache")).build();
        assertEquals(List.of(
                "workspace " + link + " goes through a symbolic link (it is " + secret
                        + "): give the real path",
                "bind source " + link + " goes through a symbolic link (it is " + secret
                        + "): give the real path"),
                problems(SandboxPolicy.builder().workspace(link)
                        .bind(link, Path.of("/tmp/cache"))));
    }

    @Test
    void errnoRangeIsWhatLibseccompCompiles() throws Exception {
        // The kernel's MAX_ERRNO is 4095 but libseccomp refuses it: found by fuzzing the OCI
        // import, where 4095 passed validation and failed at compile time.
        byte[] program = SeccompProfile.builder().deny("getpid", 4094).build().compile();
        assertTrue(program.length > 0 && program.length % 8 == 0, "a BPF program");
        assertEquals(List.of("seccomp rule 'getpid -> ERRNO(errno 4095)': errno 4095 is outside"
                + " 1..4094"), SeccompProfile.builder().deny("getpid", 4095).build().problems());
    }

    @Test
    void defaults() {
        SandboxPolicy p = SandboxPolicy.defaults();
        assertSame(p, SandboxPolicy.defaults());
        assertEquals(EnumSet.allOf(Namespace.class), p.namespaces());
        assertEquals(Network.NONE, p.network());
        assertEquals(Optional.empty(), p.workspace());
        // The host's system directories (ViewPolicyTest has their exact list), then the tmpfs.
        assertEquals(List.of(Mount.tmpfs(Path.of("/tmp"), 512L * 1024 * 1024),
                Mount.tmpfs(Path.of("/run"), 16L * 1024 * 1024),
                Mount.tmpfs(Path.of("/var/tmp"), 512L * 1024 * 1024)),
                p.mounts().subList(p.mounts().size() - 3, p.mounts().size()));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", p.home().toString());
        for (String name : List.of("LANG", "TERM")) {
            if (System.getenv(name) != null) {
                env.put(name, System.getenv(name));
            }
        }
        assertEquals(env, p.environment());
        assertEquals(OptionalLong.of(0), p.limits().coreBytes());
        assertEquals(OptionalLong.of(4096), p.limits().openFiles());
        assertEquals(OptionalLong.of(1024), p.limits().openFilesSoft());
        assertEquals(OptionalLong.of(4096), p.limits().processes());
        assertEquals(OptionalLong.of(64), p.limits().ptys());
        assertEquals(OptionalLong.of(32), p.limits().inotifyInstances());
        assertEquals(OptionalLong.of(8), p.limits().namespaces());
        assertFalse(p.allowsSetIdFiles());
        assertEquals(Optional.empty(), p.timeout());
        assertEquals(Duration.ofSeconds(2), p.killGrace());
        int expectedId = CallerIds.isRoot() ? 65534 : CallerIds.uid();
        assertEquals(expectedId, p.uid());
        assertEquals(CallerIds.isRoot() ? 65534 : CallerIds.gid(), p.gid());
        assertEquals(Optional.of("stockade"), p.hostname());
        assertSame(SeccompProfile.defaults(), p.seccomp());
    }

    @Test
    void everyProblemAtOnce(@TempDir Path dir) {
        SandboxPolicy.Builder b = SandboxPolicy.builder()
                .workspace(Path.of("relative/ws"))
                .bindReadOnly(dir.resolve("missing"), Path.of("/opt/x"))
                .bind(dir, Path.of("not/absolute"))
                .tmpfs(Path.of("/opt/x"), 1024)
                .env("", "v").env("A=B", "v").env("OK", "a\0b")
                .limits(Limits.builder().openFiles(2).processes(0).build())
                .timeout(Duration.ofSeconds(-1))
                .hostname("-bad-")
                .seccomp(SeccompProfile.builder().deny("ptrac", 1).build());
        List<String> expected = List.of(
                "workspace relative/ws is not an absolute path",
                "bind source " + dir.resolve("missing") + " does not exist",
                "mount target not/absolute is not an absolute path (bind " + dir
                        + " -> not/absolute)",
                "two mounts on /opt/x: bind-ro " + dir.resolve("missing")
                        + " -> /opt/x and tmpfs /opt/x (1024 bytes)",
                "environment variable name is empty",
                "environment variable name 'A=B' contains '=' or NUL",
                "environment variable OK has a value containing NUL",
                "limit openFiles is 2, below the minimum of 3 (every process needs stdin,"
                        + " stdout and stderr)",
                "limit processes is 0: it must be at least 1 (the command itself is a process)",
                "timeout PT-1S is not positive (use null for none)",
                "hostname '-bad-' is not a valid host name (labels of letters, digits and"
                        + " inner '-', separated by '.')",
                "seccomp rule 'ptrac -> ERRNO(EPERM)': unknown system call 'ptrac' (did you"
                        + " mean ptrace?)");
        PolicyException e = assertThrows(PolicyException.class, b::build);
        assertEquals(expected, e.problems());
        assertTrue(e.getMessage().startsWith("invalid sandbox policy (12 problems):\n  - "));
    }

    @Test
    void didYouMeanOffersTheClosestNames() {
        List<String> p = problems(SandboxPolicy.builder().seccomp(SeccompProfile.builder()
                .deny("open_by_handle", 1).deny("mkdirr", 1).deny("zzzzzzzzzzzzzzzz", 1)
                .build()));
        assertEquals(List.of(
                "seccomp rule 'open_by_handle -> ERRNO(EPERM)': unknown system call"
                        + " 'open_by_handle' (did you mean open_by_handle_at?)",
                "seccomp rule 'mkdirr -> ERRNO(EPERM)': unknown system call 'mkdirr' (did you"
                        + " mean mkdir, mkdirat?)",
                "seccomp rule 'zzzzzzzzzzzzzzzz -> ERRNO(EPERM)': unknown system call"
                        + " 'zzzzzzzzzzzzzzzz'"), p);
    }

    @Test
    void seccompRuleShapes() {
        List<String> p = problems(SandboxPolicy.builder().seccomp(SeccompProfile.builder()
                .deny("read", 0)
                .rule(new SeccompRule("write", SeccompAction.ALLOW, List.of()))
                .denyIf("ioctl", 1, SeccompCondition.equal(1, 1), SeccompCondition.equal(1, 2))
                .denyIf("mmap", 1, SeccompCondition.equal(6, 1))
                .build()));
        assertEquals(List.of(
                "seccomp rule 'read -> ERRNO(errno 0)': errno 0 is outside 1..4094",
                "seccomp rule 'write -> ALLOW': the action allow is the profile's default, so"
                        + " the rule has no effect; libseccomp refuses such rules",
                "seccomp rule 'ioctl [arg1 == 0x1, arg1 == 0x2] -> ERRNO(EPERM)': a second"
                        + " condition on arg1: a rule can test each argument once (libseccomp's"
                        + " limit); write one rule per alternative",
                "seccomp rule 'mmap [arg6 == 0x1] -> ERRNO(EPERM)': argument index 6 is outside"
                        + " 0..5"), p);
    }

    @Test
    void userNamespaceOnlyOptionalForRoot() {
        SandboxPolicy.Builder b = SandboxPolicy.builder().disable(Namespace.USER);
        if (CallerIds.isRoot()) {
            assertFalse(b.build().namespaces().contains(Namespace.USER));
        } else {
            assertEquals(List.of("the USER namespace cannot be disabled by an unprivileged"
                    + " caller (uid " + CallerIds.uid() + "): every other namespace needs it"),
                    problems(b));
        }
    }

    @Test
    void hostnameRules() {
        assertEquals(List.of("hostname is 65 characters long, at most 64"),
                problems(SandboxPolicy.builder().hostname("a".repeat(65))));
        assertEquals(List.of("hostname is empty"), problems(SandboxPolicy.builder().hostname("")));
        assertEquals(List.of("hostname 'x' needs the UTS namespace, which is disabled"),
                problems(SandboxPolicy.builder().disable(Namespace.UTS).hostname("x")));
        assertEquals(Optional.of("build-01.example"),
                SandboxPolicy.builder().hostname("build-01.example").build().hostname());
        assertEquals(Optional.empty(),
                SandboxPolicy.builder().disable(Namespace.UTS).build().hostname());
    }

    @Test
    void limitMinimums() {
        List<String> p = problems(SandboxPolicy.builder().limits(Limits.builder()
                .fileSizeBytes(-2).cpuTimeSeconds(0).addressSpaceBytes(4096).stackBytes(1024)
                .coreBytes(-3).build()));
        assertEquals(List.of(
                "limit fileSizeBytes is negative (-2)",
                "limit cpuTimeSeconds is 0: it must be at least 1",
                "limit addressSpaceBytes is 4096, below the minimum of 16777216 (no process"
                        + " starts with less)",
                "limit stackBytes is 1024, below the minimum of 65536 (execve needs room for the"
                        + " arguments and environment)",
                "limit coreBytes is negative (-3): use 0 for no core dumps"), p);
    }

    @Test
    void mountRules(@TempDir Path dir) {
        assertEquals(List.of("mount target / would replace the whole view (tmpfs / (10 bytes))",
                "tmpfs at /x has size 0: it must be positive"),
                problems(SandboxPolicy.builder().tmpfs(Path.of("/"), 10).tmpfs(Path.of("/x"), 0)));
        assertEquals(List.of("two mounts on " + dir + ": the workspace and tmpfs " + dir
                + " (1 bytes)"), problems(SandboxPolicy.builder().workspace(dir)
                .tmpfs(dir, 1)));
        assertEquals(List.of("two mounts on /tmp: tmpfs /tmp (536870912 bytes) and tmpfs /tmp"
                + " (1 bytes)"), problems(SandboxPolicy.builder().tmpfs(Path.of("/tmp/"), 1)));
        assertEquals(List.of("mounts and the workspace need the MOUNT namespace, which is"
                + " disabled (clearMounts() and no workspace, or enable it)"),
                problems(SandboxPolicy.builder().disable(Namespace.MOUNT)));
        assertTrue(SandboxPolicy.builder().disable(Namespace.MOUNT).clearMounts().build()
                .mounts().isEmpty());
        assertEquals(List.of("workspace / would make the whole host writable"),
                problems(SandboxPolicy.builder().workspace(Path.of("/"))));
    }

    @Test
    void workspaceMustBeADirectory(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("f"), "x");
        assertEquals(List.of("workspace " + file + " is not a directory"),
                problems(SandboxPolicy.builder().workspace(file)));
    }

    @Test
    void networkIsTheNetworkNamespace() {
        SandboxPolicy host = SandboxPolicy.builder().network(Network.HOST).build();
        assertEquals(Network.HOST, host.network());
        assertFalse(host.namespaces().contains(Namespace.NETWORK));
        SandboxPolicy disabled = SandboxPolicy.builder().disable(Namespace.NETWORK).build();
        assertEquals(Network.HOST, disabled.network());
        assertEquals(Network.NONE, host.toBuilder().network(Network.NONE).build().network());
    }

    @Test
    void environmentOrderOverridesAndPassing() {
        String callerVar = System.getenv().keySet().stream()
                .filter(k -> !List.of("PATH", "HOME", "LANG", "TERM").contains(k))
                .sorted().findFirst().orElseThrow();
        SandboxPolicy p = SandboxPolicy.builder().unsetEnv("LANG").unsetEnv("TERM")
                .env("HOME", "/work").passEnv(callerVar).passEnv("STOCKADE_SURELY_UNSET")
                .env("Z", "1").build();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        expected.put("HOME", "/work");
        expected.put(callerVar, System.getenv(callerVar));
        expected.put("Z", "1");
        assertEquals(expected, p.environment());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(p.environment().keySet()));
    }

    @Test
    void toBuilderKeepsEverything(@TempDir Path dir) {
        SandboxPolicy p = SandboxPolicy.builder().workspace(dir).network(Network.HOST)
                .bindReadOnly(dir, Path.of("/srv/ro")).env("A", "1")
                .limits(Limits.builder().openFiles(64).build()).timeout(Duration.ofSeconds(5))
                .killGrace(Duration.ofMillis(10)).uid(7).gid(8).hostname("h")
                .seccomp(SeccompProfile.none()).build();
        SandboxPolicy q = p.toBuilder().build();
        assertEquals(p.workspace(), q.workspace());
        assertEquals(p.namespaces(), q.namespaces());
        assertEquals(p.mounts(), q.mounts());
        assertEquals(p.environment(), q.environment());
        assertEquals(p.limits(), q.limits());
        assertEquals(p.timeout(), q.timeout());
        assertEquals(p.killGrace(), q.killGrace());
        assertEquals(7, q.uid());
        assertEquals(8, q.gid());
        assertEquals(Optional.of("h"), q.hostname());
        assertSame(SeccompProfile.none(), q.seccomp());
    }

    @Test
    void policiesAreImmutable(@TempDir Path dir) {
        SandboxPolicy.Builder b = SandboxPolicy.builder();
        SandboxPolicy p = b.build();
        b.workspace(dir).env("LATER", "x").tmpfs(Path.of("/later"), 1);
        assertEquals(Optional.empty(), p.workspace());
        assertFalse(p.environment().containsKey("LATER"));
        assertEquals(SandboxPolicy.builder().build().mounts(), p.mounts());
        assertThrows(UnsupportedOperationException.class, () -> p.mounts().clear());
        assertThrows(UnsupportedOperationException.class, () -> p.environment().clear());
        assertThrows(UnsupportedOperationException.class, () -> p.namespaces().clear());
    }

    @Test
    void durations() {
        assertEquals(List.of("timeout PT0S is not positive (use null for none)",
                "kill grace PT-0.001S is negative"), problems(SandboxPolicy.builder()
                .timeout(Duration.ZERO).killGrace(Duration.ofMillis(-1))));
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE / 1000 + 1); // overflows millis
        assertEquals(List.of("timeout " + huge + " is too long: at most 1000000000000 ms (about"
                + " 31 years)"),
                problems(SandboxPolicy.builder().timeout(huge)));
        assertEquals(Optional.empty(), SandboxPolicy.builder().timeout(null).build().timeout());
    }

    @Test
    void idsMustNotBeNegative() {
        assertEquals(List.of("uid 4294967295 is out of range (0..2147483647)",
                "gid 4294967294 is out of range (0..2147483647)"),
                problems(SandboxPolicy.builder().uid(-1).gid(-2)));
    }

    @Test
    void anAllowListIsCheckedAtBuildWithEveryOtherSetting() {
        assertEquals(List.of("network allow entry \"*:443\" is too wide: it names every host",
                "network empty allow entry: name a host",
                "network deny entry \"*\" is too wide: it names every host"),
                problems(SandboxPolicy.builder().network(Network.allow("*:443", "")
                        .deny("*"))));
        assertEquals(List.of("the network allow list needs the NETWORK namespace, which is"
                        + " disabled"),
                problems(SandboxPolicy.builder().network(Network.allow("example.org"))
                        .disable(Namespace.NETWORK)));
        assertEquals(List.of("mount target /run/stockade-egress.sock is where the network"
                        + " allow list's proxy socket goes"),
                problems(SandboxPolicy.builder().network(Network.allow("example.org"))
                        .tmpfs(Path.of("/run/stockade-egress.sock"), 4096)));
        SandboxPolicy p = SandboxPolicy.builder().network(Network.allow("example.org")
                .deny("bad.example.org")).build();
        assertEquals(Network.allow("example.org").deny("bad.example.org"), p.network());
        assertEquals(Network.Mode.ALLOW_LIST, p.network().mode());
        assertTrue(p.namespaces().contains(Namespace.NETWORK));
        assertEquals(p.network(), p.toBuilder().build().network());
        // Back to no network or the host's: the list goes.
        assertEquals(Network.NONE, p.toBuilder().network(Network.NONE).build().network());
        assertEquals(Network.HOST, p.toBuilder().network(Network.HOST).build().network());
        assertThrows(IllegalStateException.class, () -> Network.NONE.deny("x.org"));
    }
}
