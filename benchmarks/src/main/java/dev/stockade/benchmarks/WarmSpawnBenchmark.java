package dev.stockade.benchmarks;

import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxPool;
import dev.stockade.SandboxedProcess;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One spawn of {@code /bin/true} in a warm sandbox of the full default policy, from start to
 * reaped: what a caller with a {@link SandboxPool} pays per command. Before each invocation the
 * whole pool is awaited, so no earlier refill runs beside it; the refill this spawn causes
 * starts once its command runs (SandboxPool.start) and overlaps the rest, as it does for a
 * caller. Each spawn must have been warm, so a silent cold fallback fails the run instead of
 * being measured. The baseline is measured in the same fork so the ratio is within one JVM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class WarmSpawnBenchmark {
    private static final Duration READY_WAIT = Duration.ofSeconds(30);

    private SandboxPool pool;

    @Setup
    public void startPool() {
        pool = SandboxPool.create(SandboxPolicy.defaults(), 2);
    }

    @Setup(Level.Invocation)
    public void awaitWarmSandbox() throws Exception {
        if (!pool.awaitReady(pool.size(), READY_WAIT)) {
            throw new IllegalStateException("no warm sandbox ready within " + READY_WAIT);
        }
    }

    @TearDown
    public void closePool() throws Exception {
        pool.close();
    }

    @Benchmark
    public int stockadeDefaultWarm() throws IOException, InterruptedException {
        SandboxedProcess p = pool.command(Spawns.TRUE).start();
        if (!p.warm()) {
            throw new IllegalStateException("the spawn was cold although a sandbox was ready");
        }
        return p.waitFor();
    }

    @Benchmark
    public int processBuilder() throws IOException, InterruptedException {
        return new ProcessBuilder(Spawns.TRUE).start().waitFor();
    }
}
