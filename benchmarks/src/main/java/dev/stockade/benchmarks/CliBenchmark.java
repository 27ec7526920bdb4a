package dev.stockade.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
 * The whole process, as a Makefile or a shell loop pays it: {@code stockade run -- /bin/true}
 * against {@code bwrap ... /bin/true} and a bare {@code /bin/true}. The CLI's command line is
 * the environment variable {@value #CLI_VARIABLE}, words separated by spaces (run.sh sets it: the distribution's
 * {@code bin/stockade} when there is one, else {@code java -jar stockade-cli/target/stockade-cli.jar}). The
 * parameter {@code jdk} is the {@code JAVA_HOME} the CLI runs with (run.sh gives each JDK the
 * distribution has a start-up archive for; empty: the environment's own). With it, per JDK, the
 * floors the CLI's time is made of: the JVM alone, and the CLI with no sandbox ({@code run --version}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CliBenchmark {
    static final String CLI_VARIABLE = "STOCKADE_BENCH_CLI";

    /** The CLI's command line, per JDK: a state of its own, so only stockadeRun runs per JDK. */
    @State(Scope.Benchmark)
    public static class Cli {
        @Param("")
        public String jdk;

        List<String> command;
        List<String> version;
        List<String> jvm;
        Map<String, String> environment;

        @Setup
        public void readCommand() {
            String cli = System.getenv(CLI_VARIABLE);
            if (cli == null || cli.isBlank()) {
                throw new IllegalStateException(CLI_VARIABLE + " must give the CLI's command");
            }
            List<String> words = Arrays.asList(cli.trim().split(" +"));
            command = new ArrayList<>(words);
            command.addAll(List.of("run", "--", Spawns.TRUE));
            version = new ArrayList<>(words);
            version.addAll(List.of("run", "--version"));
            // The flags bin/stockade gives every JVM it starts (the archive aside: the JDK's
            // own default one is used, as -Xshare:auto does with no class path).
            jvm = List.of(Path.of(jdk.isEmpty() ? System.getProperty("java.home") : jdk, "bin",
                    "java").toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-XX:-UsePerfData", "-version");
            environment = jdk.isEmpty() ? Map.of() : Map.of("JAVA_HOME", jdk);
        }
    }

    @Benchmark
    public int stockadeRun(Cli cli) throws IOException, InterruptedException {
        return Spawns.run(cli.command, null, cli.environment);
    }

    /**
     * The CLI with no sandbox ({@code stockade run --version}): the JVM, the jar and its
     * start-up archive, picocli's model of {@code run}'s command line, the version printed.
     */
    @Benchmark
    public int stockadeVersion(Cli cli) throws IOException, InterruptedException {
        return Spawns.run(cli.version, null, cli.environment);
    }

    /**
     * The JVM alone, with the flags bin/stockade starts it with ({@code java -version}): what
     * any command-line tool on this JVM pays here before its first class.
     */
    @Benchmark
    public int jvmAlone(Cli cli) throws IOException, InterruptedException {
        return Spawns.run(cli.jvm, null, Map.of());
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
