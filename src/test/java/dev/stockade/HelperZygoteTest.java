package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
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

    /** The zygotes among this JVM's children. */
    private static List<Long> zygotes() {
        return ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter(pid -> comm(pid).equals("stockade-zygote")).toList();
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

    @Test
    void aStoppedZygoteFailsTheSpawnAtTheSetUpTimeoutAndIsReplaced() throws Exception {
        assertEquals(0, exitOf("true"));
        long stopped = zygotes().get(0);
        assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(stopped)).start()
                .waitFor());
        SandboxPolicy quick = SandboxPolicy.builder().setupTimeout(Duration.ofSeconds(1)).build();
        SandboxSetupException e = assertThrows(SandboxSetupException.class,
                () -> Sandbox.command("true").policy(quick).start());
        assertEquals(SetupStep.HELPER, e.step());
        assertEquals(110, e.errno()); // ETIMEDOUT
        assertEquals("the helper zygote did not answer a FORK request within the set-up"
                + " timeout; it was killed (a new one serves the next spawn)", e.detail());
        awaitTrue("the stopped zygote is killed and reaped",
                () -> !Files.exists(Path.of("/proc/" + stopped)));
        assertEquals(5, exitOf("exit 5"));
        assertNotEquals(List.of(stopped), zygotes());
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
