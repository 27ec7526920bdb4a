package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the CLI as its own JVM ({@code java -cp <test classpath> dev.stockade.cli.Main ...}),
 * the way a user runs it: the sandboxed command inherits that JVM's real stdio, which this
 * class captures. (In-process runs would hand the command the test JVM's own stdout.)
 */
final class CliProcess {

    /** Generous: only there to stop a hang, never to measure anything. */
    static final long TIMEOUT_SECONDS = 120;

    final Process process;
    private final CompletableFuture<byte[]> stdout;
    private final CompletableFuture<byte[]> stderr;

    private CliProcess(Process process) {
        this.process = process;
        this.stdout = drain(process.getInputStream());
        this.stderr = drain(process.getErrorStream());
    }

    /** Starts the CLI with {@code args} in {@code directory}, environment plus {@code env}. */
    static CliProcess start(Path directory, Map<String, String> env, String... args) throws IOException {
        return startProgram(command(args), directory, List.of(), env);
    }

    /**
     * Starts {@code command} (the CLI, or a launcher of it such as {@code bin/stockade}) in
     * {@code directory}, with stdin at EOF, this JVM's environment without {@code unset} and
     * with {@code env}.
     */
    static CliProcess startProgram(List<String> command, Path directory, List<String> unset,
            Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        builder.environment().keySet().removeAll(unset);
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.PIPE);
        CliProcess cli = new CliProcess(builder.start());
        cli.process.getOutputStream().close();
        return cli;
    }

    /** The command line that starts the CLI with {@code args}, for a caller that starts it. */
    static List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("-cp");
        command.add(absoluteClassPath());
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        // The egress tests' names (web.stockade.test, ...) resolve as in this JVM.
        String hosts = System.getProperty("jdk.net.hosts.file");
        if (hosts != null) {
            command.add("-Djdk.net.hosts.file=" + Path.of(hosts).toAbsolutePath());
        }
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        return command;
    }

    /**
     * This JVM's class path with every entry made absolute: the CLI runs in another directory,
     * and CI's unprivileged run uses relative entries.
     */
    private static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * Runs {@code stockade run --workspace <workspace> <options> -- /bin/sh -c <script>} to
     * completion, from the workspace.
     */
    static Result runShell(Path workspace, List<String> options, String script)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(options);
        args.addAll(List.of("--", "/bin/sh", "-c", script));
        return run(workspace, args.toArray(String[]::new));
    }

    /** Runs the CLI to completion. */
    static Result run(Path directory, String... args) throws Exception {
        return start(directory, Map.of(), args).await();
    }

    static Result run(Path directory, Map<String, String> env, String... args) throws Exception {
        return start(directory, env, args).await();
    }

    Result await() throws Exception {
        boolean exited = process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        assertTrue(exited, "the CLI did not exit within " + TIMEOUT_SECONDS + " s");
        return new Result(process.exitValue(),
                new String(stdout.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                new String(stderr.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                in.transferTo(buffer);
                return buffer.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, CliProcess::startDaemon);
    }

    /** A thread per stream: a shared pool could leave one stream undrained and block the CLI. */
    private static void startDaemon(Runnable task) {
        Thread thread = new Thread(task, "cli-drain");
        thread.setDaemon(true);
        thread.start();
    }

    /** What one CLI run produced. */
    record Result(int exitCode, String stdout, String stderr) {
        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }
}
