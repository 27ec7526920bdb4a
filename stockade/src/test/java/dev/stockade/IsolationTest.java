package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxUser.callerIsRoot;
import static dev.stockade.testing.SandboxTesting.expectedDefaultGid;
import static dev.stockade.testing.SandboxTesting.expectedDefaultUid;
import static dev.stockade.testing.SandboxTesting.hostHostname;
import static dev.stockade.testing.SandboxTesting.hostPidsWithMarker;
import static dev.stockade.testing.SandboxTesting.marker;
import static dev.stockade.testing.SandboxTesting.markedSleep;
import static dev.stockade.testing.SandboxTesting.python;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.testing.SandboxUser;
import java.io.FileInputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What the command sees of its identity, its process tree, the host and its descriptors. */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class IsolationTest {
    private static final SandboxPolicy POLICY = SandboxPolicy.defaults();

    @Test
    void runsAsThePolicyIdsAndNeverAsHostRoot() throws Exception {
        Output out = run(POLICY, "/bin/sh", "-c", "id -u; id -g");
        assertEquals(expectedDefaultUid() + "\n" + expectedDefaultGid() + "\n", out.stdout());
        if (callerIsRoot()) {
            assertNotEquals("0", out.stdout().lines().findFirst().orElseThrow(),
                    "host root never runs the command as root");
        }
        SandboxPolicy custom = POLICY.toBuilder().uid(1234).gid(2345).build();
        assertEquals("1234\n2345\n", run(custom, "/bin/sh", "-c", "id -u; id -g").stdout());
    }

    @Test
    void workspaceFilesBelongToTheSandboxUserNeverToHostRoot(@TempDir Path dir)
            throws Exception {
        // Whatever id the command has inside, what it creates in the workspace belongs to the
        // caller on the host, or to 65534 when the caller is root: a set-user-ID file made in
        // the workspace must never be host root's. (The set-id guard is off here, to make one.)
        SandboxPolicy policy = POLICY.toBuilder()
                .workspace(SandboxUser.writableThroughPlainBinds(dir))
                .allowSetIdFiles(true).build();
        assertEquals(0, run(policy, "/bin/sh", "-c",
                "cp /bin/true made-inside && chmod 6755 made-inside").exitCode());
        Path made = dir.resolve("made-inside");
        assertTrue(Files.exists(made));
        assertEquals(SandboxUser.hostUid(), (Integer) Files.getAttribute(made, "unix:uid"));
        assertEquals(SandboxUser.hostGid(), (Integer) Files.getAttribute(made, "unix:gid"));
        assertNotEquals(0, (Integer) Files.getAttribute(made, "unix:uid"));
    }

    @Test
    void pidOneIsTheHelper() throws Exception {
        Output out = run(POLICY, "/bin/sh", "-c", "cat /proc/1/comm; echo $$");
        List<String> lines = out.stdout().lines().toList();
        assertEquals("stockade-helper", lines.get(0));
        assertNotEquals("1", lines.get(1), "the command is not pid 1");
    }

    @Test
    void hostProcessesAreInvisible() throws Exception {
        String hostMarker = marker();
        Process host = new ProcessBuilder("bash", "-c", markedSleep(hostMarker)).start();
        try {
            SandboxTesting.awaitTrue("host marker visible on the host",
                    () -> !hostPidsWithMarker(hostMarker).isEmpty());
            String insideMarker = marker();
            // The markers travel in the environment, so no command line inside contains them
            // except the marked sleep's own argv[0].
            SandboxPolicy policy = POLICY.toBuilder().env("INSIDE", insideMarker)
                    .env("OUTSIDE", hostMarker).build();
            String scan = "bash -c 'exec -a \"$INSIDE\" sleep 1000' & sleep_pid=$!;"
                    + " for i in $(seq 1 500); do grep -qs \"$INSIDE\" /proc/$sleep_pid/cmdline"
                    + " && break; sleep 0.01; done;"
                    + " cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' > /tmp/all;"
                    + " grep -c \"$INSIDE\" /tmp/all; grep -c \"$OUTSIDE\" /tmp/all;"
                    + " ls -d /proc/[0-9]* | wc -l; kill $sleep_pid";
            Output out = run(policy, "/bin/bash", "-c", scan);
            List<String> lines = out.stdout().lines().toList();
            assertEquals("1", lines.get(0), "own marker visible: " + out);
            assertEquals("0", lines.get(1), "host marker invisible: " + out);
            // pid 1, bash, the sleep, and the scan's own short-lived processes: a handful.
            int processes = Integer.parseInt(lines.get(2).trim());
            assertTrue(processes < 10, "only the sandbox's processes: " + processes);
        } finally {
            host.destroyForcibly().waitFor();
        }
    }

    @Test
    void hostnameIsTheSandboxesAndNeverReachesTheHost() throws Exception {
        String before = hostHostname();
        assertEquals("stockade\n", run(POLICY, "hostname").stdout());
        SandboxPolicy named = POLICY.toBuilder().hostname("build-box").build();
        assertEquals("build-box\n", run(named, "hostname").stdout());
        assertNotEquals("build-box", before);
        // An attempt to change it inside fails: no capabilities left (EPERM).
        Output attempt = python(POLICY,
                "import socket\ntry:\n socket.sethostname('changed')\n print('changed')\n"
                        + "except OSError as e:\n print(e.errno)");
        assertEquals("1\n", attempt.stdout());
        assertEquals(before, hostHostname());
    }

    @Test
    void noCapabilitiesNoNewPrivsAndAFilter() throws Exception {
        Output out = run(POLICY, "grep", "-E", "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):",
                "/proc/self/status");
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : out.stdout().lines().toList()) {
            String[] kv = line.split(":\\s*", 2);
            fields.put(kv[0], kv[1].trim());
        }
        Map<String, String> expected = new TreeMap<>(Map.of(
                "CapInh", "0000000000000000", "CapPrm", "0000000000000000",
                "CapEff", "0000000000000000", "CapBnd", "0000000000000000",
                "CapAmb", "0000000000000000", "NoNewPrivs", "1", "Seccomp", "2"));
        assertEquals(expected, new TreeMap<>(fields));
    }

    @Test
    void withoutAProfileThereIsNoFilterButStillNoPrivileges() throws Exception {
        // The set-id guard is a filter of its own: without a profile it is the only one.
        SandboxPolicy guarded = POLICY.toBuilder().seccomp(SeccompProfile.none()).build();
        Output withGuard = run(guarded, "grep", "-E", "^(CapEff|NoNewPrivs|Seccomp):",
                "/proc/self/status");
        assertEquals(List.of("CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"),
                withGuard.stdout().lines().toList());
        SandboxPolicy policy = guarded.toBuilder().allowSetIdFiles(true).build();
        Output out = run(policy, "grep", "-E", "^(CapEff|NoNewPrivs|Seccomp):",
                "/proc/self/status");
        assertEquals(List.of("CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t0"),
                out.stdout().lines().toList());
    }

    @Test
    void descriptorsOfThisJvmAreNotInherited(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("secret-" + marker());
        Files.writeString(secret, "secret");
        // FileInputStream opens without O_CLOEXEC (the JDK closes descriptors in its own
        // children instead): exactly the kind of descriptor that leaks into a plain fork+exec.
        try (FileInputStream open = new FileInputStream(secret.toFile())) {
            int fd = fdOf(secret);
            String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                    .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
            long octal = Long.parseLong(flags.substring(6).trim(), 8);
            assertEquals(0, octal & 02000000, "precondition: fd " + fd + " is not O_CLOEXEC");

            Output listing = run(POLICY, "ls", "/proc/self/fd");
            // 0-2 are stdio, 3 is the directory ls itself is reading.
            assertEquals(new TreeSet<>(List.of("0", "1", "2", "3")),
                    new TreeSet<>(listing.stdout().lines().toList()));
            Output links = run(POLICY, "ls", "-l", "/proc/self/fd");
            assertFalse(links.stdout().contains(secret.getFileName().toString()), links.stdout());
            assertFalse(links.stdout().contains("socket:"), "no control socket: " + links);
            assertTrue(open.available() >= 0); // keeps the stream (and its fd) alive until here
        }
    }

    private static int fdOf(Path file) throws Exception {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (java.io.IOException e) {
                    // the directory stream's own fd vanishes while we read
                }
            }
        }
        throw new AssertionError("no fd open on " + file);
    }

    @Test
    void environmentIsExactlyWhatThePolicyNames() throws Exception {
        String callerVar = System.getenv().keySet().stream()
                .filter(k -> !List.of("PATH", "HOME", "LANG", "TERM").contains(k))
                .filter(k -> k.matches("[A-Za-z_][A-Za-z0-9_]*"))
                .sorted().findFirst().orElseThrow();
        Map<String, String> expected = new TreeMap<>();
        expected.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        expected.put("HOME", POLICY.home().toString());
        for (String name : List.of("LANG", "TERM")) {
            if (System.getenv(name) != null) {
                expected.put(name, System.getenv(name));
            }
        }
        assertEquals(expected, envInside(POLICY), "caller's " + callerVar + " must be absent");

        SandboxPolicy passing = POLICY.toBuilder().env("STOCKADE_TEST", "a=b c")
                .passEnv(callerVar).passEnv("STOCKADE_SURELY_UNSET_VARIABLE").build();
        expected.put("STOCKADE_TEST", "a=b c");
        expected.put(callerVar, System.getenv(callerVar));
        assertEquals(expected, envInside(passing));
    }

    private static Map<String, String> envInside(SandboxPolicy policy) throws Exception {
        Output out = run(policy, "/usr/bin/env", "-0");
        Map<String, String> env = new TreeMap<>();
        for (String entry : out.stdout().split("\0")) {
            if (!entry.isEmpty()) {
                int eq = entry.indexOf('=');
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }

    @Test
    void ownSessionSoNoControllingTerminal() throws Exception {
        // setsid() in the command: it leads its own session, and has no controlling terminal.
        Output out = python(POLICY, "import os; print(os.getsid(0) == os.getpid());\n"
                + "try:\n open('/dev/tty')\n print('tty')\nexcept OSError as e:\n"
                + " print(e.errno)");
        assertEquals("True\n6\n", out.stdout(), "ENXIO: no controlling terminal");
    }
}
