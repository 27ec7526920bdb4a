package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import dev.stockade.SetupStep;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Protocol} and {@link SetupStep} are generated from native/include/stockade.h (codegen,
 * ProtocolGenerator). These tests run the generator itself: on the tree the build compiled
 * (the classes in use must be exactly what the header yields), and on copies of the header and
 * the step names with one thing changed (the change must reach the Java, or fail the build
 * naming the file and line).
 */
@Pure
class ProtocolGeneratorTest {
    private static final Path SOURCE_ROOT =
            Path.of(System.getProperty("stockade.test.sourceRoot", "."));
    private static final Path CODEGEN_CLASSES = Path.of(System.getProperty(
            "stockade.test.codegenClasses", "target/codegen-classes"));
    private static final String HEADER = "native/include/stockade.h";
    private static final String STEP_NAMES = "native/src/helper/step.c";

    @TempDir
    Path tmp;

    @Test
    void theCompiledProtocolIsWhatTheHeaderYields() throws Exception {
        Path out = generate(SOURCE_ROOT);
        Map<String, Object> generated = constants(compile(out, "dev.stockade.internal.Protocol"));
        Map<String, Object> compiled = constants(Protocol.class);
        assertEquals(generated, compiled);
        // The names every consumer codes against (the hand-written Protocol's, and the facts
        // moved into the header) are there, with the compiler's values.
        assertEquals(0x444b5453, compiled.get("MAGIC"));
        assertEquals(8, compiled.get("FIELD_HEADER_SIZE"));
        assertEquals(8, compiled.get("BPF_INSN_SIZE"));
        assertEquals(0x10000000, compiled.get("CLONE_NEWUSER"));
        assertEquals(7, compiled.get("RLIMIT_NOFILE"));
        assertEquals(1_000_000_000_000L, compiled.get("MAX_DURATION_MS"));
        assertEquals("stockade", compiled.get("DEFAULT_HOSTNAME"));
        assertEquals(65534, compiled.get("NOBODY_ID"));
    }

    @Test
    void theCompiledSetupStepIsWhatTheHeaderAndTheHelpersNamesYield() throws Exception {
        Path out = generate(SOURCE_ROOT);
        Class<?> generated = compile(out, "dev.stockade.SetupStep");
        List<String> expected = new ArrayList<>();
        for (Object step : generated.getEnumConstants()) {
            expected.add(((Enum<?>) step).name() + "=" + step);
        }
        List<String> actual = new ArrayList<>();
        for (SetupStep step : SetupStep.values()) {
            actual.add(step.name() + "=" + step.stepName());
            assertEquals(step, SetupStep.ofStepName(step.stepName()).orElseThrow());
        }
        assertEquals(expected, actual);
        assertEquals("mount_root", SetupStep.MOUNT_ROOT.stepName());
        assertEquals("sigprocmask", SetupStep.SIGPROCMASK.stepName());
        assertTrue(SetupStep.ofStepName("mount-root").isEmpty());
    }

    @Test
    void aBoundChangedInTheHeaderReachesTheJava() throws Exception {
        Path root = copyOfTheSources();
        replace(root.resolve(HEADER), "#define STK_MAX_MOUNTS 1024u", "#define STK_MAX_MOUNTS 7u");
        replace(root.resolve(HEADER), "#define STK_MAX_DURATION_MS 1000000000000ull",
                "#define STK_MAX_DURATION_MS (1000ull * 1000ull)");
        Map<String, Object> changed = constants(compile(generate(root),
                "dev.stockade.internal.Protocol"));
        assertEquals(7, changed.get("MAX_MOUNTS"));
        assertEquals(1_000_000L, changed.get("MAX_DURATION_MS"));
        Map<String, Object> rest = new TreeMap<>(changed);
        Map<String, Object> unchanged = constants(Protocol.class);
        rest.keySet().removeAll(List.of("MAX_MOUNTS", "MAX_DURATION_MS"));
        unchanged.keySet().removeAll(List.of("MAX_MOUNTS", "MAX_DURATION_MS"));
        assertEquals(unchanged, rest);
    }

    @Test
    void aLineTheGeneratorDoesNotUnderstandFailsWithItsFileAndLine() throws Exception {
        Path root = copyOfTheSources();
        Path header = root.resolve(HEADER);
        List<String> lines = new ArrayList<>(Files.readAllLines(header));
        lines.add(lines.lastIndexOf("#endif"), "static const int stk_hidden = 3;");
        Files.write(header, lines);
        int line = lines.indexOf("static const int stk_hidden = 3;") + 1;
        String message = generationFailure(root);
        assertTrue(message.startsWith(HEADER + ":" + line + ": not understood"), message);
    }

