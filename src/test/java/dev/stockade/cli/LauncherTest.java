package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/stockade}, the distribution's launcher, run as users run it (as root and as any
 * other user: the suite runs it as whoever runs the suite). It is laid out in a directory the
 * way the distribution is: {@code bin/stockade}, {@code lib/native/} with the natives of this
 * build, and {@code lib/stockade-cli.jar}, here a jar whose manifest class path names this
 * JVM's class path, so the classes under test are the ones that run.
 */
class LauncherTest {

    private static final long TIMEOUT_SECONDS = 120;
    private static final String NATIVE_RESOURCES = "/META-INF/native/linux-x86_64/";

    @TempDir
    Path temporary;

    private Path home;
    private Path launcher;
    private Path workspace;

    @BeforeEach
    void layOutTheDistribution() throws IOException {
        home = Files.createDirectory(temporary.resolve("stockade"));
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path lib = Files.createDirectories(home.resolve("lib/native"));
        launcher = bin.resolve("stockade");
        copyResource("dist/stockade", launcher, "rwxr-xr-x");
        copyResource(NATIVE_RESOURCES + "libstockade.so", lib.resolve("libstockade.so"), "rw-r--r--");
        copyResource(NATIVE_RESOURCES + "stockade-helper", lib.resolve("stockade-helper"),
                "rwxr-xr-x");
        writeClassPathJar(home.resolve("lib/stockade-cli.jar"));
        workspace = Files.createDirectory(temporary.resolve("workspace"));
    }

