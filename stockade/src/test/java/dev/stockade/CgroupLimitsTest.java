package dev.stockade;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.hostPidsWithMarker;
import static dev.stockade.testing.SandboxTesting.marker;
import static dev.stockade.testing.SandboxTesting.python;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sandbox's own cgroups (Limits.memoryBytes, cpus, and processes as pids.max there): each
 * limit shown to let the allowed case through and to stop the step exactly at the bound, with
 * the limit named in the result, and no cgroup of any sandbox left behind, whatever ended it.
 * Where no cgroup is usable (the unprivileged CI user here) these skip with the probe's reason,
 * and the no-cgroup behaviour is tested instead: memory fails closed, best effort falls back.
 */
@Tag(SandboxTesting.ISOLATION)
class CgroupLimitsTest {
    private static final long MIB = 1024 * 1024;
    private static final SandboxPolicy DEFAULTS = SandboxPolicy.defaults();

    private static ProbeReport probe;

    @BeforeAll
    static void probeOnce() throws IOException {
        probe = Sandbox.probe();
    }

    private static void assumeCgroup() {
        assumeTrue(probe.cgroupDelegation(), "no usable cgroup: " + probe.cgroupReason());
    }

    private static void assumeNoCgroup() {
        assumeTrue(!probe.cgroupDelegation(), "a cgroup is usable here ("
                + probe.cgroupReason() + "): the no-cgroup path runs where none is (the"
                + " unprivileged CI user)");
    }

    private static SandboxPolicy withLimits(Limits.Builder limits) {
        return DEFAULTS.toBuilder().limits(limits.build()).build();
    }

    /** Allocates and touches {@code mib} MiB in 8 MiB steps; prints "done" if it got there. */
    private static String hog(int mib) {
        return "a = []\nfor i in range(" + (mib / 8) + "):\n"
                + "    a.append(bytearray(b'x') * (8 << 20))\nprint('done')\n";
    }

    @Test
    void memoryHogIsKilledAtTheWholeSandboxBoundAndTheHostIsFine() throws Exception {
        assumeCgroup();
        long oomKillsBefore = callerOomKills();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(128 * MIB));
        Output fits = python(policy, hog(64));
        assertEquals("done\n", fits.stdout(), fits.toString());
        assertEquals(Optional.empty(), fits.result().limitHit(), fits.toString());
        assertTrue(fits.result().peakMemoryIsWholeSandbox(), fits.toString());
        assertTrue(fits.result().peakMemoryBytes() > 64 * MIB, fits.toString());
        assertTrue(fits.result().peakMemoryBytes() <= 128 * MIB, fits.toString());

