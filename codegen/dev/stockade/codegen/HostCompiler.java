package dev.stockade.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The build machine's C compiler ({@code cc} on PATH), asked what its headers and C library
 * say: the generators read numbers the way the compiler sees them instead of transcribing
 * them. Everything is compiled with {@code -D_GNU_SOURCE}, the feature set the native code
 * uses, so the headers show every Linux-specific name.
 */
final class HostCompiler {
    private HostCompiler() {}

    /** The C compiler: {@code $CC} when set (a single command, no arguments), else cc. */
    private static final String CC = System.getenv().getOrDefault("CC", "cc");
    private static final String SOURCE = "probe.c";
    private static final Pattern DEFINE = Pattern.compile("#define (\\w+) ?(.*)");
    private static final Pattern ERROR_LINE = Pattern.compile(
            "^" + Pattern.quote(SOURCE) + ":(\\d+):\\d+: error:", Pattern.MULTILINE);

    /** {@code #include <h>} lines for {@code headers}. */
    static String includes(List<String> headers) {
        StringBuilder text = new StringBuilder();
        for (String header : headers) {
            text.append("#include <").append(header).append(">\n");
        }
        return text.toString();
    }

    /**
     * The object-like macros {@code headers} define ({@code cc -dM -E}), name to body, sorted
     * by name; function-like macros are left out.
     */
    static Map<String, String> defines(List<String> headers) throws IOException {
        String out = inTemporaryDirectory(dir -> {
            Files.writeString(dir.resolve(SOURCE), includes(headers));
            return checked(dir, List.of(CC, "-D_GNU_SOURCE", "-dM", "-E", SOURCE), headers);
        });
        Map<String, String> macros = new LinkedHashMap<>();
        out.lines().sorted().forEach(line -> {
            Matcher m = DEFINE.matcher(line);
            if (m.matches()) {
                macros.put(m.group(1), m.group(2).strip());
            }
        });
        return macros;
    }

    /**
     * A version the macros {@code parts} of {@code header} spell, joined by dots: e.g.
     * {@code version("linux/version.h", "LINUX_VERSION_MAJOR", "LINUX_VERSION_PATCHLEVEL")}.
     */
    static String version(String header, String... parts) throws IOException {
        Map<String, String> macros = defines(List.of(header));
        List<String> numbers = new ArrayList<>();
        for (String part : parts) {
            String value = macros.get(part);
            if (value == null) {
                throw new GenerationException("<" + header + "> does not define " + part);
            }
            numbers.add(value);
        }
        return String.join(".", numbers);
    }

    /** {@code headers} after the preprocessor ({@code cc -E -P}): for declarations, not macros. */
    static String preprocess(List<String> headers) throws IOException {
        return inTemporaryDirectory(dir -> {
            Files.writeString(dir.resolve(SOURCE), includes(headers));
            return checked(dir, List.of(CC, "-D_GNU_SOURCE", "-E", "-P", SOURCE), headers);
        });
    }

    /**
     * The 1-based line numbers of {@code program} that the compiler rejects
     * ({@code -std=gnu11 -pedantic-errors -fsyntax-only}, so that an expression that is no
     * integer constant expression is an error, not a warning).
     */
    static Set<Integer> rejectedLines(String program) throws IOException {
        String errors = inTemporaryDirectory(dir -> {
            Files.writeString(dir.resolve(SOURCE), program);
            return execute(dir, List.of(CC, "-D_GNU_SOURCE", "-std=gnu11", "-pedantic-errors",
                    "-fsyntax-only", SOURCE)).stderr();
        });
        Set<Integer> lines = new TreeSet<>();
        Matcher m = ERROR_LINE.matcher(errors);
        while (m.find()) {
            lines.add(Integer.parseInt(m.group(1)));
        }
        return lines;
    }

    /**
     * Compiles {@code program} (linked with {@code libraries}, e.g. {@code "-lseccomp"}), runs
     * it and returns what it printed. Fails the build when it does not compile or exits
     * non-zero; {@code what} names it in that message.
     */
    static String run(String what, String program, String... libraries) throws IOException {
        return run(what, program, List.of("-std=gnu11"), List.of(libraries));
    }

    /**
     * As {@link #run(String, String, String...)}, with compiler {@code options} before the
     * source (e.g. {@code -std=c11 -Werror -I dir}) and {@code inputs} after it (more sources,
     * libraries).
     */
    static String run(String what, String program, List<String> options, List<String> inputs)
            throws IOException {
        return inTemporaryDirectory(dir -> {
            Files.writeString(dir.resolve(SOURCE), program);
            List<String> compile = new ArrayList<>(List.of(CC, "-D_GNU_SOURCE"));
            compile.addAll(options);
            compile.addAll(List.of("-o", "probe", SOURCE));
            compile.addAll(inputs);
            checked(dir, compile, List.of(what));
            return checked(dir, List.of(dir.resolve("probe").toString()), List.of(what));
        });
    }

    private record Result(int status, String stdout, String stderr) {}

    private interface InDirectory {
        String apply(Path dir) throws IOException;
    }

    private static String inTemporaryDirectory(InDirectory action) throws IOException {
        Path dir = Files.createTempDirectory("stockade-codegen");
        try {
            return action.apply(dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static String checked(Path dir, List<String> command, List<String> what)
            throws IOException {
        Result result = execute(dir, command);
        if (result.status() != 0) {
            throw new GenerationException(String.join(", ", what) + ": "
                    + String.join(" ", command) + " exited " + result.status() + ":\n"
                    + result.stderr());
        }
        return result.stdout();
    }

    private static Result execute(Path dir, List<String> command) throws IOException {
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process process = new ProcessBuilder(command).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        int status;
        try {
            status = process.waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
        return new Result(status, Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