    @Test
    void runsTheCommandWithItsArgumentsExactlyAsGiven() throws Exception {
        Result result = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "printf '[%s]' \"$@\"", "sh",
                "two words", "", "'single'", "\"double\"", "$HOME", "*", "-x", "a\nb", "\\");
        assertEquals(0, result.exitCode, result.toString());
        assertEquals("[two words][]['single'][\"double\"][$HOME][*][-x][a\nb][\\]", result.stdout);
        assertEquals("", result.stderr, "nothing but the command's output: no JVM warning");
    }

    @Test
    void exitsWithTheCommandsStatus() throws Exception {
        Result seven = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "echo out; echo err >&2; exit 7");
        assertEquals(7, seven.exitCode, seven.toString());
        assertEquals("out\n", seven.stdout);
        assertEquals("err\n", seven.stderr);

        Result killed = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "kill -9 $$");
        assertEquals(128 + 9, killed.exitCode, killed.toString());

        Result notFound = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/no/such/command");
        assertEquals(127, notFound.exitCode, notFound.toString());
    }

    @Test
    void theCliItselfAnswersAsWithJavaJar() throws Exception {
        Result usage = launch(Map.of(), "run", "--no-such-option");
        assertEquals(Main.EXIT_USAGE, usage.exitCode, usage.toString());
        assertEquals("", usage.stdout);
        assertTrue(usage.stderr.startsWith("stockade: "), usage.toString());

        Result version = launch(Map.of(), "--version");
        assertEquals(0, version.exitCode, version.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", version.stdout);
    }

    /** The archive is checked by the JVM; one that does not fit is skipped without a word. */
    @Test
    void anArchiveThatDoesNotMatchTheJvmIsSkippedSilently() throws Exception {
        Path cds = Files.createDirectories(home.resolve("lib/cds"));
        int feature = Runtime.version().feature();
        Files.writeString(cds.resolve("jdk-" + feature + (feature >= 25 ? ".aot" : ".jsa")),
                "not an archive of this JVM\n");
        Result result = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/echo", "ran");
        assertEquals(0, result.exitCode, result.toString());
        assertEquals("ran\n", result.stdout);
        assertEquals("", result.stderr);
    }

    /** A plain run loads no Jackson (some 370 classes at every start); --report needs it. */
    @Test
    void jacksonIsLoadedOnlyForAReport() throws Exception {
        Path plainLog = temporary.resolve("plain-classes.log");
        Result plain = launch(Map.of("STOCKADE_JAVA_OPTS", "-Xlog:class+load=info:file=" + plainLog),
                "run", "--workspace", workspace.toString(), "--", "/bin/true");
        assertEquals(0, plain.exitCode, plain.toString());
        String plainClasses = Files.readString(plainLog);
        assertTrue(plainClasses.contains("dev.stockade.cli.RunReport "), "the log lists classes");
        assertFalse(plainClasses.contains("com.fasterxml.jackson"), "Jackson loaded without --report");

        Path reportLog = temporary.resolve("report-classes.log");
        Path report = temporary.resolve("report.json");
        Result reported = launch(Map.of("STOCKADE_JAVA_OPTS", "-Xlog:class+load=info:file=" + reportLog),
                "run", "--workspace", workspace.toString(), "--report", report.toString(), "--",
                "/bin/sh", "-c", "exit 3");
        assertEquals(3, reported.exitCode, reported.toString());
        assertTrue(Files.readString(reportLog).contains("com.fasterxml.jackson.databind.ObjectMapper "));
        assertTrue(Files.readString(report).contains("\"exitCode\" : 3,"), Files.readString(report));
    }

    @Test
    void worksThroughASymbolicLinkToIt() throws Exception {
        Path link = Files.createSymbolicLink(temporary.resolve("stockade-link"), launcher);
        Result result = run(Map.of(), link.toString(), "run", "--workspace", workspace.toString(),
                "--", "/bin/echo", "linked");
        assertEquals(0, result.exitCode, result.toString());
        assertEquals("linked\n", result.stdout);
    }

    @Test
    void aJavaHomeWithoutJavaFailsWithOneLine() throws Exception {
        Path empty = Files.createDirectory(temporary.resolve("not-a-jdk"));
        Result result = run(Map.of("JAVA_HOME", empty.toString()), launcher.toString(), "--version");
        assertEquals(125, result.exitCode, result.toString());
        assertEquals("", result.stdout);
        assertEquals("stockade: JAVA_HOME is " + empty + ", but " + empty + "/bin/java is not an"
                + " executable\n", result.stderr);
    }

    /** The launcher with JAVA_HOME set to this JVM's home, so it runs the JDK under test. */
    private Result launch(Map<String, String> env, String... args) throws Exception {
        Map<String, String> withJava = new java.util.HashMap<>(env);
        withJava.put("JAVA_HOME", System.getProperty("java.home"));
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        return run(withJava, command.toArray(String[]::new));
    }

    private Result run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile());
        builder.environment().remove("STOCKADE_JAVA_OPTS");
        builder.environment().remove("JAVA_HOME");
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        CompletableFuture<byte[]> stdout = drain(process.getInputStream());
        CompletableFuture<byte[]> stderr = drain(process.getErrorStream());
        boolean exited = process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        assertTrue(exited, "bin/stockade did not exit within " + TIMEOUT_SECONDS + " s");
        return new Result(process.exitValue(),
                new String(stdout.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                new String(stderr.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        CompletableFuture<byte[]> bytes = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try (in) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                in.transferTo(buffer);
                bytes.complete(buffer.toByteArray());
            } catch (IOException e) {
                bytes.completeExceptionally(new UncheckedIOException(e));
            }
        }, "launcher-drain");
        thread.setDaemon(true);
        thread.start();
        return bytes;
    }

    private static void copyResource(String name, Path target, String permissions)
            throws IOException {
        try (InputStream in = LauncherTest.class.getResourceAsStream(name)) {
            assertTrue(in != null, "no resource " + name + " (mvn process-test-resources copies"
                    + " the launcher, the build puts the natives into the classes)");
            Files.copy(in, target);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(permissions));
    }

    /** A jar of nothing but a manifest whose Class-Path is this JVM's class path. */
    private static void writeClassPathJar(Path jar) throws IOException {
        String classPath = List.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .stream().filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toUri().toString())
                .collect(Collectors.joining(" "));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream jarOut = new JarOutputStream(out, manifest)) {
            jarOut.flush();
        }
    }

    private record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }
}
