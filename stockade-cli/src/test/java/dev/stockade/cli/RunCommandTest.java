package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.ProbeReport;
import dev.stockade.Sandbox;
import dev.stockade.cli.CliProcess.Result;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run} end to end: the CLI as its own JVM, real sandboxes, exact exit codes and
 * output. Each restriction is shown to allow the allowed case before it is shown to refuse.
 */
class RunCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path workspace;

    /** Reports go outside the workspace: the CLI refuses a report path the command can write. */
    @TempDir
    Path reports;

    private Result run(String... args) throws Exception {
        return CliProcess.run(workspace, args);
    }

    /** {@code stockade run --workspace <ws> <options> -- sh -c <script>}. */
    private Result sh(List<String> options, String script) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(options);
        args.addAll(List.of("--", "/bin/sh", "-c", script));
        return run(args.toArray(String[]::new));
    }

    @Test
    void exitStatusIsPassedThrough() throws Exception {
        Result ok = sh(List.of(), "echo out; echo err >&2");
        assertEquals(0, ok.exitCode(), ok.toString());
        assertEquals("out\n", ok.stdout());
        assertEquals("err\n", ok.stderr());

        Result three = sh(List.of(), "exit 3");
        assertEquals(3, three.exitCode(), three.toString());
        assertEquals("", three.stderr());

        Result max = sh(List.of(), "exit 255");
        assertEquals(255, max.exitCode(), max.toString());
    }

    @Test
    void aCommandOutsideTheViewIsNamedWithTheFlagThatAddsIt(@TempDir Path tools)
            throws Exception {
        Path root = tools.toRealPath().resolve("tool-1.0");
        Path tool = Files.createDirectories(root.resolve("bin")).resolve("stockade-test-tool");
        Files.writeString(tool, "#!/bin/sh\necho tool ran\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = Map.of("PATH", tool.getParent() + ":/usr/bin:/bin");

        Result added = CliProcess.run(workspace, env, "run", "--workspace",
                workspace.toString(), "--toolchain", root.toString(), "--", tool.toString());
        assertEquals(0, added.exitCode(), added.toString());
        assertEquals("tool ran\n", added.stdout());
        assertEquals("", added.stderr());

        Result missing = CliProcess.run(workspace, env, "run", "--workspace",
                workspace.toString(), "--", "stockade-test-tool");
        assertEquals(127, missing.exitCode(), missing.toString());
        assertEquals("stockade: warning: stockade-test-tool is " + tool + ", outside the"
                + " sandbox's view; add it with --toolchain " + root,
                missing.stderr().lines().findFirst().orElse(""), missing.toString());
    }

    @Test
    void killedBySignalIs128PlusN() throws Exception {
        Result killed = sh(List.of(), "kill -9 $$");
        assertEquals(128 + 9, killed.exitCode(), killed.toString());
        Result segv = sh(List.of(), "kill -SEGV $$");
        assertEquals(128 + 11, segv.exitCode(), segv.toString());
    }

    @Test
    void timeoutIs124() throws Exception {
        Result inTime = sh(List.of("--timeout", "60s"), "exit 0");
        assertEquals(0, inTime.exitCode(), inTime.toString());

        Result late = run("run", "--workspace", workspace.toString(), "--timeout", "1s", "--",
                "sleep", "1000");
        assertEquals(124, late.exitCode(), late.toString());
        assertEquals(List.of("stockade: timed out after 1s"), late.stderrLines());
    }

    @Test
    void commandNotFoundIs127() throws Exception {
        Result found = run("run", "--workspace", workspace.toString(), "--", "true");
        assertEquals(0, found.exitCode(), found.toString());

        Result missing = run("run", "--workspace", workspace.toString(), "--",
                "/nonexistent/stockade-no-such-command");
        assertEquals(127, missing.exitCode(), missing.toString());
        assertEquals(1, missing.stderrLines().size(), missing.toString());
        assertTrue(missing.stderrLines().get(0).startsWith("stockade: "), missing.toString());
        assertTrue(missing.stderr().contains("/nonexistent/stockade-no-such-command"), missing.toString());
    }

    @Test
    void commandNotExecutableIs126() throws Exception {
        Path script = workspace.resolve("script.sh");
        Files.writeString(script, "#!/bin/sh\necho ran\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result executable = run("run", "--workspace", workspace.toString(), "--", script.toString());
        assertEquals(0, executable.exitCode(), executable.toString());
        assertEquals("ran\n", executable.stdout());

        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        Result notExecutable = run("run", "--workspace", workspace.toString(), "--", script.toString());
        assertEquals(126, notExecutable.exitCode(), notExecutable.toString());
        assertEquals(1, notExecutable.stderrLines().size(), notExecutable.toString());
        assertTrue(notExecutable.stderrLines().get(0).startsWith("stockade: "), notExecutable.toString());
        assertEquals("", notExecutable.stdout());
    }

    @Test
    void setupFailureIs125WithOneLine() throws Exception {
        Path data = Files.createDirectory(workspace.resolve("data"));
        Result bound = sh(List.of("--ro-bind", data + ":/mnt"), "ls -d /mnt");
        assertEquals(0, bound.exitCode(), bound.toString());
        assertEquals("/mnt\n", bound.stdout());

        // The target's parent does not exist in the sandbox's own /dev, which holds only the
        // helper's devices, so the mount cannot be made: a set-up failure, found at the start.
        Result failed = sh(List.of("--ro-bind", data + ":/dev/nonexistent-stockade-dir/data"),
                "true");
        assertEquals(125, failed.exitCode(), failed.toString());
        assertEquals(1, failed.stderrLines().size(), failed.toString());
        assertEquals("stockade: sandbox set-up failed at step 'bind': No such file or directory"
                + " (errno 2): target does not exist in the sandbox:"
                + " /dev/nonexistent-stockade-dir/data", failed.stderrLines().get(0));

        // Missing in the host's /usr, shown read-only, where no mount point is ever made: the
        // policy says so before anything starts, as bad input.
        Result refused = sh(List.of("--ro-bind", data + ":/usr/nonexistent-stockade-dir/data"),
                "true");
        assertEquals(2, refused.exitCode(), refused.toString());
        assertEquals("stockade: invalid policy: mount target /usr/nonexistent-stockade-dir/data"
                + " does not exist in /usr, a host directory the view shows, and is not made"
                + " there (that would change the host): make /usr/nonexistent-stockade-dir/data"
                + " on the host, or mount somewhere else (bind-ro " + data
                + " -> /usr/nonexistent-stockade-dir/data)", refused.stderrLines().get(0));
    }

    @Test
    void badFlagIsExit2WithOneLineAndNothingRuns() throws Exception {
        Path marker = workspace.resolve("marker");
        Result bad = run("run", "--workspace", workspace.toString(), "--processes", "-4", "--",
                "touch", marker.toString());
        assertEquals(2, bad.exitCode(), bad.toString());
        assertEquals(List.of("stockade: Invalid value for option '--processes': "
                        + "'-4' is not a positive whole number", "Try 'stockade run --help'"),
                bad.stderrLines());
        assertEquals("", bad.stdout());
        assertFalse(Files.exists(marker));
    }

    @Test
    void workspaceDefaultsToTheCurrentDirectoryAndIsWritable() throws Exception {
        Result result = run("run", "--", "/bin/sh", "-c", "pwd; echo kept > out.txt");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(workspace.toRealPath() + "\n", result.stdout());
        assertEquals("kept\n", Files.readString(workspace.resolve("out.txt")));
    }

    @Test
    void commandWithoutDoubleDashKeepsItsOwnOptions() throws Exception {
        Result result = run("run", "--workspace", workspace.toString(), "/bin/sh", "-c", "echo $0", "--timeout");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("--timeout\n", result.stdout());
    }

    @Test
    void environmentHasOnlyWhatIsNamed() throws Exception {
        Result result = CliProcess.run(workspace, Map.of("PASSED", "yes", "NOT_PASSED", "no"),
                "run", "--env", "SET=a=b", "--pass-env", "PASSED", "--pass-env", "UNSET_VAR_XYZ",
                "--", "/bin/sh", "-c",
                "echo \"$SET|$PASSED|${NOT_PASSED-unset}|${UNSET_VAR_XYZ-unset}\"");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("a=b|yes|unset|unset\n", result.stdout());
    }

    @Test
    void readOnlyAndReadWriteBinds() throws Exception {
        Path host = Files.createDirectory(workspace.resolve("host"));
        Files.writeString(host.resolve("in.txt"), "hello\n");

        Result readWrite = sh(List.of("--bind", host + ":/mnt"), "cat /mnt/in.txt; echo written > /mnt/new.txt");
        assertEquals(0, readWrite.exitCode(), readWrite.toString());
        assertEquals("hello\n", readWrite.stdout());
        assertEquals("written\n", Files.readString(host.resolve("new.txt")));

        Result readOnly = sh(List.of("--ro-bind", host + ":/mnt"), "cat /mnt/in.txt; echo x > /mnt/other.txt");
        assertEquals(2, readOnly.exitCode(), readOnly.toString());
        assertEquals("hello\n", readOnly.stdout());
        assertTrue(readOnly.stderr().contains("Read-only file system"), readOnly.toString());
        assertFalse(Files.exists(host.resolve("other.txt")));
    }

    @Test
    void tmpfsIsFreshAndSizeLimited() throws Exception {
        Result fits = sh(List.of("--tmpfs", "/mnt:1m"),
                "ls -A /mnt; head -c 524288 /dev/zero > /mnt/half && wc -c < /mnt/half");
        assertEquals(0, fits.exitCode(), fits.toString());
        assertEquals("524288\n", fits.stdout());

        Result full = sh(List.of("--tmpfs", "/mnt:1m"), "head -c 2097152 /dev/zero > /mnt/big");
        assertEquals(1, full.exitCode(), full.toString());
        assertTrue(full.stderr().contains("No space left on device"), full.toString());
    }

    @Test
    void networkNoneCannotReachTheHostButHostCan() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> acceptAll(server), "cli-test-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
            String connect = "exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + " && echo connected";
            Result host = run("run", "--workspace", workspace.toString(), "--net", "host", "--",
                    "/bin/bash", "-c", connect);
            assertEquals(0, host.exitCode(), host.toString());
            assertEquals("connected\n", host.stdout());

            Result none = run("run", "--workspace", workspace.toString(), "--", "/bin/bash", "-c", connect);
            assertEquals(1, none.exitCode(), none.toString());
            assertEquals("", none.stdout());
            assertTrue(none.stderr().contains("Connection refused"), none.toString());
        }
    }

    private static void acceptAll(ServerSocket server) {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                socket.getOutputStream().write('!');
            } catch (IOException closed) {
                return;
            }
        }
    }

    @Test
    void limitsReachTheCommand() throws Exception {
        Result result = sh(List.of("--open-files", "64", "--processes", "300", "--max-file-size", "1m",
                "--cpu-time", "30"), "grep -E '^Max (open files|processes|file size|cpu time)' /proc/self/limits");
        assertEquals(0, result.exitCode(), result.toString());
        List<String> lines = result.stdout().lines().map(l -> l.strip().replaceAll(" {2,}", "|")).toList();
        assertEquals(List.of(
                "Max cpu time|30|31|seconds",
                "Max file size|1048576|1048576|bytes",
                "Max processes|300|300|processes",
                "Max open files|64|64|files"), lines);
    }

    @Test
    void memoryAndCpusGoThroughTheSandboxsOwnCgroup() throws Exception {
        ProbeReport probe = Sandbox.probe();
        String hog = "python3 -c \"a = bytearray(b'x') * (200 << 20); print('allocated')\"";
        Result small = sh(List.of("--memory", "256m", "--cpus", "0.5"), hog);
        Result big = sh(List.of("--memory", "64m", "--cpus", "0.5"), hog);
        if (probe.cgroupDelegation()) {
            assertEquals(0, small.exitCode(), small.toString());
            assertEquals("allocated\n", small.stdout(), small.toString());
            assertEquals(128 + 9, big.exitCode(), big.toString()); // the OOM killer's SIGKILL
            assertEquals("", big.stdout(), big.toString());
        } else {
            // No cgroup: the start fails and says how to get one.
            for (Result r : List.of(small, big)) {
                assertEquals(125, r.exitCode(), r.toString());
                assertTrue(r.stderr().contains("cgroup") && r.stderr().contains(
                        "systemd-run --user --scope -p Delegate=yes"), r.toString());
            }
            Result bestEffort = sh(List.of("--memory", "256m", "--memory-best-effort"), hog);
            assertEquals(0, bestEffort.exitCode(), bestEffort.toString());
            assertEquals("allocated\n", bestEffort.stdout(), bestEffort.toString());
        }
    }

    @Test
    void fileSizeLimitKillsWithSigxfsz() throws Exception {
        Result small = sh(List.of("--max-file-size", "4k"), "head -c 4096 /dev/zero > small");
        assertEquals(0, small.exitCode(), small.toString());

        Result big = sh(List.of("--max-file-size", "4k"), "exec head -c 8192 /dev/zero > big");
        assertEquals(128 + 25, big.exitCode(), big.toString()); // SIGXFSZ
        assertEquals(4096, Files.size(workspace.resolve("big")));
    }

    @Test
    void uidAndGidInsideTheSandbox() throws Exception {
        Result result = sh(List.of("--uid", "1234", "--gid", "2345"), "id -u; id -g");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("1234\n2345\n", result.stdout());
    }

    @Test
    void reportHasExactFieldsForAnExit() throws Exception {
        Path report = reports.resolve("report.json");
        Result result = sh(List.of("--report", report.toString()), "exit 3");
        assertEquals(3, result.exitCode(), result.toString());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(List.of("exitCode", "signal", "timedOut", "wallTimeMs", "userCpuMs", "sysCpuMs",
                "maxRssKb", "setupError", "violations", "collected", "limitHit", "peakMemoryBytes",
                "peakProcesses", "outputBytes", "droppedOutputBytes", "notes", "commit", "connections"),
                fieldNames(json));
        assertEquals(3, json.get("exitCode").intValue());
        assertEquals(0, json.get("signal").intValue());
        assertFalse(json.get("timedOut").booleanValue());
        assertTrue(json.get("wallTimeMs").isIntegralNumber() && json.get("wallTimeMs").longValue() >= 0);
        assertTrue(json.get("userCpuMs").isIntegralNumber() && json.get("userCpuMs").longValue() >= 0);
        assertTrue(json.get("sysCpuMs").isIntegralNumber() && json.get("sysCpuMs").longValue() >= 0);
        assertTrue(json.get("maxRssKb").longValue() > 0, json.toString());
        assertTrue(json.get("setupError").isNull());
        assertEquals("[]", json.get("violations").toString());
        assertTrue(json.get("limitHit").isNull(), json.toString());
        assertTrue(json.get("peakMemoryBytes").longValue() > 0, json.toString());
        assertEquals("[]", json.get("notes").toString());
        assertTrue(json.get("commit").isNull(), json.toString());
        assertEquals("[]", json.get("connections").toString());
    }

    @Test
    void aLimitThatKilledTheCommandIsNamedOnOneLineAndInTheReport() throws Exception {
        Result small = sh(List.of("--cpu-time", "1"), "exit 0");
        assertEquals(0, small.exitCode(), small.toString());
        assertEquals("", small.stderr());

        Path report = reports.resolve("cpu.json");
        Result spinner = sh(List.of("--cpu-time", "1", "--report", report.toString()),
                "while :; do :; done");
        assertEquals(128 + 24, spinner.exitCode(), spinner.toString()); // SIGXCPU
        assertEquals(List.of("stockade: killed: CPU time limit 1s reached"),
                spinner.stderrLines());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals("CPU_TIME", json.get("limitHit").textValue(), json.toString());
        assertEquals(24, json.get("signal").intValue(), json.toString());

        Result big = sh(List.of("--max-file-size", "4k"), "exec head -c 8192 /dev/zero > big");
        assertEquals(128 + 25, big.exitCode(), big.toString()); // SIGXFSZ
        assertEquals(List.of("stockade: killed: file size limit 4 KiB reached"),
                big.stderrLines());
    }

    @Test
    void memoryPerProcessLetsAJvmRunAndStopsAnAllocation() throws Exception {
        Result jvm = run("run", "--workspace", workspace.toString(), "--memory-per-process",
                "256m", "--", ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx128m", "-version");
        assertEquals(0, jvm.exitCode(), jvm.toString());

        Result hog = sh(List.of("--memory-per-process", "64m"),
                "exec python3 -c 'b = bytearray(200 * 1024 * 1024)'");
        assertEquals(1, hog.exitCode(), hog.toString());
        assertTrue(hog.stderr().contains("MemoryError"), hog.toString());
    }

    @Test
    void reportForTimeoutAndSignal() throws Exception {
        Path report = reports.resolve("timeout.json");
        Result late = sh(List.of("--timeout", "1s", "--report", report.toString()), "exec sleep 1000");
        assertEquals(124, late.exitCode(), late.toString());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(124, json.get("exitCode").intValue());
        assertTrue(json.get("timedOut").booleanValue());
        assertEquals(15, json.get("signal").intValue(), json.toString()); // SIGTERM, then the grace
        assertTrue(json.get("wallTimeMs").longValue() >= 1000, json.toString());
        assertTrue(json.get("setupError").isNull());
        assertEquals("WALL_TIME", json.get("limitHit").textValue(), json.toString());

        Path killed = reports.resolve("killed.json");
        Result signal = sh(List.of("--report", killed.toString()), "kill -KILL $$");
        assertEquals(137, signal.exitCode(), signal.toString());
        JsonNode killedJson = JSON.readTree(killed.toFile());
        assertEquals(137, killedJson.get("exitCode").intValue());
        assertEquals(9, killedJson.get("signal").intValue());
        assertFalse(killedJson.get("timedOut").booleanValue());
        assertTrue(killedJson.get("limitHit").isNull(), killedJson.toString());
    }

    @Test
    void reportForSetupError() throws Exception {
        Path report = reports.resolve("setup.json");
        Result result = run("run", "--workspace", workspace.toString(), "--report", report.toString(),
                "--ro-bind", workspace + ":/dev/nonexistent-stockade-dir/x", "--", "true");
        assertEquals(125, result.exitCode(), result.toString());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(125, json.get("exitCode").intValue());
        assertEquals(0, json.get("signal").intValue());
        assertFalse(json.get("timedOut").booleanValue());
        JsonNode error = json.get("setupError");
        assertEquals(List.of("step", "errno", "message"), fieldNames(error));
        assertEquals("bind", error.get("step").textValue(), json.toString());
        assertEquals(2, error.get("errno").intValue(), json.toString()); // ENOENT
        assertTrue(error.get("message").textValue().contains("/dev/nonexistent-stockade-dir/x"),
                json.toString());

        Path notFound = reports.resolve("notfound.json");
        Result missing = run("run", "--workspace", workspace.toString(), "--report", notFound.toString(),
                "--", "/nonexistent/cmd");
        assertEquals(127, missing.exitCode(), missing.toString());
        JsonNode notFoundJson = JSON.readTree(notFound.toFile());
        assertEquals(127, notFoundJson.get("exitCode").intValue());
        assertEquals(2, notFoundJson.get("setupError").get("errno").intValue(), notFoundJson.toString());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    @Test
    void sigtermToTheCliStopsTheSandbox() throws Exception {
        Path ready = workspace.resolve("ready");
        CliProcess cli = CliProcess.start(workspace, Map.of(), "run", "--workspace", workspace.toString(),
                "--", "/bin/sh", "-c", "sleep 1000 & touch ready; wait");
        waitFor(ready, cli.process);
        List<ProcessHandle> sandboxed = cli.process.descendants().toList();
        assertTrue(sandboxed.size() >= 4, "helper, pid 1, sh and sleep expected: " + sandboxed);

        // SIGTERM, as `kill` or a service manager sends it. Through the handle: Process.destroy()
        // would also close the streams the test is still draining.
        assertTrue(cli.process.toHandle().destroy(), "SIGTERM to the CLI");
        Result result = cli.await();
        assertEquals(128 + 15, result.exitCode(), result.toString());
        for (ProcessHandle handle : sandboxed) {
            handle.onExit().get(CliProcess.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertFalse(handle.isAlive(), handle + " outlived the CLI");
        }
    }

    private static void waitFor(Path file, Process cli) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CliProcess.TIMEOUT_SECONDS);
        while (!Files.exists(file)) {
            assertTrue(cli.isAlive(), "the CLI exited before the command was ready");
            assertTrue(System.nanoTime() < deadline, "the command never became ready");
            Thread.sleep(20);
        }
    }
}
