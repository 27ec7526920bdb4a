package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run --profile}: shipped names, files in either format, {@code none}, and the
 * summary of denied calls on stderr and in the {@code --report} JSON, with a real system call
 * that a {@code report} rule catches.
 */
class RunProfileTest {

    @TempDir
    Path workspace;

    /** Outside the workspace: the CLI refuses a report path the command can write. */
    @TempDir
    Path reports;

    private Result run(List<String> options, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(command));
        return CliProcess.run(workspace, args.toArray(String[]::new));
    }

    /**
     * ptrace(PTRACE_ATTACH, 999999) three times, printing each errno: ESRCH (3) from the
     * kernel (no such process), EPERM (1) when a filter denies it.
     */
    private static final String PTRACE_THRICE = String.join("\n",
            "import ctypes",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "for _ in range(3):",
            "    ctypes.set_errno(0)",
            "    r = libc.syscall(ctypes.c_long(101), ctypes.c_long(16), ctypes.c_long(999999),"
                    + " ctypes.c_long(0), ctypes.c_long(0))",
            "    print(0 if r == 0 else ctypes.get_errno())");

    private static String reason(String profile, String syscall) {
        for (SeccompRule rule : SeccompProfile.named(profile).rules()) {
            if (rule.syscall().equals(syscall) && rule.action().isReport()) {
                return rule.reason();
            }
        }
        throw new AssertionError(profile + " has no report rule for " + syscall);
    }

    @Test
    void withoutAFilterPtraceReachesTheKernel() throws Exception {
        Result r = run(List.of("--profile", "none"), "/usr/bin/python3", "-c", PTRACE_THRICE);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("3\n3\n3\n", r.stdout());
        assertEquals("stockade: warning: --profile none: no seccomp filter, the command may"
                + " make any system call\n", r.stderr());
    }

    @Test
    void aReportDeniedCallIsSummedUpOnStderrAndInTheReport() throws Exception {
        Path report = reports.resolve("report.json");
        Result r = run(List.of("--report", report.toString()), "/usr/bin/python3", "-c",
                PTRACE_THRICE);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1\n1\n1\n", r.stdout());
        assertEquals("stockade: denied ptrace x3 (build profile: " + reason("build", "ptrace")
                + ")\n", r.stderr());

        JsonNode violations = new ObjectMapper().readTree(report.toFile()).get("violations");
        assertEquals(1, violations.size(), violations.toString());
        JsonNode v = violations.get(0);
        assertEquals("ptrace", v.get("syscall").asText());
        assertEquals(101, v.get("number").asInt());
        assertEquals(1, v.get("errno").asInt());
        assertEquals("EPERM", v.get("errnoName").asText());
        assertEquals(3, v.get("count").asLong());
        assertTrue(v.get("pid").asInt() > 1, v.toString());
        // The first call's argument registers: ptrace takes four; the last two hold whatever
        // the registers held.
        JsonNode arguments = v.get("arguments");
        assertEquals(6, arguments.size(), arguments.toString());
        assertEquals(List.of(16L, 999999L, 0L, 0L), List.of(arguments.get(0).asLong(),
                arguments.get(1).asLong(), arguments.get(2).asLong(), arguments.get(3).asLong()));
        assertEquals(reason("build", "ptrace"), v.get("reason").asText());
        assertEquals("build", v.get("profile").asText());
    }

    @Test
    void theAuditProfileLetsTheCallRunAndSaysItWouldDenyIt() throws Exception {
        Result r = run(List.of("--profile", "audit"), "/usr/bin/python3", "-c", PTRACE_THRICE);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("3\n3\n3\n", r.stdout());
        assertEquals("stockade: warning: --profile audit denies no system call; it records"
                + " what build would deny, for trying a step\n"
                + "stockade: audit: would deny ptrace x3 (audit profile: "
                + reason("audit", "ptrace") + ")\n", r.stderr());
    }

    @Test
    void noSummaryWhenNothingWasCaught() throws Exception {
        Path report = reports.resolve("report.json");
        Result r = run(List.of("--report", report.toString()), "/bin/sh", "-c", "echo fine");
        assertEquals(new Result(0, "fine\n", ""), r);
        assertEquals("[]", new ObjectMapper().readTree(report.toFile()).get("violations")
                .toString());
    }

    @Test
    void profilesFromFilesInEitherFormat() throws Exception {
        Path text = Files.writeString(workspace.resolve("mine.policy"), "default allow\n"
                + "ptrace -> report(EACCES)   # no debuggers here\n");
        Result fromText = run(List.of("--profile", text.toString()), "/usr/bin/python3", "-c",
                PTRACE_THRICE);
        assertEquals(new Result(0, "13\n13\n13\n",
                "stockade: denied ptrace x3 (mine profile: no debuggers here)\n"), fromText);

        Path json = Files.writeString(workspace.resolve("oci.json"), "{\"defaultAction\":"
                + " \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"ptrace\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95}]}");
        Result fromJson = run(List.of("--profile", json.toString()), "/usr/bin/python3", "-c",
                PTRACE_THRICE);
        assertEquals(new Result(0, "95\n95\n95\n", ""), fromJson);
    }

    @Test
    void theContainersProfileRunsAShellPipeline() throws Exception {
        Path containers = Path.of("/usr/share/containers/seccomp.json");
        assumeTrue(Files.isReadable(containers), "containers-common is not installed");
        Result r = run(List.of("--profile", containers.toString()), "/bin/sh", "-c",
                "printf 'b\\na\\n' | sort | tr a-z A-Z");
        assertEquals(new Result(0, "A\nB\n", ""), r);
    }

    @Test
    void aStrictProfileRuns() throws Exception {
        Result r = run(List.of("--profile", "strict"), "/bin/sh", "-c", "echo strict");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("strict\n", r.stdout());
    }

    @Test
    void aBadProfileIsBadInputAndNothingRuns() throws Exception {
        Path marker = workspace.resolve("ran");
        Path missing = workspace.resolve("missing.policy");
        Result r = run(List.of("--profile", missing.toString()), "/bin/sh", "-c",
                "touch " + marker);
        assertEquals(new Result(2, "", "stockade: invalid profile: " + missing + ": no such"
                + " file (and not a profile name: build, strict, audit)\n"
                + "Try 'stockade run --help'\n"), r);
        Path bad = Files.writeString(workspace.resolve("bad.json"), "{\"defaultAction\":"
                + " \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
                + " \"action\": \"SCMP_ACT_SOMETIMES\"}]}");
        Result invalid = run(List.of("--profile", bad.toString()), "/bin/sh", "-c",
                "touch " + marker);
        assertEquals(2, invalid.exitCode(), invalid.toString());
        assertTrue(invalid.stderr().startsWith("stockade: invalid profile: " + bad
                + ": syscalls[0].action: unknown action \"SCMP_ACT_SOMETIMES\""),
                invalid.stderr());
        assertTrue(Files.notExists(marker), "the command ran");
    }
}
