package dev.stockade.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.Sandbox;
import dev.stockade.SandboxBuilder;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxedProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Running a command in a sandbox (or, for comparison, on the host) and capturing its output. */
final class ProfileTesting {
    private ProfileTesting() {}

    /** Generous bound that only stops a hung test; no test asserts on timing. */
    static final Duration HANG_LIMIT = Duration.ofSeconds(120);

    /** SIGSYS: what a seccomp kill looks like to the parent. */
    static final int SIGSYS = 31;

    /** What a command printed and how it ended. */
    record Output(SandboxResult result, String stdout, String stderr) {
        int exitCode() {
            return result.exitCode();
        }

        @Override
        public String toString() {
            return result + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    static Output run(SandboxPolicy policy, List<String> command) throws Exception {
        return run(Sandbox.command(command).policy(policy), p -> { });
    }

    /**
     * Runs the sandbox with stdin closed, stdout and stderr captured; {@code whileRunning} gets
     * the started process (for sampling it from the host) while the streams are drained.
     */
    static Output run(SandboxBuilder builder, Consumer<SandboxedProcess> whileRunning)
            throws Exception {
        try (SandboxedProcess p = builder.start()) {
            p.getOutputStream().close();
            CompletableFuture<String> out = readAsync(p.getInputStream());
            CompletableFuture<String> err = readAsync(p.getErrorStream());
            whileRunning.accept(p);
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            return new Output(r, out.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                    err.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
    }

    /** What a host command printed and its exit status. */
    record HostOutput(int exitCode, String stdout, String stderr) {}

    /** Runs {@code command} on the host (never an attack probe: only the real tools). */
    static HostOutput runOnHost(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = readAsync(p.getInputStream());
        CompletableFuture<String> err = readAsync(p.getErrorStream());
        if (!p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("host command still running after " + HANG_LIMIT + ": " + pb.command());
        }
        return new HostOutput(p.exitValue(), out.get(), err.get());
    }

    static CompletableFuture<String> readAsync(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static void assertExitedZero(Output out) {
        assertEquals(0, out.exitCode(), () -> "the command failed:\n" + out);
    }

    static void assertContainsLine(String text, String line) {
        assertTrue(text.lines().anyMatch(line::equals),
                () -> "no line <" + line + "> in:\n" + text);
    }
}
