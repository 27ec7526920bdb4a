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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spawn latency in a small heap and in a large, pre-touched one: ProcessBuilder forks (vfork or
 * posix_spawn) the JVM, whose cost can grow with its mapped memory; the sandbox is spawned from
 * the JNI library with posix_spawn and should stay flat. Each method runs in its own fork with
 * the heap options in its name.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 2, time = 3)
public class HeapSizeBenchmark {
    private static final String SMALL = "-Xmx256m";
    private static final String LARGE_MIN = "-Xms8g";
    private static final String LARGE_MAX = "-Xmx8g";
    private static final String PRE_TOUCH = "-XX:+AlwaysPreTouch";

    private final SandboxPolicy defaults = SandboxPolicy.defaults();

    @Benchmark @Fork(value = 1, jvmArgsAppend = SMALL)
    public int processBuilderHeap256m() throws IOException, InterruptedException {
        return new ProcessBuilder(Spawns.TRUE).start().waitFor();
    }

    @Benchmark @Fork(value = 1, jvmArgsAppend = SMALL)
    public int stockadeHeap256m() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(defaults).start().waitFor();
    }

    @Benchmark @Fork(value = 1, jvmArgsAppend = {LARGE_MIN, LARGE_MAX, PRE_TOUCH})
    public int processBuilderHeap8g() throws IOException, InterruptedException {
        return new ProcessBuilder(Spawns.TRUE).start().waitFor();
    }

    @Benchmark @Fork(value = 1, jvmArgsAppend = {LARGE_MIN, LARGE_MAX, PRE_TOUCH})
    public int stockadeHeap8g() throws IOException, InterruptedException {
        return Sandbox.command(Spawns.TRUE).policy(defaults).start().waitFor();
    }
}
