package dev.stockade.benchmarks;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A real build step, inside a sandbox of the default policy (the project directory as its
 * workspace) and outside it, from the same generated project: {@code javac} of
 * {@value #JAVA_CLASSES} classes that call each other, and {@code make -j2} of
 * {@value #C_FILES} C files linked into one program. Each invocation starts from a clean output.
 * Seven shots each, of which the report takes the median: a single build on this shared machine
 * varies by more than the few percent the sandbox is to add.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 7)
@Fork(1)
public class BuildStepBenchmark {
    static final int JAVA_CLASSES = 250;
    static final int C_FILES = 40;

    @Param({"javac", "make"})
    public String step;

    @Param({"outside", "inside"})
    public String where;

    private Path project;
    private List<String> command;
    private SandboxPolicy policy;

    @Setup
    public void generateProject() throws IOException {
        project = Files.createTempDirectory("stockade-bench-" + step + "-");
        if (step.equals("javac")) {
            command = generateJava(project);
        } else {
            command = generateC(project);
        }
        policy = SandboxPolicy.builder().workspace(project).build();
    }

    private static List<String> generateJava(Path dir) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/gen"));
        List<String> cmd = new ArrayList<>(List.of("javac", "-d", "out", "-nowarn"));
        for (int i = 0; i < JAVA_CLASSES; i++) {
            String next = "C" + ((i + 1) % JAVA_CLASSES);
            Files.writeString(src.resolve("C" + i + ".java"), "package gen;\n"
                    + "import java.util.*;\n"
                    + "public class C" + i + " {\n"
                    + "  private final Map<String, List<Integer>> m = new HashMap<>();\n"
                    + "  public int work(int n) {\n"
                    + "    List<Integer> l = m.computeIfAbsent(\"k\" + n, k -> new ArrayList<>());\n"
                    + "    for (int j = 0; j < n; j++) { l.add(j * " + i + "); }\n"
                    + "    return l.stream().mapToInt(Integer::intValue).sum()\n"
                    + "        + (n > 0 ? new " + next + "().work(n - 1) : 0);\n"
                    + "  }\n"
                    + "  public String name() { return String.format(\"%s-%d\", \"C" + i
                    + "\", m.size()); }\n"
                    + "}\n");
            cmd.add("src/gen/C" + i + ".java");
        }
        return cmd;
    }

    private static List<String> generateC(Path dir) throws IOException {
        StringBuilder objects = new StringBuilder();
        StringBuilder main = new StringBuilder("#include <stdio.h>\n");
        StringBuilder calls = new StringBuilder();
        for (int i = 0; i < C_FILES; i++) {
            Files.writeString(dir.resolve("f" + i + ".c"), "#include <string.h>\n"
                    + "#include <stdlib.h>\n"
                    + "static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }\n"
                    + "int f" + i + "(int n) {\n"
                    + "  int v[256]; for (int j = 0; j < 256; j++) v[j] = (j * " + (i + 7) + ") % 251;\n"
                    + "  qsort(v, 256, sizeof v[0], cmp);\n"
                    + "  char buf[64]; memset(buf, n, sizeof buf);\n"
                    + "  return v[n & 255] + buf[3];\n"
                    + "}\n");
            objects.append(" f").append(i).append(".o");
            main.append("int f").append(i).append("(int);\n");
            calls.append("  s += f").append(i).append("(argc);\n");
        }
        main.append("int main(int argc, char **argv) { (void)argv; long s = 0;\n").append(calls)
                .append("  printf(\"%ld\\n\", s); return 0; }\n");
        Files.writeString(dir.resolve("main.c"), main.toString());
        Files.writeString(dir.resolve("Makefile"), "CFLAGS = -O2 -Wall\n"
                + "prog: main.o" + objects + "\n\t$(CC) -o $@ $^\n"
                + "%.o: %.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n");
        return List.of("make", "-s", "-j2");
    }

    @Setup(Level.Invocation)
    public void clean() throws IOException {
        deleteOutputs(project);
    }

    private static void deleteOutputs(Path dir) throws IOException {
        Path out = dir.resolve("out");
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.walk(out)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".o") || name.equals("prog")) {
                    Files.delete(p);
                }
            }
        }
    }

    @TearDown
    public void removeProject() throws IOException {
        deleteOutputs(project);
        try (Stream<Path> s = Files.walk(project)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public int build() throws IOException, InterruptedException {
        if (where.equals("outside")) {
            return Spawns.run(command, project);
        }
        return Spawns.requireSuccess(command, Sandbox.command(command).policy(policy)
                .directory(project).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor());
    }
}
