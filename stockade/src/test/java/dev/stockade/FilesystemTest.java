package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.python;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.SandboxUser;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The filesystem view: host read-only, workspace read-write, a private /tmp. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class FilesystemTest {

    /** Tries to create {@code path}; prints 'created' or the errno. */
    private static final String CREATE = String.join("\n",
            "import sys",
            "try:",
            "    open(sys.argv[1], 'w').close()",
            "    print('created')",
            "except OSError as e:",
            "    print(e.errno)");

    @Test
    void workspaceIsWritableAndPersists(@TempDir Path workspace) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        Output out = run(policy, "/bin/sh", "-c", "pwd; echo persisted > result.txt; mkdir d;"
                + " echo nested > d/n.txt");
        assertEquals(0, out.exitCode(), out.toString());
        assertEquals(workspace + "\n", out.stdout(), "the workspace is the working directory");
        assertEquals("persisted\n", Files.readString(workspace.resolve("result.txt")));
        assertEquals("nested\n", Files.readString(workspace.resolve("d/n.txt")));
    }

    @Test
    void usrIsReadOnly(@TempDir Path workspace) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        // Allowed case first: the same program creates a file where writing is allowed.
        assertEquals("created\n",
                python(policy, CREATE, workspace.resolve("allowed").toString()).stdout());
        Path probe = Path.of("/usr/stockade-ro-probe-" + SandboxTesting.marker());
        try {
            assertEquals("30\n", python(policy, CREATE, probe.toString()).stdout(),
                    "EROFS inside the sandbox");
            Output touch = run(policy, "touch", probe.toString());
            assertEquals(1, touch.exitCode());
            SandboxTesting.assertContains(touch.stderr(), "Read-only file system");
        } finally {
            // Only there if the sandbox failed (and the caller may write /usr): then clean up.
            assertFalse(Files.deleteIfExists(probe), "the probe reached the host's /usr");
        }
    }

    @Test
    void tmpIsPrivateAndFresh(@TempDir Path hostDir) throws Exception {
        // hostDir is under the host's /tmp and not bound: the sandbox's /tmp is its own tmpfs.
        Files.writeString(hostDir.resolve("host-file"), "x");
        Output out = run(SandboxPolicy.defaults(), "/bin/sh", "-c",
                "test -e " + hostDir.resolve("host-file") + "; echo $?; stat -f -c %T /tmp;"
                        + " echo inside > /tmp/inside-file && cat /tmp/inside-file");
        assertEquals("1\ntmpfs\ninside\n", out.stdout(), out.toString());
    }

    @Test
    void hostRunIsHidden(@TempDir Path workspace) throws Exception {
        // /run holds the host's daemon sockets; a read-only bind would still let connect()
        // reach them, so the default view has an empty tmpfs there.
        String[] hostRun = new File("/run").list();
        assumeTrue(hostRun != null && hostRun.length > 0,
                "the host's /run has entries to hide");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).build();
        Output out = run(policy, "/bin/sh", "-c", "ls -A /run | wc -l; stat -f -c %T /run;"
                + " echo x > /run/inside && cat /run/inside");
        assertEquals("0\ntmpfs\nx\n", out.stdout(), out.toString());
        // The allowed case: the host's /run bound in place of the tmpfs shows its entries;
        // without either there is no /run at all.
        SandboxPolicy exposed = policy.toBuilder().removeMount(Path.of("/run"))
                .bindReadOnly(Path.of("/run"), Path.of("/run")).build();
        Output visible = run(exposed, "/bin/sh", "-c", "ls -A /run | wc -l");
        assertEquals(hostRun.length + "\n", visible.stdout(), visible.toString());
        SandboxPolicy none = policy.toBuilder().removeMount(Path.of("/run")).build();
        Output absent = run(none, "/bin/sh", "-c", "test -e /run; echo $?");
        assertEquals("1\n", absent.stdout(), absent.toString());
    }

    @Test
    void readOnlyBindIsReadableNotWritable(@TempDir Path src) throws Exception {
        Files.writeString(src.resolve("data.txt"), "bound");
        // A root caller's temp directory is root's 0700: readable to the sandbox user only
        // through an idmapped bind, asked for (SpecialFileBindTest shows why it is not implied).
        Mount bind = Mount.bindReadOnly(src, Path.of("/tmp/ro"));
        SandboxPolicy policy = SandboxPolicy.builder()
                .mount(SandboxUser.callerIsRoot() ? bind.idmappingRoot() : bind).build();
        Output read = run(policy, "cat", "/tmp/ro/data.txt");
        assertEquals("bound", read.stdout());
        assertEquals("30\n", python(policy, CREATE, "/tmp/ro/new.txt").stdout());
        assertFalse(Files.exists(src.resolve("new.txt")));
    }

    @Test
    void readWriteBindElsewhere(@TempDir Path src) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().bind(src, Path.of("/tmp/rw"))
                .build();
        assertEquals("created\n", python(policy, CREATE, "/tmp/rw/new.txt").stdout());
        assertEquals(0, Files.size(src.resolve("new.txt")));
    }

    @Test
    void tmpfsSizeIsEnforced() throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().removeMount(Path.of("/tmp"))
                .tmpfs(Path.of("/tmp"), 1024 * 1024).build();
        // 2 MiB into a 1 MiB tmpfs: ENOSPC (28).
        Output out = python(policy, String.join("\n",
                "try:",
                "    with open('/tmp/big', 'wb') as f:",
                "        f.write(b'x' * (2 * 1024 * 1024))",
                "    print('written')",
                "except OSError as e:",
                "    print(e.errno)"));
        assertEquals("28\n", out.stdout(), out.toString());
    }
}
