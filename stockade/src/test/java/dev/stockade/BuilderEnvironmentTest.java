package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SandboxBuilder.environment(): starts empty, sets its entries over the policy's environment at
 * each start, cold and warm, and refuses bad entries at start naming the variable.
 */
@Timeout(120)
class BuilderEnvironmentTest {
    private static final SandboxPolicy POLICY = SandboxPolicy.builder().env("FOO", "policy")
            .env("KEEP", "kept").build();
    private static final String PRINT = "echo \"$FOO|$BAR|$KEEP|$PATH\"";

    @Test
    void startsEmptyAndHoldsNothingOfThisJvm() {
        SandboxBuilder b = Sandbox.command("true");
        assertTrue(b.environment().isEmpty());
        assertTrue(System.getenv().containsKey("PATH"), "the test needs a PATH of its own");
    }

    @Test
    void entriesAreSetOverThePolicysEnvironment() throws Exception {
        SandboxBuilder b = Sandbox.command("/bin/sh", "-c", PRINT).policy(POLICY);
        b.environment().put("FOO", "mine");
        b.environment().put("BAR", "new");
        Output out = run(b);
        assertEquals(0, out.exitCode(), out::toString);
        assertEquals("mine|new|kept|" + POLICY.environment().get("PATH") + "\n", out.stdout());
        // The builder's map is read at each start: without the entries, the policy's again.
        b.environment().clear();
        assertEquals("policy||kept|" + POLICY.environment().get("PATH") + "\n", run(b).stdout());
    }

    @Test
    void theCommandIsLookedUpInTheBuildersPath() throws Exception {
        SandboxBuilder b = Sandbox.command("sh", "-c", "echo \"$PATH\"").policy(POLICY);
        b.environment().put("PATH", "/bin:/usr/bin");
        Output out = run(b);
        assertEquals(0, out.exitCode(), out::toString);
        assertEquals("/bin:/usr/bin\n", out.stdout());
    }

    @Test
    void aWarmStartGetsTheEntriesToo() throws Exception {
        try (SandboxPool pool = SandboxPool.create(POLICY, 1)) {
            assertTrue(pool.awaitReady(1, HANG_LIMIT), "pool not ready");
            SandboxBuilder b = pool.command("/bin/sh", "-c", PRINT);
            b.environment().put("FOO", "warm");
            try (SandboxedProcess p = b.start()) {
                assertTrue(p.warm(), "started cold");
                p.getOutputStream().close();
                String out = new String(p.getInputStream().readAllBytes(),
                        StandardCharsets.UTF_8);
                assertEquals(0, p.waitFor());
                assertEquals("warm||kept|" + POLICY.environment().get("PATH") + "\n", out);
            }
        }
    }

    @Test
    void badEntriesFailTheStartNamingTheVariable() {
        assertEquals("SandboxBuilder.environment(): environment variable name 'A=B' contains"
                + " '=' or NUL", startWith("A=B", "x").getMessage());
        assertEquals("SandboxBuilder.environment(): environment variable X has a value"
                + " containing NUL", startWith("X", "a\0b").getMessage());
        assertEquals("SandboxBuilder.environment(): environment variable Y has a null value",
                startWith("Y", null).getMessage());
        assertEquals("SandboxBuilder.environment(): environment variable name is empty",
                startWith("", "v").getMessage());
    }

    private static IllegalArgumentException startWith(String name, String value) {
        SandboxBuilder b = Sandbox.command("true").policy(POLICY);
        b.environment().put(name, value);
        return assertThrows(IllegalArgumentException.class, b::start);
    }
}
