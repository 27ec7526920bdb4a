package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.cli.CliProcess.Result;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;

/**
 * The distribution laid out for a test the way {@code mvn package} lays it out:
 * {@code bin/stockade}, {@code lib/native/} with the natives of this build, and
 * {@code lib/stockade-cli.jar}, here a jar whose manifest class path names this JVM's class
 * path (so the classes under test are the ones that run), padded as the real jar is big; and
 * the launcher run as a user runs it.
 */
final class DistributionTree {
    private static final String NATIVE_RESOURCES = "/META-INF/native/linux-x86_64/";

    private DistributionTree() {}

    /** bin/stockade, lib/native/ and lib/stockade-cli.jar (padded, as the real jar is big). */
    static Path layOut(Path home) throws IOException {
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

    private static void copyResource(String name, Path target, String permissions)
            throws IOException {
        try (InputStream in = DistributionTree.class.getResourceAsStream(name)) {
            assertTrue(in != null, "no resource " + name + " (mvn process-test-resources copies"
                    + " the launcher, the build puts the natives into the classes)");
            Files.copy(in, target);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(permissions));
    }

    /** A jar of a manifest whose Class-Path is this JVM's class path, and a stored 16 KiB entry. */
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

    /** The launcher with JAVA_HOME set to this JVM's home, so it runs the JDK under test. */
    static Result launch(Path launcher, Path directory, Map<String, String> env,
            String... args) throws Exception {
        Map<String, String> withJava = new HashMap<>(env);
        withJava.put("JAVA_HOME", System.getProperty("java.home"));
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        return run(directory, withJava, command.toArray(String[]::new));
    }

    static Result run(Path directory, Map<String, String> env, String... command)
            throws Exception {
        // The launcher's own variables (and CDPATH, which cd reads) only as a test sets them.
        return CliProcess.startProgram(List.of(command), directory,
                List.of("STOCKADE_JAVA_OPTS", "JAVA_HOME", "CDPATH"), env).await();
    }
}
