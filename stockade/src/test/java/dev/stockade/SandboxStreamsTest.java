package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.assertContains;
import static dev.stockade.testing.SandboxTesting.children;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** stdin, stdout and stderr with PIPE, INHERIT, DISCARD and files. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class SandboxStreamsTest {
    private static final SandboxPolicy POLICY = SandboxPolicy.defaults();

    @Test
    void pipesCarryStdinStdoutAndStderrSeparately() throws Exception {
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "read line; echo \"out:$line\"; echo \"err:$line\" >&2").policy(POLICY).start()) {
            p.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            CompletableFuture<String> err = readAsync(p.getErrorStream());
            assertEquals("out:hello\n", new String(p.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
            assertEquals("err:hello\n", err.get());
            assertEquals(0, p.waitFor());
        }
    }

    @Test
    void tenMegabytesThroughCatIntact() throws Exception {
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(data);
        try (SandboxedProcess p = Sandbox.command("cat").policy(POLICY).start()) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (OutputStream in = p.getOutputStream()) {
                    for (int off = 0; off < data.length; off += 100_000) {
                        in.write(data, off, Math.min(100_000, data.length - off));
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = p.getInputStream().readAllBytes();
            writer.get();
            assertEquals(0, p.waitFor());
            assertEquals(data.length, back.length);
            assertArrayEquals(sha256(data), sha256(back));
            assertArrayEquals(data, back);
        }
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    @Test
    void outputWrittenBeforeExitIsReadableAfterwards() throws Exception {
        // Nobody reads while the command runs: after the end the bytes are kept in memory and
        // the pipe's descriptor is released.
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "echo first; echo second >&2").policy(POLICY).start()) {
            assertEquals(0, p.waitFor());
            assertEquals("first\n", new String(p.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
            assertEquals("second\n", new String(p.getErrorStream().readAllBytes(),
                    StandardCharsets.UTF_8));
            IOException closed = assertThrows(IOException.class,
                    () -> p.getOutputStream().write(1));
            assertEquals("Stream closed", closed.getMessage());
        }
    }

    @Test
    void redirectErrorStreamMergesIntoStdout() throws Exception {
        Output out = run(Sandbox.command("/bin/sh", "-c", "echo a; echo b >&2; echo c")
                .policy(POLICY).redirectErrorStream(true));
        assertEquals("a\nb\nc\n", out.stdout());
        assertEquals("", out.stderr());
    }

    @Test
    void discardGivesEmptyStreams() throws Exception {
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "head -c 1000000 /dev/zero; echo gone >&2")
                .policy(POLICY).redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD)
                .start()) {
            assertEquals(0, p.waitFor());
            assertEquals(-1, p.getInputStream().read());
            assertEquals(0, p.getInputStream().available());
            assertEquals(-1, p.getErrorStream().read());
        }
    }

    @Test
    void filesForStdinStdoutAndStderr(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.txt");
        Files.writeString(in, "from a file\n");
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Files.writeString(out, "old content that must be truncated away\n");
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "cat; echo oops >&2")
                .policy(POLICY)
                .redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(Redirect.to(err.toFile())).start()) {
            assertEquals(0, p.waitFor());
            assertEquals(-1, p.getInputStream().read(), "stdout is a file, not a pipe");
            assertThrows(IOException.class, () -> p.getOutputStream().write(1));
        }
        assertEquals("from a file\n", Files.readString(out));
        assertEquals("oops\n", Files.readString(err));
    }

    @Test
    void appendToFile(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log.txt");
        Files.writeString(log, "one\n");
        for (String word : List.of("two", "three")) {
            try (SandboxedProcess p = Sandbox.command("echo", word).policy(POLICY)
                    .redirectOutput(Redirect.appendTo(log.toFile())).start()) {
                assertEquals(0, p.waitFor());
            }
        }
        assertEquals("one\ntwo\nthree\n", Files.readString(log));
    }

    @Test
    void missingInputFileFailsBeforeAnythingStarts(@TempDir Path dir) {
        File missing = dir.resolve("missing.txt").toFile();
        List<ProcessHandle> before = children();
        IOException e = assertThrows(IOException.class, () -> Sandbox.command("cat")
                .policy(POLICY).redirectInput(missing).start());
        assertTrue(!(e instanceof SandboxSetupException), e.toString());
        assertContains(e.getMessage(), missing.toString());
        assertContains(e.getMessage(), "No such file or directory (errno 2)");
        assertEquals(before, children(), "no helper was started");
    }

    @Test
    void inheritedStreamsAreTheCallersOwn() throws Exception {
        // This JVM's stdio belong to the test runner, so a child JVM inherits them instead:
        // its stdin, stdout and stderr are pipes to this test.
        Process jvm = ChildJvm.start(InheritIoMain.class);
        try {
            jvm.getOutputStream().write("through\n".getBytes(StandardCharsets.UTF_8));
            jvm.getOutputStream().close();
            CompletableFuture<String> err = readAsync(jvm.getErrorStream());
            String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(jvm.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals("out:through\n", out);
            assertEquals("err:through\n", err.get());
            assertEquals(7, jvm.exitValue(), "the sandboxed command's exit code, passed on");
        } finally {
            jvm.destroyForcibly();
        }
    }

    @Test
    void unreadOutputDoesNotBlockTheEnd() throws Exception {
        // Less than a pipe buffer: the command finishes although nobody reads.
        try (SandboxedProcess p = Sandbox.command("head", "-c", "4096", "/dev/zero")
                .policy(POLICY).start()) {
            assertEquals(0, p.waitFor());
            InputStream in = p.getInputStream();
            assertEquals(4096, in.readAllBytes().length);
        }
    }

    @Test
    void waitForDoesNotWaitForALeftoverHoldingThePipe() throws Exception {
        // Without a pid namespace a process that leaves the command's session survives it and
        // keeps the stdout pipe open; like the JDK's processes, waitFor() returns when the
        // command has ended, not when every holder of its pipes has.
        String marker = SandboxTesting.marker();
        SandboxPolicy policy = SandboxPolicy.builder().disable(Namespace.PID).build();
        SandboxedProcess p = Sandbox.command("/bin/bash", "-c",
                "setsid bash -c 'touch /tmp/left; " + SandboxTesting.markedSleep(marker) + "' &"
                        + " until [ -e /tmp/left ]; do sleep 0.01; done; echo started")
                .policy(policy).start();
        try {
            CompletableFuture<String> out = readAsync(p.getInputStream());
            // The leftover sleeps 1000 s: had waitFor() waited for it, this would time out.
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS), "waitFor returned");
            assertEquals(0, p.exitValue());
            SandboxTesting.awaitTrue("the leftover runs (holding the pipe) after waitFor",
                    () -> SandboxTesting.hostPidsWithMarker(marker).size() == 1);
            assertEquals(p, p.onExit().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            for (long pid : SandboxTesting.hostPidsWithMarker(marker)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            assertEquals("started\n", out.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        } finally {
            for (long pid : SandboxTesting.hostPidsWithMarker(marker)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
