package dev.stockade.internal.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The library jar has no runtime dependency: without Jackson, OCI import and export fail with
 * an exception that names the artifact to add, not with a NoClassDefFoundError.
 */
@Pure
class WithoutJacksonTest {

    @Test
    void ociNeedsJacksonAndSaysSo() throws Exception {
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains("jackson")) {
                classPath.add(entry);
            }
        }
        assertTrue(classPath.size() < System.getProperty("java.class.path")
                .split(File.pathSeparator).length, "Jackson is on the test class path");
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", String.join(File.pathSeparator, classPath), "-Xshare:auto",
                WithoutJacksonMain.class.getName())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        assertEquals(0, p.exitValue(), out);
        String needs = " OCI seccomp JSON needs Jackson, which Stockade's library jar does not"
                + " bring along: add the dependency com.fasterxml.jackson.core:jackson-databind"
                + " (2.x) to your build";
        assertEquals("read: java.lang.IllegalStateException: reading" + needs + "\n"
                + "fromOci: java.lang.IllegalStateException: reading" + needs + "\n"
                + "write: java.lang.IllegalStateException: writing" + needs + "\n", out);
    }
}
