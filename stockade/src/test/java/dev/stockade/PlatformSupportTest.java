package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sandbox.isSupported() and Sandbox.probe() on this platform and, in JVMs told another os.name
 * or os.arch, on platforms this jar has no natives for: they say why instead of throwing, and
 * no class fails to initialize.
 */
@Timeout(120)
class PlatformSupportTest {

    @Test
    void thisPlatformIsSupported() throws Exception {
        assertTrue(Sandbox.isSupported());
        assertTrue(Sandbox.probe().feature(ProbeReport.PLATFORM).isEmpty());
    }

    @Test
    void anotherOsIsUnsupportedAndSaysWhy() throws Exception {
        assertEquals(List.of("supported=false",
                "feature platform available=false: Stockade runs on Linux only, and this jar"
                        + " has natives for linux-x86_64 only; this JVM reports os.name=Mac OS X,"
                        + " os.arch=aarch64: run it on a supported platform (sandboxing uses"
                        + " Linux kernel features)",
                "SafeFiles initialized"), childLines("-Dos.name=Mac OS X", "-Dos.arch=aarch64"));
    }

    @Test
    void anArchitectureWithoutNativesInTheJarIsUnsupported() throws Exception {
        assertEquals(List.of("supported=false",
                "feature platform available=false: this Stockade jar has natives for"
                        + " linux-x86_64 only; this JVM runs on linux-aarch64 (os.name=Linux,"
                        + " os.arch=aarch64): use a Stockade build with natives for it, or set"
                        + " -Dstockade.library and -Dstockade.helper to installed copies",
                "SafeFiles initialized"), childLines("-Dos.arch=aarch64"));
        assertEquals(List.of("supported=false",
                "feature platform available=false: Stockade runs on Linux only, and this jar"
                        + " has natives for linux-x86_64 only; this JVM reports os.name=Linux,"
                        + " os.arch=ppc64le: run it on a supported platform (sandboxing uses"
                        + " Linux kernel features)",
                "SafeFiles initialized"), childLines("-Dos.arch=ppc64le"));
    }

    @Test
    void nativesThatCannotBeLoadedAreReportedNotThrown() throws Exception {
        List<String> lines = childLines("-Dstockade.library=/nonexistent/libstockade.so");
        assertEquals("supported=true", lines.get(0));
        assertTrue(lines.get(1).startsWith("feature natives available=false: ")
                && lines.get(1).contains("/nonexistent/libstockade.so"), lines.get(1));
        assertEquals(List.of("SafeFiles initialized"), lines.subList(2, lines.size()));
    }

    private static List<String> childLines(String... jvmOptions) throws Exception {
        Process p = ChildJvm.start(Map.of(), List.of(jvmOptions), PlatformProbeMain.class);
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        return out.lines().toList();
    }
}
