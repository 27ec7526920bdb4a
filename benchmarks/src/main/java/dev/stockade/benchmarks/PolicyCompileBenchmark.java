package dev.stockade.benchmarks;

import dev.stockade.SeccompProfile;
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
 * Compiling the shipped {@code build} profile to BPF (libseccomp, in the JVM): cold, a new
 * profile of the same rules each time (what the first spawn of a policy pays), and cached, the
 * same profile again (what every later spawn pays: a profile compiles once).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class PolicyCompileBenchmark {
    private SeccompProfile build;

    @Setup
    public void load() throws IOException {
        build = SeccompProfile.named("build");
        build.compile();
    }

    @Benchmark
    public byte[] compileCold() throws IOException {
        return build.toBuilder().build().compile();
    }

    @Benchmark
    public byte[] compileCached() throws IOException {
        return build.compile();
    }
}
