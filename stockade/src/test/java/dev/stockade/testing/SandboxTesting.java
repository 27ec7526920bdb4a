package dev.stockade.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.Sandbox;
import dev.stockade.SandboxBuilder;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxPool;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxedProcess;
import dev.stockade.internal.NativeBridge;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.BooleanSupplier;

/**
 * The one set of helpers the sandbox tests share: running a command in a sandbox (or, for
 * comparison, a real tool on the host) and capturing its output, scanning host processes, fds.
 * Who the sandbox runs as is {@link SandboxUser}'s.
 */
public final class SandboxTesting {
    private SandboxTesting() {}

    /** Generous bound that only stops a hung test; no test asserts on timing. */
    public static final Duration HANG_LIMIT = Duration.ofSeconds(120);

    /** SIGSYS: what a seccomp kill looks like to the parent. */
    public static final int SIGSYS = 31;

    /** What a command printed and how it ended. */
    public record Output(SandboxResult result, String stdout, String stderr) {
        public int exitCode() {
            return result.exitCode();
        }

        @Override
        public String toString() {
            return result + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    /** The uid the default policy gives the command: 65534 for a root caller, else the caller's. */
    public static int expectedDefaultUid() {
        return SandboxUser.callerIsRoot() ? SandboxUser.ROOT_CALLER_HOST_ID : NativeBridge.getuid();
    }

    public static int expectedDefaultGid() {
        return SandboxUser.callerIsRoot() ? SandboxUser.ROOT_CALLER_HOST_ID : NativeBridge.getgid();
    }

    /** Runs {@code command} with stdin closed, stdout and stderr captured. */
    public static Output run(SandboxPolicy policy, String... command) throws Exception {
        return run(Sandbox.command(command).policy(policy));
    }

    public static Output run(SandboxPolicy policy, List<String> command) throws Exception {
        return run(Sandbox.command(command).policy(policy));
    }

    public static Output run(SandboxBuilder builder) throws Exception {
        return run(builder, p -> { });
    }

    /**
     * Runs the sandbox with stdin closed, stdout and stderr captured; {@code whileRunning} gets
     * the started process (for sampling it from the host) while the streams are drained.
     */
    public static Output run(SandboxBuilder builder, Consumer<SandboxedProcess> whileRunning)
            throws Exception {
        SandboxPool pool = WARM ? SandboxPool.create(builder.policy(), 1) : null;
        try (SandboxedProcess p = (pool == null ? builder : warmCopy(pool, builder)).start()) {
            if (pool != null) {
                // Before anything samples the host: the pool's refill is reaped by now.
                pool.close();
                assertTrue(p.warm(), "started cold although " + SPAWN_PROPERTY + "=warm");
            }
            p.getOutputStream().close();
            CompletableFuture<String> out = readAsync(p.getInputStream());
            CompletableFuture<String> err = readAsync(p.getErrorStream());
            whileRunning.accept(p);
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
            return new Output(r, out.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                    err.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        } finally {
            if (pool != null) {
                pool.close();
            }
        }
    }

    /**
     * The system property that makes {@link #run} start every sandbox warm: {@code warm} (a pool
     * of one per run, ready before the start, and the start must have been warm), anything
     * else or unset for cold. {@code .ci/run} runs the tests tagged {@link #ISOLATION} both
     * ways.
     */
    public static final String SPAWN_PROPERTY = "stockade.test.spawn";
    /** The tag of the test classes whose isolation checks run both cold and warm. */
    public static final String ISOLATION = "isolation";
    private static final boolean WARM = "warm".equals(System.getProperty(SPAWN_PROPERTY));

    /** Whether {@link #run} starts warm in this run. */
    public static boolean warm() {
        return WARM;
    }

    /** {@code builder}'s settings on a builder of {@code pool}, once the pool has one ready. */
    private static SandboxBuilder warmCopy(SandboxPool pool, SandboxBuilder builder)
            throws Exception {
        if (!pool.awaitReady(1, HANG_LIMIT)) {
            fail("no warm sandbox ready after " + HANG_LIMIT);
        }
        SandboxBuilder copy = pool.command(builder.command()).directory(builder.directory())
                .redirectInput(builder.redirectInput()).redirectOutput(builder.redirectOutput())
                .redirectError(builder.redirectError())
                .redirectErrorStream(builder.redirectErrorStream())
                .measureSetup(builder.measureSetup())
                .onOutputLine(builder.onOutputLine()).onErrorLine(builder.onErrorLine());
        copy.environment().putAll(builder.environment());
        return copy;
    }

    /** What a host command printed and its exit status. */
    public record HostOutput(int exitCode, String stdout, String stderr) {}

    /** Runs {@code command} on the host (never an attack probe: only the real tools). */
    public static HostOutput runOnHost(ProcessBuilder pb) throws Exception {
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

    public static void assertExitedZero(Output out) {
        assertEquals(0, out.exitCode(), () -> "the command failed:\n" + out);
    }

    public static void assertContainsLine(String text, String line) {
        assertTrue(text.lines().anyMatch(line::equals),
                () -> "no line <" + line + "> in:\n" + text);
    }

    public static CompletableFuture<String> readAsync(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A unique word for marking the processes of one test. */
    public static String marker() {
        return "stockade-marker-" + UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * A bash command that runs {@code sleep 1000} under argv[0] {@code marker}, so the process
     * can be found in /proc/PID/cmdline from the host.
     */
    public static String markedSleep(String marker) {
        return "exec -a " + marker + " sleep 1000";
    }

    /** Host pids whose command line contains {@code marker} (this JVM excluded). */
    public static List<Long> hostPidsWithMarker(String marker) {
        byte[] needle = marker.getBytes(StandardCharsets.US_ASCII);
        long self = ProcessHandle.current().pid();
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path dir : proc) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid == self) {
                    continue;
                }
                byte[] cmdline;
                try {
                    cmdline = Files.readAllBytes(dir.resolve("cmdline"));
                } catch (NoSuchFileException e) {
                    continue; // exited while we looked
                } catch (IOException e) {
                    continue; // ESRCH and the like: the process is going away
                }
                if (indexOf(cmdline, needle) >= 0) {
                    pids.add(pid);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Polls {@code condition} until it holds or {@link #HANG_LIMIT} passes. */
    public static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("still not true after " + HANG_LIMIT + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Direct children of this JVM that are zombies (state Z in /proc/PID/stat). */
    public static List<Long> zombieChildren() {
        long self = ProcessHandle.current().pid();
        List<Long> zombies = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path dir : proc) {
                String stat;
                try {
                    stat = Files.readString(dir.resolve("stat"), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    continue;
                }
                // "pid (comm) S ppid ...": comm may contain spaces and parentheses.
                int close = stat.lastIndexOf(')');
                String[] rest = stat.substring(close + 2).split(" ");
                if (rest[0].equals("Z") && Long.parseLong(rest[1]) == self) {
                    zombies.add(Long.parseLong(dir.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return zombies;
    }

    /** Open descriptors of this JVM. */
    public static int openFdCount() {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            int n = 0;
            for (Path ignored : fds) {
                n++;
            }
            return n - 1; // the directory stream's own descriptor
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Live direct children of this JVM but the helper zygote, which the first spawn starts for
     * the JVM's life (HelperZygoteTest covers it): the helpers and what a test started itself.
     */
    public static List<ProcessHandle> children() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .filter(c -> !isZygote(c.pid())).toList();
    }

    /** Whether {@code pid} is a helper zygote (by its name, which it sets itself). */
    public static boolean isZygote(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim()
                    .equals("stockade-zygote");
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    /** The helper zygotes among this JVM's children, by pid. */
    public static List<Long> zygotes() {
        return ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter(SandboxTesting::isZygote).sorted().toList();
    }

    /** Whether a thread of this JVM is inside HelperZygote.forkHelper, waiting for an answer. */
    public static boolean threadWaitsForZygoteAnswer() {
        return Thread.getAllStackTraces().values().stream().anyMatch(stack -> Arrays.stream(stack)
                .anyMatch(f -> f.getMethodName().equals("answer")
                        && f.getClassName().endsWith("HelperZygote")));
    }

    /** The host's hostname, read without running anything. */
    public static String hostHostname() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    }

    public static void assertContains(String haystack, String needle) {
        assertTrue(haystack.contains(needle), "expected <" + needle + "> in <" + haystack + ">");
    }

    /** /usr/bin/python3, present on every machine the tests run on (Debian's python3). */
    public static final String PYTHON = "/usr/bin/python3";

    /** Runs a python3 program inside. */
    public static Output python(SandboxPolicy policy, String program, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-c", program));
        cmd.addAll(List.of(args));
        return run(Sandbox.command(cmd).policy(policy));
    }
}
