package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.children;
import static dev.stockade.testing.SandboxTesting.readAsync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SandboxPool: warm sandboxes run their one command with its own streams, environment and
 * directory; each is used once; starts fall back to cold exactly where the pool says; close()
 * and the JVM's death leave no helper. What a warm sandbox isolates is checked by the tests
 * tagged isolation, run a second time warm (SandboxTesting.SPAWN_PROPERTY).
 */
@Timeout(180)
class SandboxPoolTest {

    private static SandboxPool readyPool(SandboxPolicy policy, int size) throws Exception {
        SandboxPool pool = SandboxPool.create(policy, size);
        assertTrue(pool.awaitReady(size, HANG_LIMIT), "pool not ready after " + HANG_LIMIT);
        return pool;
    }

    private record Run(SandboxedProcess process, SandboxResult result, String stdout,
            String stderr) {}

    private static Run run(SandboxBuilder builder, String stdin) throws Exception {
        SandboxedProcess p = builder.start();
        if (!stdin.isEmpty()) {
            // Only to a command that reads it: one that has exited has its stdin closed, as a
            // Process has ("Stream closed").
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        CompletableFuture<String> out = readAsync(p.getInputStream());
        CompletableFuture<String> err = readAsync(p.getErrorStream());
        SandboxResult r = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
        return new Run(p, r, out.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS),
                err.get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
    }

    /** The helpers this JVM has running now (its children named stockade-helper). */
    private static Set<Long> helpers() {
        Set<Long> pids = new HashSet<>();
        for (ProcessHandle child : children()) {
            try {
                String comm = Files.readString(Path.of("/proc/" + child.pid() + "/comm")).trim();
                if (comm.equals("stockade-helper")) {
                    pids.add(child.pid());
                }
            } catch (java.io.IOException e) {
                // gone meanwhile
            }
        }
        return pids;
    }

    @Test
    void aWarmStartRunsTheCommandWithItsOwnStreamsEnvironmentAndDirectory(@TempDir Path dir)
            throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().workspace(dir).env("GREETING", "hi")
                .build();
        try (SandboxPool pool = readyPool(policy, 1)) {
            Run r = run(pool.command("sh", "-c",
                    "read line; echo \"out:$line:$GREETING:$(pwd)\"; echo err >&2; exit 7")
                    .directory(dir), "hello\n");
            assertTrue(r.process().warm());
            assertEquals(7, r.result().exitCode(), r::toString);
            assertEquals("out:hello:hi:" + dir + "\n", r.stdout());
            assertEquals("err\n", r.stderr());
        }
    }

