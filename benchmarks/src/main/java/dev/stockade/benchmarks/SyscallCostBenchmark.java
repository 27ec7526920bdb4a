package dev.stockade.benchmarks;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
 * What one allowed system call costs under the {@code build} filter: the project's
 * {@code try-syscall --loop N} makes the call N times, inside a sandbox of the default policy
 * (the {@code build} profile) and outside it; the same with 1 call is the baseline of the same
 * size, so the renderer takes (t(N) - t(1)) / (N - 1) per call and compares inside with outside.
 * The tool comes from the library's build: the environment variable {@value #TOOL_VARIABLE} (run.sh sets it; JMH's forks inherit it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class SyscallCostBenchmark {
    static final String TOOL_VARIABLE = "STOCKADE_BENCH_TRY_SYSCALL";

    @Param({"getppid", "ioctl", "openat", "read"})
    public String syscall;

    @Param({"1", "200000"})
    public int calls;

    @Param({"outside", "inside"})
    public String where;

    private List<String> command;
    private SandboxPolicy policy;

    @Setup
    public void locateTool() {
        String tool = System.getenv(TOOL_VARIABLE);
        if (tool == null || !Files.isExecutable(Path.of(tool))) {
            throw new IllegalStateException(TOOL_VARIABLE
                    + " must name the built try-syscall (stockade/target/native/tools/try-syscall): " + tool);
        }
        Path binary = Path.of(tool).toAbsolutePath();
        command = List.of(binary.toString(), "--loop", Integer.toString(calls), syscall);
        policy = SandboxPolicy.builder().seccomp(SeccompProfile.named("build"))
                .bindReadOnly(binary.getParent(), binary.getParent()).build();
    }

    @Benchmark
    public int loop() throws IOException, InterruptedException {
        if (where.equals("outside")) {
            return Spawns.run(command, null);
        }
        return Spawns.requireSuccess(command, Sandbox.command(command).policy(policy)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
    }
}
