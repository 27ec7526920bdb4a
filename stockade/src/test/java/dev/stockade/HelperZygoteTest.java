package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.zygotes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The helper zygote (dev.stockade.internal.HelperZygote): one per JVM forks every sandbox's
 * helper, each a child of this JVM; it holds nothing of the sandboxes, and a zygote that died
 * is replaced by the next spawn.
 */
@Timeout(300)
class HelperZygoteTest {

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }


    private static char state(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    private static int exitOf(String script) throws Exception {
        return SandboxTesting.run(SandboxPolicy.defaults(), "/bin/sh", "-c", script)
                .result().exitCode();
    }

    @Test
    void oneZygoteForksEveryHelperAsThisJvmsChild() throws Exception {
        assertEquals(0, exitOf("true"));
        List<Long> before = zygotes();
        assertEquals(1, before.size(), before::toString);
        for (int i = 1; i <= 3; i++) {
            try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x; exit " + i)
                    .policy(SandboxPolicy.defaults()).start()) {
                assertTrue(ProcessHandle.current().children().anyMatch(c -> c.pid() == p.pid()),
                        "the helper " + p.pid() + " is this JVM's child");
                assertEquals("stockade-helper", comm(p.pid()));
                p.getOutputStream().close();
                assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
                assertEquals(i, p.exitValue());
            }
        }
        assertEquals(before, zygotes(), "the same zygote served every spawn");
    }

    @Test
    void theZygoteHoldsOnlyItsSocketAndDevNull() throws Exception {
        assertEquals(0, exitOf("echo to a pipe"));
        long zygote = zygotes().get(0);
        TreeMap<Integer, String> fds = new TreeMap<>();
        try (var dir = Files.newDirectoryStream(Path.of("/proc/" + zygote + "/fd"))) {
            for (Path fd : dir) {
                fds.put(Integer.parseInt(fd.getFileName().toString()),
                        Files.readSymbolicLink(fd).toString());
            }
        }
        assertEquals(List.of(0, 1, 2, 3), List.copyOf(fds.keySet()), fds::toString);
        for (int fd = 0; fd <= 2; fd++) {
            assertEquals("/dev/null", fds.get(fd), fds::toString);
        }
        assertTrue(fds.get(3).startsWith("socket:"), fds::toString);
    }

    @Test
    void aZygoteThatDiedIsReplacedByTheNextSpawn() throws Exception {
        assertEquals(0, exitOf("true"));
        long old = zygotes().get(0);
        ProcessHandle.of(old).orElseThrow().destroyForcibly();
        awaitTrue("the killed zygote is a zombie", () -> {
            try {
                return state(old) == 'Z';
            } catch (IOException e) {
                return false;
            }
        });
        assertEquals(4, exitOf("exit 4"), "the next spawn starts a new zygote and runs");
        List<Long> now = zygotes();
        assertEquals(1, now.size(), now::toString);
        assertNotEquals(old, now.get(0));
        awaitTrue("the dead zygote is reaped", () -> !Files.exists(Path.of("/proc/" + old)));
    }

    private static void signal(String signal, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start()
                .waitFor());
    }

    @Test
    void aStoppedZygoteFailsTheSpawnAtTheSetUpTimeoutAndItsLateHelperIsReaped() throws Exception {
        assertEquals(0, exitOf("true"));
        long stopped = zygotes().get(0);
        signal("STOP", stopped);
        SandboxPolicy quick = SandboxPolicy.builder().setupTimeout(Duration.ofSeconds(1)).build();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").policy(quick).start());
        assertEquals(SetupStep.HELPER, e.step());
        assertEquals(110, e.errno()); // ETIMEDOUT
        assertEquals("the helper zygote did not answer a FORK request within the set-up"
                + " timeout (a new one serves the next spawn)", e.detail());
        assertEquals(5, exitOf("exit 5"), "a new zygote serves the next spawn");
        assertEquals(2, zygotes().size(), "the stopped one still owes its answer");
        signal("CONT", stopped);
        // It answers the request it owed; that helper is killed and reaped, then the zygote.
        awaitTrue("the stopped zygote is reaped", () -> !Files.exists(Path.of("/proc/" + stopped)));
        awaitTrue("no zombie child is left", () -> SandboxTesting.zombieChildren().isEmpty());
        assertEquals(1, zygotes().size());
    }

    @Test
    void aSpawnWaitsForTheBusyZygoteOnlyUntilItsOwnDeadline() throws Exception {
        assertEquals(0, exitOf("true"));
        long stopped = zygotes().get(0);
        signal("STOP", stopped);
        try {
            CompletableFuture<Throwable> first = CompletableFuture.supplyAsync(() -> failureOf(
                    SandboxPolicy.builder().setupTimeout(Duration.ofSeconds(20)).build()));
            awaitTrue("the first spawn waits for the stopped zygote",
                    () -> SandboxTesting.children().isEmpty() && !first.isDone()
                            && SandboxTesting.threadWaitsForZygoteAnswer());
            Throwable second = failureOf(
                    SandboxPolicy.builder().setupTimeout(Duration.ofMillis(500)).build());
            assertEquals("the helper zygote was busy with other spawns for the whole set-up"
                    + " timeout", ((SandboxSetupException) second).detail());
            assertEquals(List.of(stopped), zygotes(), "the busy zygote was left alone");
            signal("CONT", stopped);
            assertEquals(null, first.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                    "the first spawn is served once the zygote runs again");
        } finally {
            signal("CONT", stopped);
        }
    }


    /** Runs {@code true} under {@code policy}: null when it ran, else what start() threw. */
    private static Throwable failureOf(SandboxPolicy policy) {
        try (SandboxedProcess p = Sandbox.command("true").policy(policy).start()) {
            p.waitFor();
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    /**
     * A changed rlimit of the JVM gives a new zygote that has it; changed back, the first one
     * serves again (in a child JVM, as the next test).
     */
    @Test
    void aChangedRlimitOfTheJvmStartsANewZygoteThatHasIt() throws Exception {
        List<String> lines = childLines("rlimit");
        assumeTrue(!lines.get(0).equals("no soft core limit to change"), lines.get(0));
        String[] soft = lines.get(0).split(" ");
        assertEquals(List.of("core " + soft[1] + " -> " + soft[3], "core " + soft[3],
                "core " + soft[1], "zygotes 2, the first one serves again"), lines);
    }

    /**
     * A helper that died of a signal retires its zygote: SIGKILL too, when the library did not
     * send it (a step able to signal the helper could dress a crash up as one).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"SEGV", "KILL"})
    void aHelperThatCrashedRetiresTheZygote(String signal) throws Exception {
        long before = zygoteAfterAKilledSandbox(SandboxPolicy.defaults());
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x")
                .policy(SandboxPolicy.defaults()).start()) {
            signal(signal, p.pid());
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
        assertRetiredAndReplaced(before);
    }

    /** A warm sandbox of a zygote that saw a crash is not handed out: a new one starts. */
    @Test
    void aPoolHandsOutNoSandboxOfATaintedZygote() throws Exception {
        assertEquals(0, exitOf("true"));
        try (SandboxPool pool = SandboxPool.create(SandboxPolicy.defaults(), 1)) {
            assertTrue(pool.awaitReady(1, HANG_LIMIT));
            java.util.Set<Long> ready = ProcessHandle.current().children()
                    .map(ProcessHandle::pid).filter(pid -> comm(pid).equals("stockade-helper"))
                    .collect(java.util.stream.Collectors.toSet());
            assertEquals(1, ready.size(), ready::toString);
            try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x")
                    .policy(SandboxPolicy.defaults()).start()) {
                signal("SEGV", p.pid());
                assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            }
            try (SandboxedProcess p = pool.command("/bin/sh", "-c", "exit 5").start()) {
                assertEquals(5, p.waitFor());
                assertTrue(!ready.contains(p.pid()), "the ready sandbox " + ready
                        + " of the tainted zygote served the start");
            }
        }
    }

    /**
     * pid 1 is a fork of the helper, never exec'd: its crash is the helper's too. It ends the
     * sandbox (the monitor kills the command) and the helper exits STK_EXIT_OWN_CRASH. Without
     * a pid namespace: a namespace's init gets no signal from outside it has no handler for,
     * so only there can a test's SIGSEGV stand in for a crash.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"SEGV", "KILL"})
    void aPid1ThatCrashedRetiresTheZygote(String signal) throws Exception {
        SandboxPolicy noPidNamespace = SandboxPolicy.builder().disable(Namespace.PID).build();
        long before = zygoteAfterAKilledSandbox(noPidNamespace);
        SandboxResult r;
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x")
                .policy(noPidNamespace).start()) {
            signal(signal, p.sandboxPid());
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            r = p.result();
        }
        assertEquals(9, r.signal(), r::toString);
        assertRetiredAndReplaced(before);
    }

    /**
     * The egress forwarder, a fork of pid 1, reads what the command sends: its crash retires
     * the zygote too, though the command goes on and exits normally.
     */
    @Test
    void anEgressForwarderThatCrashedRetiresTheZygote() throws Exception {
        SandboxPolicy egress = SandboxPolicy.builder()
                .network(Network.allow("web.stockade.test:80")).build();
        long before = zygoteAfterAKilledSandbox(egress);
        SandboxResult r;
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x; exit 6")
                .policy(egress).start()) {
            long forwarder = forwarderOf(p);
            signal("SEGV", forwarder);
            awaitTrue("the forwarder is gone",
                    () -> !Files.exists(Path.of("/proc/" + forwarder + "/task")));
            p.getOutputStream().close();
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            r = p.result();
        }
        assertEquals(6, r.exitCode(), r::toString);
        assertRetiredAndReplaced(before);
    }

    /** The forwarder: the child of the sandbox's pid 1 that is not the command. */
    private static long forwarderOf(SandboxedProcess p) throws IOException {
        String[] children = Files.readString(Path.of("/proc/" + p.sandboxPid() + "/task/"
                + p.sandboxPid() + "/children")).trim().split(" ");
        List<Long> others = Arrays.stream(children).map(Long::parseLong)
                .filter(pid -> !comm(pid).equals("sh")).toList();
        assertEquals(1, others.size(), Arrays.toString(children));
        return others.get(0);
    }

    /**
     * The allowed case first: a sandbox killed by the library (SIGKILL to the helper, which
     * kills pid 1 and the forwarder) leaves its zygote in service. Returns that zygote.
     */
    private static long zygoteAfterAKilledSandbox(SandboxPolicy policy) throws Exception {
        assertEquals(0, exitOf("true"));
        long zygote = zygotes().get(0);
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x").policy(policy)
                .start()) {
            p.destroyForcibly();
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
        assertEquals(0, exitOf("true"));
        assertEquals(List.of(zygote), zygotes(), "a killed sandbox is no crash");
        return zygote;
    }

    /** The zygote {@code old} is retired and reaped, and a new one serves the next spawn. */
    private static void assertRetiredAndReplaced(long old) throws Exception {
        assertEquals(3, exitOf("exit 3"));
        awaitTrue("the zygote of the crash is reaped",
                () -> !Files.exists(Path.of("/proc/" + old)));
        List<Long> now = zygotes();
        assertEquals(1, now.size(), now::toString);
        assertNotEquals(old, now.get(0));
    }

    /** A spawn takes a free zygote even from an interrupted thread, as ProcessBuilder does. */
    @Test
    void anInterruptedThreadStillSpawns() throws Exception {
        assertEquals(0, exitOf("true"));
        Thread.currentThread().interrupt();
        try {
            SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "exit 8")
                    .policy(SandboxPolicy.defaults()).start();
            assertTrue(Thread.interrupted(), "the interrupt is left for the caller");
            assertTrue(p.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(8, p.exitValue());
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * A thread whose CPU affinity and nice value are its own (taskset and renice of its tid)
     * gets helpers that have them, from a zygote of its own; the other threads keep theirs,
     * and the two zygotes take turns without being started again (in a child JVM: its second
     * zygote would stay, and this class counts them).
     */
    @Test
    void aThreadWithItsOwnAffinityAndNiceGetsAZygoteOfItsOwn() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs");
        List<String> lines = childLines("affinity");
        String common = lines.get(0).substring("own ".length());
        assertNotEquals("0 7", common);
        assertEquals(List.of("own " + common, "main " + common, "pinned 0 7", "main " + common,
                "pinned 0 7", "zygotes 2, none started again"), lines);
    }

    /**
     * A zygote tainted while another spawn held the lock (so the thread that saw the crash
     * could not retire it) is retired by the next spawn, though of another context: it must
     * not wait for a spawn of its own context, which may never come (in a child JVM).
     */
    @Test
    void aZygoteTaintedWhileTheLockWasHeldIsRetiredByTheNextSpawnOfAnyContext()
            throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs");
        assertEquals(List.of("after the waiting spawn: left", "after the next spawn: gone"),
                childLines("taint"));
    }

    /**
     * Where the JVM's {@code /proc/thread-self} does not resolve (a tmpfs over its
     * {@code /proc/PID/task}, in a mount namespace of the child JVM's own), no thread's context
     * can be told from another's: every spawn gets a zygote of its own that ends once it
     * forked, and the sandboxes run as ever (in a child JVM).
     */
    @Test
    void withoutThreadSelfEverySpawnHasAZygoteOfItsOwn() throws Exception {
        // Unprivileged, the mount needs a user namespace of its own (unshare -r), where / and
        // every root-owned directory belong to an unmapped uid: the library refuses to load
        // natives another user could replace, so no JVM of this user can run Stockade there.
        // What this test decides is the Java side's, which HelperZygoteContextTest also shows
        // for this user.
        assumeTrue(dev.stockade.internal.CallerIds.isRoot(),
                "a mount namespace without a user namespace needs root");
        List<String> unshare = new java.util.ArrayList<>(List.of("unshare", "-m",
                "--propagation", "private", "sh", "-c",
                "\"$@\" & jvm=$!; mount -t tmpfs stockade-test /proc/$jvm/task; wait $jvm", "sh"));
        unshare.addAll(ChildJvm.command(List.of(), ZygoteContextsMain.class, "unreadable"));
        assertEquals(List.of("thread-self unreadable", "one two", "zygotes 0"),
                childLines(new ProcessBuilder(unshare).start()));
    }

    /** What ZygoteContextsMain prints in {@code mode}; it must exit 0. */
    private static List<String> childLines(String mode) throws Exception {
        return childLines(ChildJvm.start(ZygoteContextsMain.class, mode));
    }

    /** What {@code jvm} prints; it must exit 0. */
    private static List<String> childLines(Process jvm) throws Exception {
        try {
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(jvm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return e.toString();
                }
            });
            List<String> lines = new BufferedReader(new InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8)).lines().toList();
            assertTrue(jvm.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(0, jvm.exitValue(), () -> lines + " " + err.join());
            return lines;
        } finally {
            jvm.destroyForcibly();
        }
    }

    /**
     * The thread that started the zygote is the parent thread of every helper it forks
     * (CLONE_PARENT); its end must not touch them (no parent-death signal towards the JVM).
     */
    @Test
    void helpersOutliveTheThreadThatStartedTheZygote() throws Exception {
        Process jvm = ChildJvm.start(ZygoteStarterMain.class);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("EXITS 0 7", out.readLine());
            assertTrue(jvm.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(0, jvm.exitValue());
        } finally {
            jvm.destroyForcibly();
        }
    }
}
