package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.internal.Protocol;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SyscallNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every protocol bound the helper checks ({@code native/src/helper/spec.c}) is reported by
 * {@link SandboxPolicy.Builder#build()} with the other problems: a value just inside is
 * accepted, one just outside refused with its message. (The call's own bounds, its arguments
 * and working directory, are SpecResolverTest's.)
 */
class PolicyBoundsTest {

    private static List<String> problems(SandboxPolicy.Builder b) {
        return assertThrows(PolicyException.class, b::build).problems();
    }

    @Test
    void aFortyYearTimeoutIsRefusedAtBuild() {
        Duration fortyYears = Duration.ofDays(40 * 365);
        assertEquals(List.of("timeout PT350400H is too long: at most 1000000000000 ms (about 31"
                + " years)"), problems(SandboxPolicy.builder().timeout(fortyYears)));
    }

    @Test
    void durationBounds() {
        Duration most = Duration.ofMillis(Protocol.MAX_DURATION_MS);
        SandboxPolicy p = SandboxPolicy.builder().timeout(most).killGrace(most).build();
        assertEquals(Optional.of(most), p.timeout());
        Duration over = most.plusMillis(1);
        assertEquals(List.of(
                "timeout PT277777H46M40.001S is too long: at most 1000000000000 ms (about 31"
                        + " years)",
                "kill grace PT277777H46M40.001S is too long: at most 1000000000000 ms (about"
                        + " 31 years)"),
                problems(SandboxPolicy.builder().timeout(over).killGrace(over)));
    }

    @Test
    void hostnameBound() {
        // Labels are at most 63 characters: the longest name has two.
        String most = "a".repeat(31) + "." + "b".repeat(32);
        assertEquals(Protocol.MAX_HOSTNAME, most.length());
        assertEquals(Optional.of(most), SandboxPolicy.builder().hostname(most).build().hostname());
        assertEquals(List.of("hostname is 65 characters long, at most 64"),
                problems(SandboxPolicy.builder().hostname(most + "b")));
    }

    @Test
    void mountCountBoundCountsTheWorkspace(@TempDir Path dir) {
        SandboxPolicy.Builder b = SandboxPolicy.builder().clearMounts();
        for (int i = 0; i < Protocol.MAX_MOUNTS - 1; i++) {
            b.tmpfs(Path.of("/m" + i), 1);
        }
        b.workspace(dir);
        assertEquals(Protocol.MAX_MOUNTS - 1, b.build().mounts().size());
        b.tmpfs(Path.of("/one-more"), 1);
        assertEquals(List.of("more than 1024 mounts"), problems(b));
    }

    @Test
    void mountTargetBoundCountsUtf8Bytes() {
        Path most = Path.of("/" + "t".repeat(Protocol.MAX_MOUNT_PATH - 1));
        SandboxPolicy.builder().tmpfs(most, 1).build();
        Path over = Path.of(most + "t");
        assertEquals(List.of("mount target " + over + " is 4096 bytes long, at most 4095"),
                problems(SandboxPolicy.builder().tmpfs(over, 1)));
        // 2047 two-byte characters and the '/' are 4095 bytes; one more character is over.
        Path wide = Path.of("/" + "\u00e9".repeat((Protocol.MAX_MOUNT_PATH - 1) / 2));
        SandboxPolicy.builder().tmpfs(wide, 1).build();
        Path wider = Path.of(wide + "\u00e9");
        assertEquals(List.of("mount target " + wider + " is 4097 bytes long, at most 4095"),
                problems(SandboxPolicy.builder().tmpfs(wider, 1)));
    }

    @Test
    void bindSourceAndWorkspaceBound(@TempDir Path dir) throws IOException {
        Path most = longestDirectory(dir);
        assertEquals(Protocol.MAX_MOUNT_PATH, most.toString().length());
        SandboxPolicy p = SandboxPolicy.builder().workspace(most)
                .bindReadOnly(most, Path.of("/srv/src")).build();
        assertEquals(Optional.of(most), p.workspace());
        Path over = Path.of(most + "x");
        assertEquals(List.of(
                "workspace " + over + " is 4096 bytes long, at most 4095",
                "bind source " + over + " is 4096 bytes long, at most 4095"),
                problems(SandboxPolicy.builder().workspace(over)
                        .bindReadOnly(over, Path.of("/srv/src"))));
    }

    /** A directory under {@code dir} whose path is exactly STK_MAX_MOUNT_PATH bytes. */
    private static Path longestDirectory(Path dir) throws IOException {
        Path p = dir.toRealPath();
        int left = Protocol.MAX_MOUNT_PATH - p.toString().length();
        while (left > 0) {
            // "/" and a name; names of 150 while more than one of 200 is needed (NAME_MAX 255).
            int name = left - 1 > 200 ? 150 : left - 1;
            p = p.resolve("d".repeat(name));
            left -= name + 1;
        }
        return Files.createDirectories(p);
    }

    @Test
    void environmentCountBound() {
        SandboxPolicy.Builder b = SandboxPolicy.builder().unsetEnv("LANG").unsetEnv("TERM");
        for (int i = 0; i < Protocol.MAX_ENV - 2; i++) { // PATH and HOME are the other two
            b.env("V" + i, "");
        }
        assertEquals(Protocol.MAX_ENV, b.build().environment().size());
        b.env("ONE_MORE", "");
        assertEquals(List.of("the environment has 65537 variables, at most 65536"), problems(b));
    }

    @Test
    void environmentVariableBoundIsTheWholeAssignment() {
        String most = "v".repeat(Protocol.MAX_STRING - 2); // "A=" and the value
        SandboxPolicy.builder().env("A", most).build();
        assertEquals(List.of("environment variable A (as NAME=VALUE) is 65537 bytes long, at"
                + " most 65536"), problems(SandboxPolicy.builder().env("A", most + "v")));
    }

    @Test
    void kernelCountBounds() {
        Limits most = Limits.builder().ptys(Protocol.MAX_PTYS)
                .inotifyInstances(Protocol.MAX_USER_LIMIT_VALUE)
                .inotifyWatches(Protocol.MAX_USER_LIMIT_VALUE)
                .fanotifyGroups(Protocol.MAX_USER_LIMIT_VALUE)
                .fanotifyMarks(Protocol.MAX_USER_LIMIT_VALUE)
                .namespaces(Protocol.MAX_USER_LIMIT_VALUE).build();
        SandboxPolicy.builder().limits(most).build();
        Limits over = Limits.builder().ptys(Protocol.MAX_PTYS + 1)
                .namespaces(Protocol.MAX_USER_LIMIT_VALUE + 1L).build();
        assertEquals(List.of("limit ptys is 1048577: it must be 1..1048576",
                "limit namespaces is 2147483648: it must be 0..2147483647"),
                problems(SandboxPolicy.builder().limits(over)));
    }

    @Test
    void cgroupLimitBounds() {
        SandboxPolicy.builder().limits(Limits.builder().memoryBytes(Limits.MIN_MEMORY_BYTES)
                .memorySwapBytes(0).memoryBestEffort(true).cpus(Limits.MIN_CPUS)
                .processes(Limits.MAX_PROCESSES_CGROUP).build()).build();
        SandboxPolicy.builder().limits(Limits.builder().cpus(Limits.MAX_CPUS).build()).build();
        assertEquals(List.of("limit memoryBytes is 4194303, below the minimum of 4194304 (the"
                + " kernel would end every process at once)",
                "limit cpus is 0.005: it must be 0.01..4096.0 (a fraction of one CPU's time, such"
                + " as 0.5)",
                "limit processes is 4194305: with a cgroup (memoryBytes or cpus) it is pids.max,"
                + " at most 4194304"),
                problems(SandboxPolicy.builder().limits(Limits.builder()
                        .memoryBytes(Limits.MIN_MEMORY_BYTES - 1).cpus(0.005)
                        .processes(Limits.MAX_PROCESSES_CGROUP + 1).build())));
        assertEquals(List.of("limit memorySwapBytes needs memoryBytes (swap is bounded per"
                + " cgroup, beside its memory)", "limit memoryBestEffort needs memoryBytes",
                "limit cpus is NaN: it must be 0.01..4096.0 (a fraction of one CPU's time, such"
                + " as 0.5)"),
                problems(SandboxPolicy.builder().limits(Limits.builder().memorySwapBytes(0)
                        .memoryBestEffort(true).cpus(Double.NaN).build())));
        assertEquals(List.of("limit memorySwapBytes is negative (-2)",
                "limit cpus is 4096.5: it must be 0.01..4096.0 (a fraction of one CPU's time,"
                + " such as 0.5)"),
                problems(SandboxPolicy.builder().limits(Limits.builder().memoryBytes(1L << 30)
                        .memorySwapBytes(-2).cpus(4096.5).build())));
    }

    @Test
    void idBounds() {
        SandboxPolicy p = SandboxPolicy.builder().uid(Integer.MAX_VALUE).gid(0).build();
        assertEquals(Integer.MAX_VALUE, p.uid());
        assertEquals(List.of("uid 2147483648 is out of range (0..2147483647)"),
                problems(SandboxPolicy.builder().uid(Integer.MIN_VALUE)));
    }

    @Test
    void boundsAreReportedWithTheOtherProblems() {
        assertEquals(List.of("environment variable name is empty",
                "timeout PT350400H is too long: at most 1000000000000 ms (about 31 years)",
                "hostname is 65 characters long, at most 64"),
                problems(SandboxPolicy.builder().hostname("h".repeat(65)).env("", "x")
                        .timeout(Duration.ofDays(40 * 365))));
    }

    /**
     * REPORT fields come from a valid profile, whose syscalls and errnos are within the
     * helper's bounds by construction: this is what makes that so.
     */
    @Test
    void reportFieldsAreWithinTheHelpersBoundsByConstruction() throws IOException {
        assertTrue(SeccompAction.MAX_ERRNO <= Protocol.MAX_REPORT_ERRNO);
        assertTrue(SyscallNames.all().size() <= Protocol.MAX_REPORTS,
                "a report default reports every syscall: " + SyscallNames.all().size());
        SeccompProfile everything = SeccompProfile.builder()
                .defaultAction(SeccompAction.report(SeccompAction.MAX_ERRNO))
                .rule(new SeccompRule("sendmsg", SeccompAction.ALLOW, List.of())).build();
        assertEquals(List.of(), everything.problems());
        List<SandboxSpec.ReportSpec> reports = everything.reportSpecs();
        assertTrue(reports.size() > 300 && reports.size() <= Protocol.MAX_REPORTS,
                reports.size() + " REPORT fields");
        for (SandboxSpec.ReportSpec r : reports) {
            assertTrue(r.syscall() >= 0 && r.syscall() < Protocol.MAX_REPORT_NR, r.toString());
            assertTrue(r.errno() <= Protocol.MAX_REPORT_ERRNO, r.toString());
        }
    }

    @Test
    void setUpTimeoutAndOutputBoundAreCheckedAtBuild() {
        SandboxPolicy defaults = SandboxPolicy.defaults();
        assertEquals(SandboxPolicy.DEFAULT_SETUP_TIMEOUT, defaults.setupTimeout());
        assertEquals(Duration.ofSeconds(30), defaults.setupTimeout());
        assertTrue(defaults.maxOutputBytes().isEmpty());

        SandboxPolicy most = SandboxPolicy.builder().setupTimeout(Duration.ofMillis(
                Protocol.MAX_DURATION_MS)).maxOutputBytes(Protocol.MAX_OUTPUT_BYTES)
                .killAtMaxOutput(true).build();
        assertEquals(Protocol.MAX_OUTPUT_BYTES, most.maxOutputBytes().getAsLong());
        assertTrue(most.killsAtMaxOutput());
        assertEquals(most.maxOutputBytes(), most.toBuilder().build().maxOutputBytes());
        assertEquals(most.setupTimeout(), most.toBuilder().build().setupTimeout());

        assertEquals(List.of("set-up timeout PT0S is not positive",
                "max output -1 bytes is out of range (1..4611686018427387904)"),
                problems(SandboxPolicy.builder().setupTimeout(Duration.ZERO)
                        .maxOutputBytes(-1)));
        assertEquals(List.of("set-up timeout PT277777H46M40.001S is too long: at most"
                + " 1000000000000 ms (about 31 years)",
                "max output 4611686018427387905 bytes is out of range (1..4611686018427387904)"),
                problems(SandboxPolicy.builder()
                        .setupTimeout(Duration.ofMillis(Protocol.MAX_DURATION_MS + 1))
                        .maxOutputBytes(Protocol.MAX_OUTPUT_BYTES + 1)));
        assertEquals(List.of("killAtMaxOutput needs maxOutputBytes"),
                problems(SandboxPolicy.builder().killAtMaxOutput(true)));
    }
}
