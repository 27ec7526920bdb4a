package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the distribution's launcher ({@code bin/stockade}) from an attacker's side: a
 * build step that can write the workspace, another user who can write one directory of the
 * installation, and ordinary environments ({@code CDPATH}). Laid out as {@link LauncherTest}
 * does it (a jar whose manifest class path is this JVM's), each test in its own tree.
 */
class LauncherReviewTest {

    private static final long TIMEOUT_SECONDS = 120;
    private static final String NATIVE_RESOURCES = "/META-INF/native/linux-x86_64/";
    private static final String INJECTED = "INJECTED: not the CLI's Main";

    @TempDir
    Path temporary;

    /**
     * "Unpack it anywhere" (README): a CI job unpacks the distribution in its checkout and runs
     * {@code ./stockade-VERSION/bin/stockade run -- ./build.sh}, so the workspace (bound
     * read-write) holds the launcher, the jar, the class archives and the helper that runs
     * unsandboxed on the host. The build step rewrites the launcher; the job's next
     * {@code stockade run} then executes the build step's code on the host, outside any
     * sandbox. The installation the CLI runs from must not be writable by the command.
     */
    @Test
    void aBuildStepCannotRewriteTheInstallationItIsRunFrom() throws Exception {
        Path workspace = Files.createDirectory(temporary.resolve("checkout"));
        Path home = layOut(workspace.resolve("stockade"));
        Path launcher = home.resolve("bin/stockade");

        // Allowed: the command writes its workspace.
        Result allowed = launch(launcher, workspace, Map.of(), "run", "--workspace",
                workspace.toString(), "--", "/bin/sh", "-c", "echo built > out.txt");
        assertEquals(0, allowed.exitCode, allowed.toString());
        assertEquals("built\n", Files.readString(workspace.resolve("out.txt")));

        byte[] launcherBefore = Files.readAllBytes(launcher);
        byte[] helperBefore = Files.readAllBytes(home.resolve("lib/native/stockade-helper"));
        byte[] jarBefore = Files.readAllBytes(home.resolve("lib/stockade-cli.jar"));
        Result attack = launch(launcher, workspace, Map.of(), "run", "--workspace",
                workspace.toString(), "--", "/bin/sh", "-c",
                "printf '#!/bin/sh\\necho launcher rewritten by the build step\\n'"
                + " > stockade/bin/stockade;"
                + " cp /bin/true stockade/lib/native/h && mv stockade/lib/native/h"
                + " stockade/lib/native/stockade-helper;"
                + " echo x >> stockade/lib/stockade-cli.jar");
        assertFalse(attack.stderr.contains("Syntax error"), attack.toString());

        assertArrayEquals(launcherBefore, Files.readAllBytes(launcher),
                "the sandboxed command rewrote bin/stockade");
        assertArrayEquals(helperBefore,
                Files.readAllBytes(home.resolve("lib/native/stockade-helper")),
                "the sandboxed command replaced the helper that runs unsandboxed on the host");
        assertArrayEquals(jarBefore, Files.readAllBytes(home.resolve("lib/stockade-cli.jar")),
                "the sandboxed command changed the CLI jar");
        Result next = launch(launcher, workspace, Map.of(), "--version");
        assertEquals(0, next.exitCode, next.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", next.stdout);
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
        assertEquals(0, allowed.exitCode, allowed.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", allowed.stdout);

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
            assertEquals(INJECTED + "\n", record.stdout, record.toString());
            Result create = launch(launcher, workspace, Map.of("STOCKADE_JAVA_OPTS",
                    "-XX:AOTMode=create -XX:AOTConfiguration=" + conf + " -XX:AOTCache=" + archive));
            assertEquals(0, create.exitCode, create.toString());
        } else {
            Result dump = launch(launcher, workspace,
                    Map.of("STOCKADE_JAVA_OPTS", "-XX:ArchiveClassesAtExit=" + archive));
            assertEquals(INJECTED + "\n", dump.stdout, dump.toString());
        }
        assertTrue(Files.size(archive) > 0, "no archive was made");
        Files.copy(archive, cds.resolve("jdk-" + feature + (feature >= 25 ? ".aot" : ".jsa")));

        Result swapped = launch(victim.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertFalse(swapped.stdout.contains(INJECTED),
                "the JVM ran another user's classes from lib/cds instead of the jar's: " + swapped);
        assertEquals(0, swapped.exitCode, swapped.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", swapped.stdout);
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
        assertEquals(0, allowed.exitCode, allowed.toString());

        Files.delete(home.resolve("lib/stockade-cli.jar"));
        Result missing = launch(home.resolve("bin/stockade"), workspace, Map.of(), "--version");
        assertEquals(125, missing.exitCode, missing.toString());
        assertEquals("", missing.stdout);
        assertTrue(missing.stderr.startsWith("stockade: "), missing.toString());
        assertEquals(1, missing.stderr.lines().count(), missing.toString());
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
        assertEquals(0, allowed.exitCode, allowed.toString());

        Result withCdpath = run(home, Map.of("JAVA_HOME", System.getProperty("java.home"),
                "CDPATH", ".:" + temporary), "bin/stockade", "--version");
        assertEquals(0, withCdpath.exitCode, withCdpath.toString());
        assertEquals("stockade " + dev.stockade.Sandbox.version() + "\n", withCdpath.stdout);
    }

    // --- helpers (as in LauncherTest) ---

    /** bin/stockade, lib/native/ and lib/stockade-cli.jar (padded, as the real jar is big). */
    private static Path layOut(Path home) throws IOException {
        Files.createDirectories(home.resolve("bin"));
        Path nativeDir = Files.createDirectories(home.resolve("lib/native"));
        copyResource("dist/stockade", home.resolve("bin/stockade"), "rwxr-xr-x");
        copyResource(NATIVE_RESOURCES + "libstockade.so", nativeDir.resolve("libstockade.so"),
                "rw-r--r--");
        copyResource(NATIVE_RESOURCES + "stockade-helper", nativeDir.resolve("stockade-helper"),
                "rwxr-xr-x");
        writeClassPathJar(home.resolve("lib/stockade-cli.jar"));
        Files.setLastModifiedTime(home.resolve("lib/stockade-cli.jar"),
                FileTime.fromMillis(1_700_000_000_000L));
        return home;
    }

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

    private static void copyResource(String name, Path target, String permissions)
            throws IOException {
        try (InputStream in = LauncherReviewTest.class.getResourceAsStream(name)) {
            assertTrue(in != null, "no resource " + name);
            Files.copy(in, target);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(permissions));
    }

    /** The manifest class path jar of LauncherTest, plus a stored 16 KiB entry. */
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
            JarEntry padding = new JarEntry("padding.bin");
            byte[] bytes = new byte[16 * 1024];
            new java.util.Random(1).nextBytes(bytes);
            padding.setMethod(ZipEntry.STORED);
            padding.setSize(bytes.length);
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(bytes);
            padding.setCrc(crc.getValue());
            jarOut.putNextEntry(padding);
            jarOut.write(bytes);
            jarOut.closeEntry();
        }
    }

    private static Result launch(Path launcher, Path directory, Map<String, String> env,
            String... args) throws Exception {
        Map<String, String> withJava = new HashMap<>(env);
        withJava.put("JAVA_HOME", System.getProperty("java.home"));
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        return run(directory, withJava, command.toArray(String[]::new));
    }

    private static Result run(Path directory, Map<String, String> env, String... command)
            throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        builder.environment().remove("STOCKADE_JAVA_OPTS");
        builder.environment().remove("JAVA_HOME");
        builder.environment().remove("CDPATH");
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

    private record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }
}
