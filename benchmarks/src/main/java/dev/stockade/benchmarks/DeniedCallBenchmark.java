package dev.stockade.benchmarks;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SeccompProfile;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a denied system call costs: a sandboxed python3 calls {@code ptrace} {@code calls} times
 * under a profile that denies it with a plain {@code errno(EPERM)} or with {@code report}
 * (a round trip to the sandbox's pid 1 per call). The run with 1 call is the baseline of the
 * same size: {@link RunBenchmarks} prints (time(N) - time(1)) / (N - 1) per denied call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 3)
@Fork(1)
public class DeniedCallBenchmark {
    /** How many times the step calls ptrace. */
    @Param({"1", "20000"})
    public int calls;

    /** How the profile denies ptrace. */
    @Param({"errno", "report"})
    public String denial;

    private SandboxPolicy policy;
    private String program;

    @Setup
    public void prepare() {
        SeccompProfile profile = SeccompProfile.parse("default allow\nptrace -> "
                + (denial.equals("report") ? "report" : "errno(EPERM)") + "\n", denial);
        policy = SandboxPolicy.builder().seccomp(profile).build();
        program = "import ctypes\n"
                + "ptrace = ctypes.CDLL(None, use_errno=True).ptrace\n"
                + "for _ in range(" + calls + "):\n"
                + "    ptrace(3, 0, 0, 0)\n";
    }

    @Benchmark
    public SandboxResult denyInALoop() throws IOException, InterruptedException {
        SandboxResult result = Sandbox.command("/usr/bin/python3", "-c", program).policy(policy)
                .start().result();
        if (result.exitCode() != 0) {
            throw new IllegalStateException("the step failed: " + result);
        }
        return result;
    }
}