        Output hog = python(policy, hog(1024));
        assertEquals("", hog.stdout(), hog.toString());
        assertEquals(9, hog.result().signal(), hog.toString()); // the OOM killer's SIGKILL
        assertEquals(Optional.of(LimitHit.MEMORY), hog.result().limitHit(), hog.toString());
        assertFalse(hog.result().killed() || hog.result().timedOut(), hog.toString());
        // The OOM kill happened in the sandbox's cgroup, not in the caller's.
        assertEquals(oomKillsBefore, callerOomKills());
    }

    @Test
    void jvmWithALargeHeapIsKilledAtTheMemoryBound() throws Exception {
        assumeCgroup();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path classes = Path.of(MemoryHogMain.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        SandboxPolicy policy = DEFAULTS.toBuilder()
                .bindReadOnly(Path.of(System.getProperty("java.home")),
                        Path.of(System.getProperty("java.home")))
                .bindReadOnly(classes, Path.of("/hog"))
                .limits(Limits.builder().memoryBytes(256 * MIB).build()).build();
        Output out = run(policy, java.toString(), "-Xmx1g", "-Xshare:off", "-cp", "/hog",
                MemoryHogMain.class.getName());
        String[] lines = out.stdout().split("\n");
        int reached = Integer.parseInt(lines[lines.length - 1]);
        assertTrue(reached >= 16 && reached < 256, out.toString()); // it ran, and it was stopped
        assertEquals(9, out.result().signal(), out.toString());
        assertEquals(Optional.of(LimitHit.MEMORY), out.result().limitHit(), out.toString());
    }

    /**
     * Queues {@code mib} MiB on loopback TCP connections inside the sandbox (none is read), one
     * connection after another until it got there or 20 connections in a row took nothing more;
     * prints the MiB queued.
     */
    private static String tcpQueuer(int mib) {
        return "import socket, time\n"
                + "target = " + mib + " << 20\n"
                + "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(4096)\n"
                + "held = []; total = 0; stalled = 0\n"
                + "while total < target and stalled < 20:\n"
                + "    c = socket.create_connection(l.getsockname()); s, _ = l.accept()\n"
                + "    c.setblocking(False); before = total; t0 = time.time()\n"
                + "    while time.time() - t0 < 0.2 and total < target:\n"
                + "        try: total += c.send(b'x' * 65536)\n"
                + "        except BlockingIOError: time.sleep(0.01)\n"
                + "    stalled = stalled + 1 if total - before < (1 << 20) else 0\n"
                + "    held.append((c, s))\n"
                + "print(total >> 20)\n";
    }

    @Test
    void tcpBuffersAreBoundedWithTheMemory() throws Exception {
        assumeCgroup();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(64 * MIB));
        Output fits = python(policy, tcpQueuer(16));
        assertEquals(0, fits.exitCode(), fits.toString());
        assertEquals(16, Long.parseLong(fits.stdout().strip()), fits.toString());

        // Without the kmem.tcp bound (cgroup v1) this queues all 600 MiB, the host's tcp_mem
        // being the only limit; with it the kernel refuses more at about the memory bound.
        Output flood = python(policy, tcpQueuer(600));
        assertEquals(0, flood.exitCode(), flood.toString());
        long queued = Long.parseLong(flood.stdout().strip());
        assertTrue(queued <= 64 + 8, "queued " + queued + " MiB: " + flood);
    }

    @Test
    void tmpfsPagesTheStepWritesAreChargedToItsCgroup() throws Exception {
        assumeCgroup();
        // /tmp is a 512 MiB tmpfs: its size would let 300 MiB through, the memory bound does
        // not. The writer is OOM-killed (tmpfs pages cannot be reclaimed without swap), the
        // shell that started it goes on, and the sandbox's result says MEMORY.
        Output out = run(withLimits(Limits.builder().memoryBytes(128 * MIB)), "/bin/sh", "-c",
                "dd if=/dev/zero of=/tmp/fill bs=1M count=300 2>/dev/null; echo dd=$?;"
                        + " test $(stat -c %s /tmp/fill) -lt $((128 << 20)) && echo below");
        assertEquals("dd=137\nbelow\n", out.stdout(), out.toString());
        assertEquals(0, out.result().exitCode(), out.toString());
        assertEquals(Optional.of(LimitHit.MEMORY), out.result().limitHit(), out.toString());
    }

    @Test
    void forkBombIsContainedAtPidsMax() throws Exception {
        assumeCgroup();
        // processes is pids.max once the sandbox has cgroups (here: for its memory bound).
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(512 * MIB).processes(64));
        Output small = run(policy, "/bin/sh", "-c", "for i in 1 2 3 4 5; do sleep 0.1 & done;"
                + " wait; echo ok");
        assertEquals("ok\n", small.stdout(), small.toString());
        assertEquals(Optional.empty(), small.result().limitHit(), small.toString());

        String mark = marker();
        Output bomb = run(policy, "/bin/bash", "-c", "b() { b | b & }; b 2>/dev/null;"
                + " exec -a " + mark + " sleep 2");
        assertEquals(Optional.of(LimitHit.PROCESSES), bomb.result().limitHit(), bomb.toString());
        // A fork is refused only with 64 in the cgroup: the peak is exactly the bound.
        assertEquals(64, bomb.result().peakProcesses().orElse(0), bomb.toString());
        assertEquals(List.of(), hostPidsWithMarker(mark));
    }

    @Test
    void cpusThrottleTheWholeSandbox() throws Exception {
        assumeCgroup();
        String spin = "import time\nend = time.time() + 3\nwhile time.time() < end:\n    pass\n";
        Output out = python(withLimits(Limits.builder().cpus(0.5)), spin);
        assertEquals(0, out.result().exitCode(), out.toString());
        Duration cpu = out.result().userCpu().plus(out.result().systemCpu());
        // Half of one CPU for 3 s of wall time: about 1.5 s (generous bounds: a noisy host).
        assertTrue(cpu.toMillis() >= 600 && cpu.toMillis() <= 2400, out.toString());
        assertEquals(Optional.empty(), out.result().limitHit(), out.toString());
    }

    @Test
    void theStepSeesItsOwnCgroupAsRootAndCannotWriteAnyCgroupFile() throws Exception {
        assumeCgroup();
        boolean v2 = probe.cgroupUsableVersion() == 2;
        SandboxPolicy policy = DEFAULTS.toBuilder().sys(true)
                .limits(Limits.builder().memoryBytes(128 * MIB).cpus(1).build()).build();
        // Moving itself to the top (escaping every limit) and raising a limit, through the
        // /sys the policy shows.
        String targets = v2 ? "/sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/cgroup.subtree_control"
                : "/sys/fs/cgroup/memory/cgroup.procs /sys/fs/cgroup/memory/memory.limit_in_bytes";
        String mine = v2 ? "'^0::'" : "':(memory|pids|cpu):'";
        Output out = run(policy, "/bin/sh", "-c", "grep -E " + mine
                + " /proc/self/cgroup | cut -d: -f2-; for f in " + targets + "; do"
                + " test -e $f && { (echo $$ > $f) 2>&1 | sed 's/.*: //'; }; done");
        // Its own cgroup namespace, rooted at its leaf: its cgroup reads "/" everywhere.
        List<String> lines = List.of(out.stdout().split("\n"));
        List<String> cgroups = lines.subList(0, lines.size() - 2);
        assertEquals(v2 ? List.of(":/") : List.of("pids:/", "memory:/", "cpu:/"),
                v2 ? cgroups : cgroups.stream().sorted((x, y) -> y.compareTo(x)).toList(),
                out.toString());
        assertTrue(out.stdout().endsWith("Read-only file system\nRead-only file system\n"),
                out.toString());
        assertEquals(0, out.result().exitCode(), out.toString());
    }

    @Test
    void sysShowsTheSandboxsOwnCgroupsAndAJvmSizesItsHeapFromThem() throws Exception {
        assumeCgroup();
        boolean v2 = probe.cgroupUsableVersion() == 2;
        Path javaHome = Path.of(System.getProperty("java.home"));
        SandboxPolicy policy = DEFAULTS.toBuilder().sys(true).bindReadOnly(javaHome, javaHome)
                .limits(Limits.builder().memoryBytes(512 * MIB).build()).build();
        Output limit = run(policy, "/bin/cat", v2 ? "/sys/fs/cgroup/memory.max"
                : "/sys/fs/cgroup/memory/memory.limit_in_bytes");
        assertEquals((512 * MIB) + "\n", limit.stdout(), limit.toString());
        // Nothing of the host's groups: every cgroup mount there is rooted at the sandbox's own
        // (mountinfo's root "/" in its cgroup namespace), none shows the boxes beside it.
        Output listing = run(policy, "/bin/sh", "-c", "ls -R /sys/fs/cgroup | grep -c stockade-;"
                + " awk '$5 ~ \"^/sys/fs/cgroup/\" && $0 ~ \" - cgroup\" && $4 != \"/\"'"
                + " /proc/self/mountinfo | wc -l; grep -c ' /sys/fs/cgroup.* - cgroup'"
                + " /proc/self/mountinfo");
        List<String> counts = List.of(listing.stdout().split("\n"));
        assertEquals(List.of("0", "0"), counts.subList(0, 2), listing.toString());
        assertTrue(Integer.parseInt(counts.get(2)) >= 1, listing.toString());
        // The JVM's default heap is a quarter of the memory it finds: the sandbox's.
        Output jvm = run(policy, javaHome.resolve("bin/java").toString(), "-XX:+PrintFlagsFinal",
                "-version");
        String heap = jvm.stdout().lines().filter(l -> l.matches(".* MaxHeapSize .*"))
                .findFirst().orElse("");
        assertEquals("134217728", heap.replaceAll(".*= *([0-9]+).*", "$1"), jvm.toString());
    }

    @Test
    void noCgroupIsLeftAfterSpawnsKillsAndTimeouts() throws Exception {
        assumeCgroup();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(64 * MIB).cpus(1));
        List<Long> helpers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            try (SandboxedProcess p = Sandbox.command("/bin/true").policy(policy).start()) {
                helpers.add(p.pid());
                assertEquals(0, p.waitFor());
            }
        }
        try (SandboxedProcess p = Sandbox.command("/bin/sleep", "100").policy(policy).start()) {
            helpers.add(p.pid());
            assertFalse(boxesOf(p.pid()).isEmpty(), "a running sandbox has its cgroups");
            p.destroyForcibly();
            assertTrue(p.result().killed());
        }
        try (SandboxedProcess p = Sandbox.command("/bin/sleep", "100")
                .policy(policy.toBuilder().timeout(Duration.ofMillis(200)).build()).start()) {
            helpers.add(p.pid());
            assertTrue(p.result().timedOut());
        }
        for (long helper : helpers) {
            assertEquals(List.of(), boxesOf(helper), "helper " + helper);
        }
    }

    @Test
    void cgroupsMadeBelowTheLeafAreRemovedWithIt() throws Exception {
        assumeCgroup();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(64 * MIB));
        long helper;
        try (SandboxedProcess p = Sandbox.command("/bin/sleep", "100").policy(policy).start()) {
            helper = p.pid();
            // What a step with write access to its leaf (a delegated tree) could leave behind.
            for (Path box : boxesOf(helper)) {
                Files.createDirectories(box.resolve("run/a/b"));
            }
            p.destroyForcibly();
            assertTrue(p.result().killed());
        }
        assertEquals(List.of(), boxesOf(helper));
    }

    @Test
    void onlyBoxesOfDeadMonitorsInThisPidNamespaceAreRemoved() throws Exception {
        assumeCgroup();
        Path parent = parents().get(0);
        String ns = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString()
                .replaceAll("\\D", "");
        Process live = new ProcessBuilder("/bin/sleep", "100").start();
        try {
            long start = startTime(live.pid());
            // A reused pid: the number is alive, but not the process that made the box.
            Path reused = parent.resolve("stockade-" + ns + "-" + live.pid() + "-" + (start - 1));
            // The box of a live monitor (that process, with its start time).
            Path alive = parent.resolve("stockade-" + ns + "-" + live.pid() + "-" + start);
            // Another pid namespace's box: its pids mean nothing here.
            Path foreign = parent.resolve("stockade-1-" + live.pid() + "-" + (start - 1));
            for (Path box : List.of(reused, alive, foreign)) {
                Files.createDirectories(box.resolve("run"));
            }
            try {
                Output next = run(withLimits(Limits.builder().memoryBytes(64 * MIB)), "/bin/true");
                assertEquals(0, next.result().exitCode(), next.toString());
                assertFalse(Files.exists(reused), "the reused pid's box is stale");
                assertTrue(Files.exists(alive), "a live monitor's box is never removed");
                assertTrue(Files.exists(foreign), "another pid namespace's box is left alone");
            } finally {
                for (Path box : List.of(alive, foreign, reused)) {
                    Files.deleteIfExists(box.resolve("run"));
                    Files.deleteIfExists(box);
                }
            }
        } finally {
            live.destroyForcibly().waitFor();
        }
    }

    /** Field 22 of /proc/PID/stat, after the command name in parentheses. */
    private static long startTime(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[22 - 3]);
    }

    @Test
    void staleCgroupsOfAKilledHelperAreRemovedByTheNextStart() throws Exception {
        assumeCgroup();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(64 * MIB));
        long helper;
        try (SandboxedProcess p = Sandbox.command("/bin/sleep", "100").policy(policy).start()) {
            helper = p.pid();
            // The monitor dies without a word: nobody removes its cgroups.
            ProcessHandle.of(helper).orElseThrow().destroyForcibly();
            p.waitFor();
        }
        assertFalse(boxesOf(helper).isEmpty(), "the killed helper's cgroups are still there");
        Output next = run(policy, "/bin/true");
        assertEquals(0, next.result().exitCode(), next.toString());
        assertEquals(List.of(), boxesOf(helper));
    }

    @Test
    void processesLeftInAKilledHelpersCgroupAreKilledByTheNextStart() throws Exception {
        assumeCgroup();
        // Without a pid namespace nothing kills the command when its monitor dies: its cgroup
        // still holds it, and the next start ends it there.
        String mark = marker();
        SandboxPolicy policy = DEFAULTS.toBuilder().disable(Namespace.PID)
                .limits(Limits.builder().memoryBytes(64 * MIB).build()).build();
        long helper;
        try (SandboxedProcess p = Sandbox.command("/bin/bash", "-c", "exec -a " + mark
                + " sleep 1000").policy(policy).start()) {
            helper = p.pid();
            awaitTrue("the command runs", () -> hostPidsWithMarker(mark).size() == 1);
            ProcessHandle.of(helper).orElseThrow().destroyForcibly();
            p.waitFor();
        }
        assertEquals(1, hostPidsWithMarker(mark).size(), "the command outlived its monitor");
        assertFalse(boxesOf(helper).isEmpty());
        Output next = run(withLimits(Limits.builder().memoryBytes(64 * MIB)), "/bin/true");
        assertEquals(0, next.result().exitCode(), next.toString());
        awaitTrue("the survivor is killed", () -> hostPidsWithMarker(mark).isEmpty());
        assertEquals(List.of(), boxesOf(helper));
    }

    @Test
    void noCgroupIsLeftAfterTheJvmIsKilledWithSandboxesRunning() throws Exception {
        assumeCgroup();
        Process child = ChildJvm.start(CgroupHolderMain.class);
        long helper;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.US_ASCII))) {
            String line = in.readLine();
            assertTrue(line != null && line.startsWith("READY "), String.valueOf(line));
            helper = Long.parseLong(line.substring(6));
            assertFalse(boxesOf(helper).isEmpty(), "the running sandbox has its cgroups");
            child.destroyForcibly();
            assertTrue(child.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
        // The helper sees its control socket close, kills the sandbox and removes its cgroups.
        awaitTrue("helper " + helper + " removed its cgroups", () -> boxesOf(helper).isEmpty());
    }

    @Test
    void withoutACgroupMemoryFailsClosedAndSaysHowToGetOne() throws Exception {
        assumeNoCgroup();
        SandboxSetupException e = assertThrows(SandboxSetupException.class, () -> Sandbox
                .command("/bin/true").policy(withLimits(Limits.builder().memoryBytes(128 * MIB)))
                .start());
        assertEquals(SetupStep.CGROUP, e.step(), e.getMessage());
        assertTrue(e.detail().contains("systemd-run --user --scope -p Delegate=yes"),
                e.getMessage());
        SandboxSetupException cpu = assertThrows(SandboxSetupException.class, () -> Sandbox
                .command("/bin/true").policy(withLimits(Limits.builder().cpus(0.5))).start());
        assertEquals(SetupStep.CGROUP, cpu.step(), cpu.getMessage());
    }

    @Test
    void withoutACgroupBestEffortMemoryFallsBackPerProcessAndSaysSo() throws Exception {
        assumeNoCgroup();
        SandboxPolicy policy = withLimits(Limits.builder().memoryBytes(256 * MIB)
                .memoryBestEffort(true));
        Output small = python(policy, hog(64));
        assertEquals("done\n", small.stdout(), small.toString());
        assertEquals(1, small.result().notes().size(), small.toString());
        assertTrue(small.result().notes().get(0).contains("RLIMIT_DATA"), small.toString());
        Output big = python(policy, "try:\n    b = bytearray(700 << 20)\n    print('allocated')\n"
                + "except MemoryError:\n    print('MemoryError')\n");
        assertEquals("MemoryError\n", big.stdout(), big.toString());
    }

    // ---- the cgroups on the host ----

    /** The v1 oom_kill count of this JVM's own memory cgroup (0 elsewhere). */
    private static long callerOomKills() throws IOException {
        if (probe.cgroupUsableVersion() != 1) {
            return 0;
        }
        for (String line : Files.readAllLines(ownV1("memory").resolve("memory.oom_control"))) {
            if (line.startsWith("oom_kill ")) {
                return Long.parseLong(line.substring(9));
            }
        }
        return 0;
    }

    private static Path ownV1(String controller) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (List.of(f[1].split(",")).contains(controller)) {
                return Path.of("/sys/fs/cgroup/" + controller + f[2]);
            }
        }
        throw new IOException("no " + controller + " hierarchy in /proc/self/cgroup");
    }

    /** Where the sandboxes' cgroups are made: v1 per hierarchy, v2 the probe's parent. */
    private static List<Path> parents() {
        try {
            if (probe.cgroupUsableVersion() == 2) {
                return List.of(Path.of(probe.feature("cgroup_delegation").orElseThrow()
                        .attributes().get("path")));
            }
            return List.of(ownV1("memory"), ownV1("pids"), ownV1("cpu"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cgroups ("stockade-<pidns>-<pid>-<starttime>") of the monitor with this pid. */
    private static List<Path> boxesOf(long helperPid) {
        List<Path> found = new ArrayList<>();
        for (Path parent : parents()) {
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(parent, "stockade-*")) {
                for (Path box : dir) {
                    String[] parts = box.getFileName().toString().split("-");
                    if (parts.length == 4 && parts[2].equals(Long.toString(helperPid))) {
                        found.add(box);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return found;
    }
}
