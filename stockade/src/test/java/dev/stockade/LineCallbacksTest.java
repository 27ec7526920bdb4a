package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SandboxBuilder.onOutputLine / onErrorLine: lines in order, decoded, without terminators, a
 * last line without a newline, long lines in bounded pieces, all delivered before waitFor()
 * returns, cold and warm; a throwing consumer does not block the step; the stream must be a
 * pipe of its own.
 */
@Timeout(180)
class LineCallbacksTest {
    private static final SandboxPolicy POLICY = SandboxPolicy.defaults();

    private static List<String> lines() {
        return Collections.synchronizedList(new ArrayList<>());
    }

    @Test
    void linesOfBothStreamsInOrderWithoutTerminatorsBeforeWaitForReturns() throws Exception {
        List<String> out = lines();
        List<String> err = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "printf 'one\\ntwo\\r\\n\\nthree'; printf 'e1\\ne2\\n' >&2; exit 3")
                .policy(POLICY).onOutputLine(out::add).onErrorLine(err::add).start()) {
            assertEquals(3, p.waitFor());
            assertEquals(List.of("one", "two", "", "three"), List.copyOf(out));
            assertEquals(List.of("e1", "e2"), List.copyOf(err));
            assertEquals(-1, p.getInputStream().read());
            assertEquals(-1, p.getErrorStream().read());
        }
    }

    @Test
    void onlyTheStreamWithAConsumerIsPumped() throws Exception {
        List<String> err = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "echo to-out; echo to-err >&2").policy(POLICY).onErrorLine(err::add).start()) {
            assertEquals("to-out\n", new String(p.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
            assertEquals(0, p.waitFor());
            assertEquals(List.of("to-err"), List.copyOf(err));
        }
    }

    @Test
    void linesComeAsTheyAreWritten() throws Exception {
        CompletableFuture<String> first = new CompletableFuture<>();
        List<String> out = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "echo first; read x; echo \"second $x\"").policy(POLICY)
                .onOutputLine(line -> {
                    out.add(line);
                    first.complete(line);
                }).start()) {
            // The command waits for stdin: the first line must have come while it runs.
            assertEquals("first", first.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertTrue(p.isAlive());
            p.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            assertEquals(0, p.waitFor());
            assertEquals(List.of("first", "second go"), List.copyOf(out));
        }
    }

    @Test
    void malformedUtf8IsReplaced() throws Exception {
        List<String> out = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "printf 'a\\377b \\303\\251\\n'").policy(POLICY).onOutputLine(out::add)
                .start()) {
            assertEquals(0, p.waitFor());
            assertEquals(List.of("a\uFFFDb \u00e9"), List.copyOf(out));
        }
    }

    @Test
    void aLongLineComesInPiecesCutAtCharacterBoundaries() throws Exception {
        // 30,000 three-byte characters (90,000 bytes): a first piece of as many whole
        // characters as MAX_LINE_BYTES holds, then the rest.
        List<String> out = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "i=0; s=''; while [ $i -lt 100 ]; do s=\"$s\u20ac\"; i=$((i+1)); done;"
                + " j=0; while [ $j -lt 300 ]; do printf '%s' \"$s\"; j=$((j+1)); done;"
                + " printf '\\nend\\n'").policy(POLICY).onOutputLine(out::add).start()) {
            assertEquals(0, p.waitFor());
        }
        int perPiece = SandboxBuilder.MAX_LINE_BYTES / 3;
        assertEquals(List.of("\u20ac".repeat(perPiece), "\u20ac".repeat(30_000 - perPiece),
                "end"), List.copyOf(out));
    }

    @Test
    void aGibibyteLineCostsABoundedBuffer() throws Exception {
        long total = 1L << 30;
        AtomicLong chars = new AtomicLong();
        AtomicInteger pieces = new AtomicInteger();
        AtomicInteger longest = new AtomicInteger();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "head -c " + total + " /dev/zero | tr '\\0' x; echo; echo after")
                .policy(POLICY).onOutputLine(line -> {
                    chars.addAndGet(line.length());
                    pieces.incrementAndGet();
                    longest.accumulateAndGet(line.length(), Math::max);
                }).start()) {
            assertEquals(0, p.waitFor());
        }
        assertEquals(total + "after".length(), chars.get());
        assertEquals(SandboxBuilder.MAX_LINE_BYTES, longest.get());
        // The line's pieces (an exact multiple: no empty piece after the last), then "after".
        assertEquals(total / SandboxBuilder.MAX_LINE_BYTES + 1, pieces.get());
    }

    @Test
    void aThrowingConsumerGetsNoMoreLinesAndTheStreamIsStillDrained() throws Exception {
        // 2 MB of lines, far more than a pipe holds: the command only ends if they are read.
        AtomicInteger calls = new AtomicInteger();
        List<String> err = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "yes line | head -c 2000000; echo done >&2").policy(POLICY)
                .onOutputLine(line -> {
                    calls.incrementAndGet();
                    throw new IllegalStateException("consumer failure (expected by the test)");
                }).onErrorLine(err::add).start()) {
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                    "the command blocked on its stdout");
            assertEquals(0, p.exitValue());
        }
        assertEquals(1, calls.get());
        assertEquals(List.of("done"), List.copyOf(err));
    }

    @Test
    void mergedStderrComesToTheOutputConsumer() throws Exception {
        List<String> out = lines();
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "echo a; echo b >&2; echo c").policy(POLICY).redirectErrorStream(true)
                .onOutputLine(out::add).start()) {
            assertEquals(0, p.waitFor());
            assertEquals(List.of("a", "b", "c"), List.copyOf(out));
        }
    }

    @Test
    void warmStartsDeliverLinesToo() throws Exception {
        try (SandboxPool pool = SandboxPool.create(POLICY, 1)) {
            assertTrue(pool.awaitReady(1, HANG_LIMIT), "pool not ready");
            List<String> out = lines();
            List<String> err = lines();
            try (SandboxedProcess p = pool.command("/bin/sh", "-c",
                    "echo w1; echo w2 >&2; printf w3").onOutputLine(out::add)
                    .onErrorLine(err::add).start()) {
                assertTrue(p.warm(), "started cold");
                assertEquals(0, p.waitFor());
                assertEquals(List.of("w1", "w3"), List.copyOf(out));
                assertEquals(List.of("w2"), List.copyOf(err));
            }
        }
    }

    @Test
    void aConsumerNeedsAPipeOfItsOwn() {
        IllegalStateException out = assertThrows(IllegalStateException.class,
                () -> Sandbox.command("true").policy(POLICY).onOutputLine(l -> { })
                        .redirectOutput(Redirect.DISCARD).start());
        assertEquals("onOutputLine needs stdout to be a pipe (Redirect.PIPE), not "
                + Redirect.DISCARD, out.getMessage());
        IllegalStateException merged = assertThrows(IllegalStateException.class,
                () -> Sandbox.command("true").policy(POLICY).onErrorLine(l -> { })
                        .redirectErrorStream(true).start());
        assertEquals("onErrorLine needs stderr to be a pipe of its own, not merged into stdout"
                + " by redirectErrorStream(true)", merged.getMessage());
        Redirect toFile = Redirect.to(new File("/dev/null"));
        IllegalStateException file = assertThrows(IllegalStateException.class,
                () -> Sandbox.command("true").policy(POLICY).onErrorLine(l -> { })
                        .redirectError(toFile).start());
        assertEquals("onErrorLine needs stderr to be a pipe (Redirect.PIPE), not " + toFile,
                file.getMessage());
    }
}
