package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/** Shared helpers of the sandbox tests: running a command, scanning host processes, fds. */
final class SandboxTesting {
    private SandboxTesting() {}

    /** Generous bound that only stops a hung test; no test asserts on timing. */
    static final Duration HANG_LIMIT = Duration.ofSeconds(60);

    /** What a command printed and how it ended. */
    record Output(SandboxResult result, String stdout, String stderr) {
        int exitCode() {
            return result.exitCode();
        }
    }

    static boolean callerIsRoot() {
        NativeLoader.ensureLoaded();
        return NativeBridge.getuid() == 0;
    }

    /** The uid the default policy gives the command: 65534 for a root caller, else the caller's. */
    static int expectedDefaultUid() {
        return callerIsRoot() ? 65534 : NativeBridge.getuid();
    }

    static int expectedDefaultGid() {
        return callerIsRoot() ? 65534 : NativeBridge.getgid();
    }

    /** Runs {@code command} with stdin closed, stdout and stderr captured. */
    static Output run(SandboxPolicy policy, String... command) throws Exception {
        return run(Sandbox.command(command).policy(policy));
    }

    static Output run(SandboxBuilder builder) throws Exception {
        try (SandboxedProcess p = builder.start()) {
            p.getOutputStream().close();
            CompletableFuture<String> err = readAsync(p.getErrorStream());
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(),
                    java.util.concurrent.TimeUnit.SECONDS);
            return new Output(r, out, err.get());
        }
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

    /** A unique word for marking the processes of one test. */
    static String marker() {
        return "stockade-marker-" + UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * A bash command that runs {@code sleep 1000} under argv[0] {@code marker}, so the process
     * can be found in /proc/PID/cmdline from the host.
     */
    static String markedSleep(String marker) {
        return "exec -a " + marker + " sleep 1000";
    }

    /** Host pids whose command line contains {@code marker} (this JVM excluded). */
    static List<Long> hostPidsWithMarker(String marker) {
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
    static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("still not true after " + HANG_LIMIT + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Direct children of this JVM that are zombies (state Z in /proc/PID/stat). */
    static List<Long> zombieChildren() {
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
    static int openFdCount() {
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

    /** Live direct children of this JVM. */
    static List<ProcessHandle> children() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList();
    }

    /** The host's hostname, read without running anything. */
    static String hostHostname() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    }

    static void assertContains(String haystack, String needle) {
        assertTrue(haystack.contains(needle), "expected <" + needle + "> in <" + haystack + ">");
    }

    /** /usr/bin/python3, present on every machine the tests run on (Debian's python3). */
    static final String PYTHON = "/usr/bin/python3";

    /** Runs a python3 program inside. */
    static Output python(SandboxPolicy policy, String program, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-c", program));
        cmd.addAll(List.of(args));
        return run(Sandbox.command(cmd).policy(policy));
    }
}