    @Test
    void mergedStderrAndFileRedirectsReachTheirDestinations(@TempDir Path dir)
            throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "from a file\n");
        Path out = dir.resolve("out.txt");
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            SandboxedProcess p = pool.command("sh", "-c", "cat; echo to-err >&2")
                    .redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectErrorStream(true).start();
            assertTrue(p.warm());
            assertEquals(0, p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS)
                    .exitCode());
            assertEquals("from a file\nto-err\n", Files.readString(out));
        }
    }

    @Test
    void eachWarmSandboxRunsOneCommandAndIsThenGone() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            Run first = run(pool.command("sh", "-c", "echo $$"), "");
            assertTrue(pool.awaitReady(1, HANG_LIMIT));
            Run second = run(pool.command("sh", "-c", "echo $$"), "");
            assertTrue(first.process().warm() && second.process().warm());
            // The same pid inside (each its own pid namespace), but two sandboxes: two pid 1s
            // and two helpers, the first reaped once its result was in.
            assertEquals("2\n", first.stdout());
            assertEquals("2\n", second.stdout());
            assertNotEquals(first.process().sandboxPid(), second.process().sandboxPid());
            assertNotEquals(first.process().pid(), second.process().pid());
            awaitTrue("the first helper is reaped", () -> !ProcessHandle.of(first.process()
                    .pid()).map(ProcessHandle::isAlive).orElse(false));
        }
    }

    @Test
    void theSlotIsSetUpAgainWhileALongCommandRunsAndAfterAShortOneEnded() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            // ready() does not refill (awaitReady would): only the pool's own refill counts.
            SandboxedProcess running = pool.command("sleep", "600").start();
            assertTrue(running.warm());
            assertEquals(0, pool.ready());
            awaitTrue("set up again while the command runs", () -> pool.ready() == 1);
            assertTrue(running.isAlive());
            running.destroyForcibly();
            running.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);

            Run quick = run(pool.command("true"), "");
            assertTrue(quick.process().warm());
            awaitTrue("set up again after the command ended", () -> pool.ready() == 1);
        }
    }

    @Test
    void startsBackToBackAllRunWarmOrColdNeverWait() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            List<Boolean> warm = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Run r = run(pool.command("sh", "-c", "echo run " + i), "");
                assertEquals("run " + i + "\n", r.stdout(), r::toString);
                assertEquals(0, r.result().exitCode());
                warm.add(r.process().warm());
            }
            assertTrue(warm.get(0), "the first start found its warm sandbox: " + warm);
        }
    }

    @Test
    void theTimeoutRunsFromTheStartNotFromTheWarmUp() throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().timeout(Duration.ofSeconds(1)).build();
        try (SandboxPool pool = readyPool(policy, 1)) {
            Thread.sleep(2500); // idle longer than the timeout
            Run quick = run(pool.command("sh", "-c", "echo ok"), "");
            assertTrue(quick.process().warm());
            assertFalse(quick.result().timedOut(), quick::toString);
            assertEquals("ok\n", quick.stdout());
            assertTrue(pool.awaitReady(1, HANG_LIMIT));
            Run slow = run(pool.command("sleep", "30"), "");
            assertTrue(slow.process().warm());
            assertTrue(slow.result().timedOut(), slow::toString);
        }
    }

    @Test
    void aMissingProgramIsReportedAsInAColdStart() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> pool.command("no-such-program-here").start());
            assertEquals(SetupStep.EXECVE, e.step());
            assertEquals(127, e.exitCode());
        }
    }

    @Test
    void aTerminalStreamStartsCold() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            // /dev/ptmx opens a pty master: a terminal, which a warm sandbox has no pty for.
            SandboxedProcess p = pool.command("true").redirectInput(new File("/dev/ptmx"))
                    .start();
            assertFalse(p.warm());
            assertEquals(0, p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS)
                    .exitCode());
        }
    }

    @Test
    void anotherPolicyOrAClosedPoolStartsCold() throws Exception {
        SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1);
        SandboxPolicy other = SandboxPolicy.builder().hostname("other").build();
        Run otherPolicy = run(pool.command("hostname").policy(other), "");
        assertFalse(otherPolicy.process().warm());
        assertEquals("other\n", otherPolicy.stdout());
        pool.close();
        assertEquals(0, pool.ready());
        Run afterClose = run(pool.command("hostname"), "");
        assertFalse(afterClose.process().warm());
        assertEquals("stockade\n", afterClose.stdout());
    }

    @Test
    void closeReapsEveryUnusedSandbox() throws Exception {
        Set<Long> before = helpers();
        SandboxPool pool = readyPool(SandboxPolicy.defaults(), 3);
        Set<Long> warm = helpers();
        warm.removeAll(before);
        assertEquals(3, warm.size(), "helpers of the pool: " + warm);
        pool.close();
        for (long pid : warm) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "helper " + pid + " survived close()");
        }
    }

    @Test
    void warmingUsesAtMostTwoThreads() throws Exception {
        try (SandboxPool pool = SandboxPool.create(SandboxPolicy.defaults(), 8)) {
            int most = 0;
            while (pool.ready() < 8) {
                most = Math.max(most, (int) Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("stockade-pool-")).count());
                assertTrue(pool.awaitReady(Math.min(8, pool.ready() + 1), HANG_LIMIT));
            }
            assertTrue(most >= 1 && most <= SandboxPool.MAX_WARMING_THREADS,
                    "warming threads: " + most);
        }
    }

    @Test
    void aFailingSetUpIsReportedByAwaitReadyAndTheStartFallsBackCold(@TempDir Path dir)
            throws Exception {
        // A bind whose source went after the policy was built fails at step bind every time (a
        // timeout would not: a warming thread that looks late finds the sandbox ready).
        Path missing = Files.createDirectory(dir.resolve("gone"));
        SandboxPolicy policy = SandboxPolicy.builder().bindReadOnly(missing, Path.of("/mnt"))
                .build();
        Files.delete(missing);
        try (SandboxPool pool = SandboxPool.create(policy, 1)) {
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> pool.awaitReady(1, HANG_LIMIT));
            assertEquals(2, e.errno(), e::toString); // ENOENT
            assertEquals(SetupStep.BIND, e.step(), e::toString);
            // The cold start gets the same policy and the same error.
            SandboxSetupException cold = assertThrows(SandboxSetupException.class,
                    () -> pool.command("true").start());
            assertEquals(2, cold.errno(), cold::toString);
            assertEquals(SetupStep.BIND, cold.step(), cold::toString);
        }
    }

    @Test
    void sizeOutOfRangeIsRefused() {
        assertEquals("a sandbox pool holds 1 to 64 sandboxes, not 0",
                assertThrows(IllegalArgumentException.class,
                        () -> SandboxPool.create(SandboxPolicy.defaults(), 0)).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SandboxPool.create(SandboxPolicy.defaults(), SandboxPool.MAX_SIZE + 1));
    }

    @Test
    void warmSetUpTimingsSplitWhatRanBeforeTheStart() throws Exception {
        try (SandboxPool pool = readyPool(SandboxPolicy.defaults(), 1)) {
            SandboxedProcess p = pool.command("true").measureSetup(true).start();
            SetupTimings t = p.onResult().get(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS)
                    .setupTimings().orElseThrow();
            assertTrue(t.warm());
            List<SetupStep> before = t.prewarm().stream().map(SetupTimings.Step::step).toList();
            List<SetupStep> after = t.steps().stream().map(SetupTimings.Step::step).toList();
            // The default profile allows every call the command's process makes after its
            // filters, so they go on before READY (native/src/helper/command.h).
            assertTrue(before.containsAll(List.of(SetupStep.HELPER, SetupStep.CLONE,
                    SetupStep.PIVOT_ROOT, SetupStep.NETWORK_NAMESPACE, SetupStep.SECCOMP)),
                    before::toString);
            assertTrue(after.containsAll(List.of(SetupStep.RESOLVE, SetupStep.CHDIR,
                    SetupStep.EXECVE)), after::toString);
            assertFalse(after.contains(SetupStep.CLONE) || after.contains(SetupStep.PIVOT_ROOT)
                    || after.contains(SetupStep.SECCOMP), after::toString);
        }
    }

    @Test
    void theJvmsDeathLeavesNoWarmSandbox() throws Exception {
        Process jvm = ChildJvm.start(PoolHolderMain.class);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("READY "), "child JVM said " + line);
            List<Long> pids = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (String word : line.substring("READY ".length()).trim().split(" ")) {
                int colon = word.lastIndexOf(':');
                names.add(word.substring(0, colon));
                pids.add(Long.parseLong(word.substring(colon + 1)));
            }
            Collections.sort(names);
            assertEquals(List.of("stockade-helper", "stockade-helper", "stockade-zygote"), names,
                    line);
            jvm.destroyForcibly(); // SIGKILL: no close(), nothing of the pool runs
            assertTrue(jvm.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            awaitTrue("the pool's helpers and the zygote gone after the owner died",
                    () -> pids.stream().noneMatch(pid -> ProcessHandle.of(pid)
                            .map(ProcessHandle::isAlive).orElse(false)));
        } finally {
            jvm.destroyForcibly();
        }
    }
}
