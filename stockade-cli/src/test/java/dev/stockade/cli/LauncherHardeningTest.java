package dev.stockade.cli;

import static dev.stockade.cli.DistributionTree.launch;
import static dev.stockade.cli.DistributionTree.layOut;
import static dev.stockade.cli.DistributionTree.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.cli.CliProcess.Result;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's launcher ({@code bin/stockade}) against what its attacker review found:
 * a build step that can write the workspace, another user who can write one directory of the
 * installation, a broken installation, and ordinary environments ({@code CDPATH}). Each test
 * lays the distribution out in its own tree ({@link DistributionTree}).
 */
class LauncherHardeningTest {

    private static final String INJECTED = "INJECTED: not the CLI's Main";

    @TempDir
    Path temporary;

    /**
     * "Unpack it anywhere" (README): a CI job unpacks the distribution in its checkout and runs
     * {@code ./stockade-VERSION/bin/stockade run -- ./build.sh}, so the workspace (bound
     * read-write) holds the launcher, the jar, the class archives and the helper that runs
     * unsandboxed on the host; a build step that rewrote one would have the job's next
     * {@code stockade run} execute its code on the host. Such a workspace is refused before
     * anything starts; the same step with the installation beside the checkout runs.
     */
    @Test
    void aBuildStepCannotRewriteTheInstallationItIsRunFrom() throws Exception {
        String attackScript = "printf '#!/bin/sh\\necho launcher rewritten by the build step\\n'"
                + " > stockade/bin/stockade; echo x >> stockade/lib/stockade-cli.jar;"
                + " echo built > out.txt";
        // Allowed: the installation outside the workspace; the step finds no installation to
        // rewrite there and writes its workspace.
        Path workspace = Files.createDirectory(temporary.resolve("checkout"));
        Path outside = layOut(temporary.resolve("beside"));
        Files.createDirectories(workspace.resolve("stockade/bin"));
        Files.createDirectories(workspace.resolve("stockade/lib"));
        Result allowed = launch(outside.resolve("bin/stockade"), workspace, Map.of(), "run",
                "--workspace", workspace.toString(), "--", "/bin/sh", "-c", attackScript);
        assertEquals(0, allowed.exitCode(), allowed.toString());
        assertEquals("built\n", Files.readString(workspace.resolve("out.txt")));
        Files.delete(workspace.resolve("out.txt"));

        Path home = layOut(temporary.resolve("checkout-with-dist/stockade"));
        Path inside = home.getParent();
        Path launcher = home.resolve("bin/stockade");
        byte[] launcherBefore = Files.readAllBytes(launcher);
        byte[] jarBefore = Files.readAllBytes(home.resolve("lib/stockade-cli.jar"));
        Result refused = launch(launcher, inside, Map.of(), "run", "--workspace",
                inside.toString(), "--", "/bin/sh", "-c", attackScript);
        assertEquals(125, refused.exitCode(), refused.toString());
        assertEquals("stockade: the workspace " + inside + " holds Stockade's own installation ("
                + home + "): a sandboxed step could change what runs on the host next; install"
                + " Stockade outside it\n", refused.stderr());
        assertFalse(Files.exists(inside.resolve("out.txt")), "the step ran");
        assertArrayEquals(launcherBefore, Files.readAllBytes(launcher));
        assertArrayEquals(jarBefore, Files.readAllBytes(home.resolve("lib/stockade-cli.jar")));
        // A workspace inside the installation (its lib/cds/, say) is refused the same way.
        Result within = launch(launcher, inside, Map.of(), "run", "--workspace",
                home.resolve("lib").toString(), "--", "/bin/true");
        assertEquals(125, within.exitCode(), within.toString());
        assertTrue(within.stderr().startsWith("stockade: the workspace " + home.resolve("lib")
                + " holds Stockade's own installation ("), within.toString());
    }