    @Test
    void aStepNameOtherThanItsMembersFailsTheBuild() throws Exception {
        String message = failureWith(STEP_NAMES, "return \"mount_root\";",
                "return \"mount-root\";");
        assertTrue(message.startsWith(STEP_NAMES + ": stk_step_name(STK_STEP_MOUNT_ROOT) is"
                + " \"mount-root\", expected \"mount_root\""), message);
    }

    @Test
    void aStepNameLongerThanTheEventCarriesFailsTheBuild() throws Exception {
        String message = failureWith(HEADER, "#define STK_MAX_STEP_NAME 31u",
                "#define STK_MAX_STEP_NAME 8u");
        // close_fds, 9 bytes, is the first step name above 8
        assertTrue(message.matches(HEADER.replace(".", "\\.")
                + ":[0-9]+: \"close_fds\" is longer than STK_MAX_STEP_NAME \\(8\\)"), message);
    }

    @Test
    void aValueTheCompilerCannotEvaluateFailsTheBuild() throws Exception {
        String message = failureWith(HEADER, "#define STK_MAX_MOUNTS 1024u",
                "#define STK_MAX_MOUNTS STK_NO_SUCH_MACRO");
        assertTrue(message.startsWith("the protocol's value program: cc "), message);
        assertTrue(message.contains("STK_NO_SUCH_MACRO"), message);
    }

    @Test
    void theStepTableOfTheProtocolDocumentIsTheGeneratedOne() throws Exception {
        Method stepTable = generatorClass().getMethod("stepTable", Path.class);
        String table = (String) stepTable.invoke(null, SOURCE_ROOT);
        String doc = Files.readString(SOURCE_ROOT.resolve("docs/protocol.md"));
        String begin =
                "<!-- step table: generated from stockade.h, see ProtocolGeneratorTest -->\n";
        String end = "<!-- end of step table -->";
        int from = doc.indexOf(begin);
        int to = doc.indexOf(end);
        assertTrue(from >= 0 && to > from, "docs/protocol.md has no step table markers");
        assertEquals(table, doc.substring(from + begin.length(), to),
                "docs/protocol.md: paste the table between the markers");
    }

    private static Class<?> generatorClass() throws Exception {
        URLClassLoader loader = new URLClassLoader(new URL[] {CODEGEN_CLASSES.toUri().toURL()},
                ProtocolGeneratorTest.class.getClassLoader());
        return loader.loadClass("dev.stockade.codegen.ProtocolGenerator");
    }

    /** Runs the generator on {@code root}; returns its output directory. */
    private Path generate(Path root) throws Exception {
        Path out = Files.createTempDirectory(tmp, "generated");
        Object generator = generatorClass().getConstructor().newInstance();
        Method generate = generator.getClass().getMethod("generate", Path.class, Path.class);
        try {
            generate.invoke(generator, root, out);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        return out;
    }

    private String generationFailure(Path root) {
        Exception e = assertThrows(Exception.class, () -> generate(root));
        assertEquals("GenerationException", e.getClass().getSimpleName(), e.toString());
        return e.getMessage();
    }

    /** The generator's failure on a copy of the sources with {@code from} replaced in file. */
    private String failureWith(String file, String from, String to) throws IOException {
        Path root = copyOfTheSources();
        replace(root.resolve(file), from, to);
        return generationFailure(root);
    }

    /** The files the generator reads, copied. */
    private Path copyOfTheSources() throws IOException {
        Path root = Files.createTempDirectory(tmp, "root");
        for (String file : List.of(HEADER, STEP_NAMES, "native/src/helper/error.h")) {
            Path target = root.resolve(file);
            Files.createDirectories(target.getParent());
            Files.copy(SOURCE_ROOT.resolve(file), target);
        }
        return root;
    }

    private static void replace(Path file, String from, String to) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.contains(from), file + " has no " + from);
        Files.writeString(file, text.replace(from, to), StandardCharsets.UTF_8);
    }

    /** Compiles the generated class {@code name} on its own and loads it. */
    private Class<?> compile(Path sources, String name) throws Exception {
        Path classes = Files.createTempDirectory(tmp, "classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path source = sources.resolve(name.replace('.', '/') + ".java");
        int rc = javac.run(null, null, null, "-Xlint:all", "-Werror", "-d", classes.toString(),
                source.toString());
        assertEquals(0, rc, "javac " + source);
        URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null);
        return loader.loadClass(name);
    }

    /** Every public constant of {@code c}, by name. */
    private static Map<String, Object> constants(Class<?> c) throws IllegalAccessException {
        Map<String, Object> values = new TreeMap<>();
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m)) {
                values.put(f.getName(), f.get(null));
            }
        }
        return values;
    }
}
