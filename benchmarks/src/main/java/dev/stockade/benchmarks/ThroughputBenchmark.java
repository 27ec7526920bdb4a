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
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spawns of {@code /bin/true} per second with 1, 2 and 8 threads spawning at once, with the
 * default policy and with the host network: the kernel serialises network namespace creation,
 * so the two show whether the spawn scales to the cores and what the network namespace costs
 * under contention. The method name ends in the thread count (the renderer reads it there).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class ThroughputBenchmark {
    private final SandboxPolicy defaults = SandboxPolicy.defaults();
    private final SandboxPolicy hostNetwork = Spawns.hostNetwork();

    private int spawn(SandboxPolicy policy) throws IOException, InterruptedException {
        return Spawns.requireSuccess(java.util.List.of(Spawns.TRUE),
                Sandbox.command(Spawns.TRUE).policy(policy).start().waitFor());
    }

    @Benchmark @Threads(1)
    public int defaultPolicy1() throws IOException, InterruptedException {
        return spawn(defaults);
    }

    @Benchmark @Threads(2)
    public int defaultPolicy2() throws IOException, InterruptedException {
        return spawn(defaults);
    }

    @Benchmark @Threads(8)
    public int defaultPolicy8() throws IOException, InterruptedException {
        return spawn(defaults);
    }

    @Benchmark @Threads(1)
    public int hostNetwork1() throws IOException, InterruptedException {
        return spawn(hostNetwork);
    }

    @Benchmark @Threads(2)
    public int hostNetwork2() throws IOException, InterruptedException {
        return spawn(hostNetwork);
    }

    @Benchmark @Threads(8)
    public int hostNetwork8() throws IOException, InterruptedException {
        return spawn(hostNetwork);
    }
}