    /**
     * The natives are refused when a directory above them is writable by others; the class
     * archive is not checked at all, and the JVM checks it against the jar only by the jar's
     * size and modification time. Another user who can write {@code lib/cds/} swaps in an
     * archive made from a jar of their own (padded to the same size, same mtime, also named
     * {@code /proc/self/fd/9}): its classes run instead of the CLI's, as whoever runs
     * stockade. The launcher must not use an archive others can change (nor run with one
     * whose classes are not the jar's).
     */
    @Test
    void aClassArchiveOthersCanWriteDoesNotRunTheirClasses() throws Exception {
        Path workspace = Files.createDirectory(temporary.resolve("workspace"));
        Path victim = layOut(temporary.resolve("victim"));
        Path victimJar = victim.resolve("lib/stockade-cli.jar");
        Path cds = Files.createDirectories(victim.resolve("lib/cds"));
        Files.setPosixFilePermissions(cds, PosixFilePermissions.fromString("rwxrwxrwx"));

        // Allowed: with lib/cds writable by others, the natives' checks still pass and the CLI
        // runs (no archive yet).
        Result allowed = launch(victim.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertEquals(0, allowed.exitCode(), allowed.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", allowed.stdout());

        // The other user's archive: made by a training run of their own jar, padded to the
        // victim jar's size and given its modification time.
        Path attacker = layOut(temporary.resolve("attacker"));
        Path attackerJar = attacker.resolve("lib/stockade-cli.jar");
        writeInjectingJar(attackerJar, Files.size(victimJar));
        Files.setLastModifiedTime(attackerJar, Files.getLastModifiedTime(victimJar));
        assertEquals(Files.size(victimJar), Files.size(attackerJar));
        int feature = Runtime.version().feature();
        Path archive = temporary.resolve("other-users.archive");
        Path launcher = attacker.resolve("bin/stockade");
        if (feature >= 25) {
            Path conf = temporary.resolve("other-users.aotconf");
            Result record = launch(launcher, workspace, Map.of("STOCKADE_JAVA_OPTS",
                    "-XX:AOTMode=record -XX:AOTConfiguration=" + conf));
            assertEquals(INJECTED + "\n", record.stdout(), record.toString());
            Result create = launch(launcher, workspace, Map.of("STOCKADE_JAVA_OPTS",
                    "-XX:AOTMode=create -XX:AOTConfiguration=" + conf + " -XX:AOTCache=" + archive));
            assertEquals(0, create.exitCode(), create.toString());
        } else {
            Result dump = launch(launcher, workspace,
                    Map.of("STOCKADE_JAVA_OPTS", "-XX:ArchiveClassesAtExit=" + archive));
            assertEquals(INJECTED + "\n", dump.stdout(), dump.toString());
        }
        assertTrue(Files.size(archive) > 0, "no archive was made");
        Files.copy(archive, cds.resolve("jdk-" + feature + (feature >= 25 ? ".aot" : ".jsa")));

        Result swapped = launch(victim.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertFalse(swapped.stdout().contains(INJECTED),
                "the JVM ran another user's classes from lib/cds instead of the jar's: " + swapped);
        assertEquals(0, swapped.exitCode(), swapped.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", swapped.stdout());
    }

    /**
     * A missing (or unreadable) jar: the launcher's {@code exec 9<jar || exit 125} never gets
     * to its {@code exit 125}, since a failed redirection on the special built-in exec ends a
     * non-interactive sh. It exits 2 (the CLI's "bad command line") with the shell's own
     * message, not 125 with one "stockade: " line.
     */
    @Test
    void aMissingJarFailsWith125AndOneStockadeLine() throws Exception {
        Path workspace = Files.createDirectory(temporary.resolve("workspace"));
        Path home = layOut(temporary.resolve("stockade"));
        Result allowed = launch(home.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertEquals(0, allowed.exitCode(), allowed.toString());

        Files.delete(home.resolve("lib/stockade-cli.jar"));
        Result missing = launch(home.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertEquals(125, missing.exitCode(), missing.toString());
        assertEquals("", missing.stdout());
        assertTrue(missing.stderr().startsWith("stockade: "), missing.toString());
        assertEquals(1, missing.stderr().lines().count(), missing.toString());
    }

    /**
     * {@code home=$(cd "$(dirname "$self")/.." && pwd -P)}: with CDPATH exported (a common
     * {@code CDPATH=.:~/src} in a profile), {@code cd bin/..} goes through CDPATH and prints
     * the directory, so home is two lines and {@code bin/stockade}, run by a relative name,
     * fails (exit 2, "cannot open .../lib/stockade-cli.jar"); with a CDPATH entry holding a
     * {@code bin/}, the directory is that one, not the installation.
     */
    @Test
    void cdpathDoesNotChangeWhereTheInstallationIs() throws Exception {
        Path home = layOut(temporary.resolve("stockade"));
        Result allowed = run(home, Map.of("JAVA_HOME", System.getProperty("java.home")),
                "bin/stockade", "--version");
        assertEquals(0, allowed.exitCode(), allowed.toString());

        Result withCdpath = run(home, Map.of("JAVA_HOME", System.getProperty("java.home"),
                "CDPATH", ".:" + temporary), "bin/stockade", "--version");
        assertEquals(0, withCdpath.exitCode(), withCdpath.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", withCdpath.stdout());
    }

    // --- helpers (as in LauncherTest) ---

    /** A jar whose dev.stockade.cli.Main prints {@link #INJECTED}, padded to {@code size}. */
    private void writeInjectingJar(Path jar, long size) throws IOException {
        Path source = Files.createDirectories(temporary.resolve("injected-src/dev/stockade/cli"))
                .resolve("Main.java");
        Files.writeString(source, "package dev.stockade.cli; public class Main { public static"
                + " void main(String[] a) { System.out.println(\"" + INJECTED + "\"); } }");
        Path classes = Files.createDirectories(temporary.resolve("injected-classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", classes.toString(), source.toString()));
        byte[] main = Files.readAllBytes(classes.resolve("dev/stockade/cli/Main.class"));
        byte[] unpadded = injectingJar(main, "");
        long comment = size - unpadded.length;
        assertTrue(comment >= 0 && comment < 65535, "cannot pad to " + size + ": " + comment);
        Files.write(jar, injectingJar(main, "C".repeat((int) comment)));
    }

    private static byte[] injectingJar(byte[] main, String comment) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (JarOutputStream out = new JarOutputStream(buffer, manifest)) {
            JarEntry entry = new JarEntry("dev/stockade/cli/Main.class");
            entry.setTime(0);
            out.putNextEntry(entry);
            out.write(main);
            out.closeEntry();
            if (!comment.isEmpty()) {
                out.setComment(comment);
            }
        }
        return buffer.toByteArray();
    }

}
