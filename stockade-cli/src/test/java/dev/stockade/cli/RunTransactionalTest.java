package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.cli.CliProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run --transactional [--workspace-quota SIZE]} and {@code --tmpfs}'s size, end
 * to end: the CLI as its own JVM, real sandboxes.
 */
class RunTransactionalTest {

    @TempDir
    Path workspace;

    private Result sh(List<String> options, String script) throws Exception {
        return CliProcess.runShell(workspace, options, script);
    }

    @Test
    void aSucceedingCommandsChangesReachTheWorkspaceAFailingOnesDoNot() throws Exception {
        Files.writeString(workspace.resolve("a.txt"), "alpha\n");
        Result ok = sh(List.of("--transactional"), "echo beta > b.txt && rm a.txt");
        assertEquals(0, ok.exitCode(), ok.toString());
        assertEquals("", ok.stderr());
        assertEquals("beta\n", Files.readString(workspace.resolve("b.txt")));
        assertFalse(Files.exists(workspace.resolve("a.txt")));

        Result failed = sh(List.of("--transactional"), "echo gamma > c.txt && rm b.txt; exit 4");
        assertEquals(4, failed.exitCode(), failed.toString());
        assertEquals("beta\n", Files.readString(workspace.resolve("b.txt")));
        assertFalse(Files.exists(workspace.resolve("c.txt")));
    }

    @Test
    void writingPastTheQuotaIsEnospcAndTheWorkspaceStaysAsItWas() throws Exception {
        Result fits = sh(List.of("--transactional", "--workspace-quota", "1m"),
                "head -c 100000 /dev/zero > fits.bin");
        assertEquals(0, fits.exitCode(), fits.toString());
        assertEquals(100000, Files.size(workspace.resolve("fits.bin")));

        Result over = sh(List.of("--transactional", "--workspace-quota", "1m"),
                "head -c 2000000 /dev/zero > big.bin");
        assertEquals(1, over.exitCode(), over.toString());
        assertTrue(over.stderr().contains("head: error writing 'standard output': No space left"
                + " on device"), over.toString());
        assertEquals("stockade: workspace quota 1 MiB reached: writes were refused (ENOSPC)",
                over.stderrLines().get(over.stderrLines().size() - 1), over.toString());
        assertFalse(Files.exists(workspace.resolve("big.bin")));
    }

    @Test
    void whatIsNotCarriedIsNamed() throws Exception {
        Result r = sh(List.of("--transactional"), "mkfifo pipe && echo x > x.txt");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("stockade: not carried to the workspace: pipe (fifo)"),
                r.stderrLines());
        assertEquals("x\n", Files.readString(workspace.resolve("x.txt")));
    }

    @Test
    void aQuotaWithoutTransactionalIsRefused() throws Exception {
        Result r = sh(List.of("--workspace-quota", "1m"), "true");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("stockade: --workspace-quota needs --transactional: a direct"
                + " workspace is the host directory itself, whose writes cannot be bounded",
                "Try 'stockade run --help'"), r.stderrLines());
    }

    @Test
    void aTmpfsWithoutASizeHasTheDocumentedDefault() throws Exception {
        Result r = sh(List.of("--tmpfs", "/scratch", "--tmpfs", "/small:1m"),
                "stat -f -c '%b %S' /scratch /small;"
                        + " head -c 2000000 /dev/zero > /small/f; echo \"small: $?\"");
        assertEquals(0, r.exitCode(), r.toString());
        long blocks64m = TmpfsSpec.DEFAULT_SIZE / 4096;
        assertEquals(blocks64m + " 4096\n256 4096\nsmall: 1\n", r.stdout(), r.toString());
        assertTrue(r.stderr().contains("No space left on device"), r.toString());
    }
}
