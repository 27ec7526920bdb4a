package dev.stockade.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real build step, inside a sandbox of the default policy (the project directory as its
 * workspace) and outside it, from the same generated project: {@code javac} of
 * {@value #JAVA_CLASSES} classes that call each other, and {@code make -j2} of
 * {@value #C_FILES} C files linked into one program; every build starts from a clean output.
 * Run in pairs, inside and outside one after the other, the first of each pair alternating:
 * a single build on this shared machine drifts and varies by more than the few percent the
 * sandbox is to add, so the report compares each pair's two builds ({@code BuildSteps OUT.json
 * PAIRS}: per step the milliseconds of every build, after one pair not kept).
 */
public final class BuildSteps {
    static final int JAVA_CLASSES = 250;
    static final int C_FILES = 40;

    private BuildSteps() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("pairs", pairs);
        ObjectNode steps = root.putObject("steps");
        for (String step : List.of("javac", "make")) {
            measure(steps.putObject(step), step, pairs);
        }
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
    }

    private static void measure(ObjectNode into, String step, int pairs) throws Exception {
        Path project = Files.createTempDirectory("stockade-bench-" + step + "-");
        try {
            List<String> command = step.equals("javac") ? generateJava(project)
                    : generateC(project);
            SandboxPolicy policy = SandboxPolicy.builder().workspace(project).build();
            ArrayNode outside = into.putArray("outsideMs");
            ArrayNode inside = into.putArray("insideMs");
            for (int pair = -1; pair < pairs; pair++) {
                boolean insideFirst = pair % 2 != 0;
                double first = build(command, project, insideFirst ? policy : null);
                double second = build(command, project, insideFirst ? null : policy);
                if (pair >= 0) {
                    outside.add(insideFirst ? second : first);
                    inside.add(insideFirst ? first : second);
                }
            }
        } finally {
            removeProject(project);
        }
    }

    /** One build from a clean output, in a sandbox of {@code policy} or, null, outside: ms. */
    private static double build(List<String> command, Path project, SandboxPolicy policy)
            throws IOException, InterruptedException {
        deleteOutputs(project);
        long start = System.nanoTime();
        if (policy == null) {
            Spawns.run(command, project);
        } else {
            Spawns.requireSuccess(command, Sandbox.command(command).policy(policy)
                    .directory(project).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor());
        }
        return (System.nanoTime() - start) / 1e6;
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

    private static void removeProject(Path project) throws IOException {
        deleteOutputs(project);
        try (Stream<Path> s = Files.walk(project)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
