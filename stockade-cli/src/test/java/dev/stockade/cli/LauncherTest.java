package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.cli.CliProcess.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    @TempDir
    Path temporary;

    private Path home;
    private Path launcher;
    private Path workspace;

    @BeforeEach
    void layOutTheDistribution() throws IOException {
        home = DistributionTree.layOut(temporary.resolve("stockade"));
        launcher = home.resolve("bin/stockade");
        workspace = Files.createDirectory(temporary.resolve("workspace"));
    }

    @Test
    void runsTheCommandWithItsArgumentsExactlyAsGiven() throws Exception {
        Result result = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "printf '[%s]' \"$@\"", "sh",
                "two words", "", "'single'", "\"double\"", "$HOME", "*", "-x", "a\nb", "\\");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("[two words][]['single'][\"double\"][$HOME][*][-x][a\nb][\\]", result.stdout());
        assertEquals("", result.stderr(), "nothing but the command's output: no JVM warning");
    }

    @Test
    void exitsWithTheCommandsStatus() throws Exception {
        Result seven = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "echo out; echo err >&2; exit 7");
        assertEquals(7, seven.exitCode(), seven.toString());
        assertEquals("out\n", seven.stdout());
        assertEquals("err\n", seven.stderr());

        Result killed = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/bin/sh", "-c", "kill -9 $$");
        assertEquals(128 + 9, killed.exitCode(), killed.toString());

        Result notFound = launch(Map.of(), "run", "--workspace", workspace.toString(), "--",
                "/no/such/command");
        assertEquals(127, notFound.exitCode(), notFound.toString());
    }

    @Test
    void theCliItselfAnswersAsWithJavaJar() throws Exception {
        Result usage = launch(Map.of(), "run", "--no-such-option");
        assertEquals(Main.EXIT_USAGE, usage.exitCode(), usage.toString());
        assertEquals("", usage.stdout());
        assertTrue(usage.stderr().startsWith("stockade: "), usage.toString());

        Result version = launch(Map.of(), "--version");
        assertEquals(0, version.exitCode(), version.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", version.stdout());
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
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("ran\n", result.stdout());
        assertEquals("", result.stderr());
    }

    /** A plain run loads no Jackson (some 370 classes at every start); --report needs it. */
    @Test
    void jacksonIsLoadedOnlyForAReport() throws Exception {
        Path plainLog = temporary.resolve("plain-classes.log");
        Result plain = launch(Map.of("STOCKADE_JAVA_OPTS", "-Xlog:class+load=info:file=" + plainLog),
                "run", "--workspace", workspace.toString(), "--", "/bin/true");
        assertEquals(0, plain.exitCode(), plain.toString());
        String plainClasses = Files.readString(plainLog);
        assertTrue(plainClasses.contains("dev.stockade.cli.RunReport "), "the log lists classes");
        assertFalse(plainClasses.contains("com.fasterxml.jackson"), "Jackson loaded without --report");

        Path reportLog = temporary.resolve("report-classes.log");
        Path report = temporary.resolve("report.json");
        Result reported = launch(Map.of("STOCKADE_JAVA_OPTS", "-Xlog:class+load=info:file=" + reportLog),
                "run", "--workspace", workspace.toString(), "--report", report.toString(), "--",
                "/bin/sh", "-c", "exit 3");
        assertEquals(3, reported.exitCode(), reported.toString());
        assertTrue(Files.readString(reportLog).contains("com.fasterxml.jackson.databind.ObjectMapper "));
        assertTrue(Files.readString(report).contains("\"exitCode\" : 3,"), Files.readString(report));
    }

    @Test
    void worksThroughASymbolicLinkToIt() throws Exception {
        Path link = Files.createSymbolicLink(temporary.resolve("stockade-link"), launcher);
        Result result = run(Map.of(), link.toString(), "run", "--workspace", workspace.toString(),
                "--", "/bin/echo", "linked");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("linked\n", result.stdout());
    }

    @Test
    void aJavaHomeWithoutJavaFailsWithOneLine() throws Exception {
        Path empty = Files.createDirectory(temporary.resolve("not-a-jdk"));
        Result result = run(Map.of("JAVA_HOME", empty.toString()), launcher.toString(), "--version");
        assertEquals(125, result.exitCode(), result.toString());
        assertEquals("", result.stdout());
        assertEquals("stockade: JAVA_HOME is " + empty + ", but " + empty + "/bin/java is not an"
                + " executable\n", result.stderr());
    }

    private Result launch(Map<String, String> env, String... args) throws Exception {
        return DistributionTree.launch(launcher, workspace, env, args);
    }

    private Result run(Map<String, String> env, String... command) throws Exception {
        return DistributionTree.run(workspace, env, command);
    }
}
