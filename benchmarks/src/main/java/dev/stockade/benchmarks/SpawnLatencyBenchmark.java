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
 * One spawn of {@code /bin/true}, from start to reaped, as a latency distribution
 * (p50/p90/p99): a plain {@link ProcessBuilder} (the baseline every ratio is taken to), Stockade
 * with no namespace, with every namespace (no filter), with its full default policy (cold) and
 * with the host network, and bwrap in its typical configuration through ProcessBuilder (left out
 * of the run, and said so, when bwrap is not installed: see {@link RunBenchmarks}). The warm
 * spawn is {@code WarmSpawnBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class SpawnLatencyBenchmark {
    private SandboxPolicy noNamespaces;
    private SandboxPolicy allNamespaces;
    private SandboxPolicy defaults;
    private SandboxPolicy hostNetwork;

    @Setup
    public void compilePolicies() {
        noNamespaces = Spawns.noNamespaces();
        allNamespaces = Spawns.allNamespaces();
        defaults = SandboxPolicy.defaults();
        hostNetwork = Spawns.hostNetwork();
    }

    @Benchmark
    public int processBuilder() throws IOException, InterruptedException {
        return new ProcessBuilder(Spawns.TRUE).start().waitFor();
    }

    @Benchmark
    public int stockadeNoNamespaces() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(noNamespaces).start().waitFor();
    }

    @Benchmark
    public int stockadeAllNamespaces() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(allNamespaces).start().waitFor();
    }

    @Benchmark
    public int stockadeDefaultCold() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(defaults).start().waitFor();
    }

    @Benchmark
    public int stockadeHostNetwork() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(hostNetwork).start().waitFor();
    }

    @Benchmark
    public int bwrap() throws IOException, InterruptedException {
        return new ProcessBuilder(Spawns.BWRAP).start().waitFor();
    }
}
