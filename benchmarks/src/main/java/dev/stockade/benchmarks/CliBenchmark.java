package dev.stockade.benchmarks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * The whole process, as a Makefile or a shell loop pays it: {@code stockade run -- /bin/true}
 * against {@code bwrap ... /bin/true} and a bare {@code /bin/true}. The CLI's command line is
 * the environment variable {@value #CLI_VARIABLE}, words separated by spaces (run.sh sets it: the distribution's
 * {@code bin/stockade} when there is one, else {@code java -jar target/stockade-cli.jar}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CliBenchmark {
    static final String CLI_VARIABLE = "STOCKADE_BENCH_CLI";

    private List<String> stockadeRun;

    @Setup
    public void readCommand() {
        String cli = System.getenv(CLI_VARIABLE);
        if (cli == null || cli.isBlank()) {
            throw new IllegalStateException(CLI_VARIABLE + " must give the CLI's command");
        }
        stockadeRun = new ArrayList<>(Arrays.asList(cli.trim().split(" +")));
        stockadeRun.addAll(List.of("run", "--", Spawns.TRUE));
    }

    @Benchmark
    public int stockadeRun() throws IOException, InterruptedException {
        return Spawns.run(stockadeRun, null);
    }

    @Benchmark
    public int bwrapRun() throws IOException, InterruptedException {
        return Spawns.run(Spawns.BWRAP, null);
    }

    @Benchmark
    public int bareTrue() throws IOException, InterruptedException {
        return Spawns.run(List.of(Spawns.TRUE), null);
    }
}
