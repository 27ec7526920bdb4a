package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.internal.NativeLoader;
import dev.stockade.testing.Pure;
import org.junit.jupiter.api.Test;

/**
 * {@link Sandbox#version()} is the version the natives are extracted under, which
 * {@code NativeLoaderTest} keeps equal to pom.xml's.
 */
@Pure
class SandboxVersionTest {

    @Test
    void theVersionIsTheNativesVersion() {
        assertEquals(NativeLoader.VERSION, Sandbox.version());
    }
}
