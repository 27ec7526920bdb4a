package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.cli.CliProcess.Result;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --max-output} and {@code --setup-timeout} end to end: the CLI's own stdout is what the
 * command inherits (not a pipe of the library's), so the bound is applied by the helper's relay
 * in front of an inherited fd.
 */
class RunOutputAndSetupTest {

    @TempDir
    Path workspace;

    /** {@code stockade run --workspace <ws> <options> -- /bin/sh -c <script>}. */
    private Result sh(String... optionsThenScript) throws Exception {
        int last = optionsThenScript.length - 1;
        List<String> args = new ArrayList<>(List.of("run", "--workspace", workspace.toString()));
        args.addAll(List.of(optionsThenScript).subList(0, last));
        args.addAll(List.of("--", "/bin/sh", "-c", optionsThenScript[last]));
        return CliProcess.run(workspace, args.toArray(String[]::new));
    }

    @Test
    void maxOutputBoundsTheInheritedStdout() throws Exception {
        Result all = sh("yes | head -c 100000");
        assertEquals(0, all.exitCode(), all.toString());
        assertEquals(100000, all.stdout().length());

        Result cut = sh("--max-output", "1K", "yes | head -c 100000; echo done >&2");
        assertEquals(0, cut.exitCode(), cut.toString());
        assertEquals("y\n".repeat(512), cut.stdout(), cut.toString());
        assertEquals("", cut.stderr(), "stderr shares the budget stdout used up");
    }

    /**
     * A stdin the command could write to (here a file opened read-write, as a socket shared for
     * both directions would be) would carry output past the bound: with a bound the start is
     * refused, without one the command runs as before.
     */
    @Test
    void aWritableStdinIsRefusedWithAnOutputBound() throws Exception {
        Path stdin = Files.writeString(workspace.getParent().resolve(workspace.getFileName()
                + "-stdin"), "");
        String script = "head -c 5000 /dev/zero >&0; echo ran";
        List<String> unbounded = CliProcess.command("run", "--workspace", workspace.toString(),
                "--", "/bin/sh", "-c", script);
        List<String> bounded = CliProcess.command("run", "--workspace", workspace.toString(),
                "--max-output", "1K", "--", "/bin/sh", "-c", script);
        try {
            assertEquals(0, runWithReadWriteStdin(unbounded, stdin), "unbounded");
            assertEquals(5000, Files.size(stdin));

            Files.writeString(stdin, "");
            assertEquals(125, runWithReadWriteStdin(bounded, stdin), "bounded");
            assertEquals(0, Files.size(stdin), "the command did not run");
        } finally {
            Files.deleteIfExists(stdin);
        }
    }

    /** Runs {@code command} with {@code file} opened read-write as its stdin (sh's {@code 0<>}). */
    private static int runWithReadWriteStdin(List<String> command, Path file) throws Exception {
        List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\" 0<>\"$F\"", "sh"));
        sh.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(sh).redirectErrorStream(true);
        pb.environment().put("F", file.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(CliProcess.TIMEOUT_SECONDS, TimeUnit.SECONDS), out);
        if (p.exitValue() == 125) {
            assertTrue(out.contains("stdin is writable (a socket or a read-write file): the output"
                    + " bound would not cover it"), out);
        }
        return p.exitValue();
    }

    /**
     * python3: runs argv[1:] on a new pty, prints everything the pty gave as a Python bytes
     * literal, then the exit code.
     */
    private static final String ON_A_PTY = String.join("\n",
            "import os, pty, sys",
            "pid, fd = pty.fork()",
            "if pid == 0:",
            "    os.execvp(sys.argv[1], sys.argv[1:])",
            "out = b''",
            "while True:",
            "    try:",
            "        chunk = os.read(fd, 65536)",
            "    except OSError:",
            "        break",
            "    if not chunk:",
            "        break",
            "    out += chunk",
            "_, status = os.waitpid(pid, 0)",
            "print(repr(out))",
            "print(os.waitstatus_to_exitcode(status))");

    /** At a terminal the sandbox's own pty is relayed (and counted) instead of a pipe. */
    @Test
    void maxOutputBoundsATerminal() throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-c", ON_A_PTY));
        command.addAll(CliProcess.command("run", "--workspace", workspace.toString(),
                "--max-output", "20", "--", "/bin/sh", "-c", "yes | head -c 1000; echo x >&2"));
        Process p = new ProcessBuilder(command).directory(workspace.toFile())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(CliProcess.TIMEOUT_SECONDS, TimeUnit.SECONDS));
        // The pty's line discipline turns each "y\n" into "y\r\n": 20 bytes of that.
        assertEquals("b'" + "y\\r\\n".repeat(6) + "y\\r'\n0\n", out);
    }

    @Test
    void killAtMaxOutputEndsTheCommand() throws Exception {
        Result r = sh("--max-output", "1K", "--kill-at-max-output",
                "yes | head -c 100000; sleep 100");
        assertEquals(137, r.exitCode(), r.toString());
        assertEquals("y\n".repeat(512), r.stdout(), r.toString());
        assertEquals(List.of("stockade: killed: output limit 1 KiB reached"), r.stderrLines());
    }

    @Test
    void killAtMaxOutputNeedsMaxOutput() throws Exception {
        Result r = sh("--kill-at-max-output", "true");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("killAtMaxOutput needs maxOutputBytes"), r.toString());
    }

    @Test
    void setupTimeoutNamesTheStepItGaveUpIn() throws Exception {
        Result ok = sh("--setup-timeout", "5s", "echo started");
        assertEquals(0, ok.exitCode(), ok.toString());
        assertEquals("started\n", ok.stdout());

        // The monitor locks the workspace shared while it makes its placeholders: an exclusive
        // lock held elsewhere stalls it (-o: the lock stays flock's own, released with it).
        Process holder = new ProcessBuilder("flock", "-x", "-o", workspace.toString(), "-c",
                "echo locked; exec sleep 1000").redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(
                    holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", lines.readLine());
            Result late = sh("--setup-timeout", "1s", "echo started");
            assertEquals(125, late.exitCode(), late.toString());
            assertEquals("", late.stdout());
            assertTrue(late.stderr().contains("'protect'"), late.toString());
            assertTrue(late.stderr().contains("set-up timeout of 1000 ms"), late.toString());
        } finally {
            holder.destroyForcibly();
            holder.waitFor(CliProcess.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    @Test
    void setupTimeoutMustBePositive() throws Exception {
        Result r = sh("--setup-timeout", "0s", "true");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("'--setup-timeout': duration '0s' must be greater than 0"),
                r.toString());
    }
}
