package dev.stockade.benchmarks;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one spawn of {@code /bin/true}, from start to reaped: a plain
 * {@link ProcessBuilder} (the baseline) against Stockade with the default policy and with the
 * network namespace off (a new network namespace is the single most expensive part).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpawnBenchmark {
    private SandboxPolicy defaults;
    private SandboxPolicy hostNetwork;

    @Setup
    public void compilePolicies() {
        defaults = SandboxPolicy.defaults();
        hostNetwork = SandboxPolicy.builder().network(dev.stockade.Network.HOST).build();
    }

    @Benchmark
    public int processBuilder() throws IOException, InterruptedException {
        return new ProcessBuilder("/bin/true").start().waitFor();
    }

    @Benchmark
    public int sandboxDefaultPolicy() throws IOException, InterruptedException {
        return Sandbox.command("/bin/true").policy(defaults).start().waitFor();
    }

    @Benchmark
    public int sandboxHostNetwork() throws IOException, InterruptedException {
        return Sandbox.command("/bin/true").policy(hostNetwork).start().waitFor();
    }
}
