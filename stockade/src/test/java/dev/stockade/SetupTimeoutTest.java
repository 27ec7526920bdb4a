package dev.stockade;

import static dev.stockade.testing.SandboxTesting.HANG_LIMIT;
import static dev.stockade.testing.SandboxTesting.PYTHON;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static dev.stockade.testing.SandboxTesting.awaitTrue;
import static dev.stockade.testing.SandboxTesting.children;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxUser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SandboxPolicy.Builder#setupTimeout}: set-up that blocks in the kernel is given up at
 * the deadline, the helper is killed and {@code start()} names the step (and the mount) it was
 * in. Two real stalls: a lock another process holds on a directory the monitor locks (any
 * caller), and a FUSE bind source whose server reads the sandbox's requests and never answers
 * (root: mounting FUSE needs it here).
 */
@Timeout(180)
class SetupTimeoutTest {
    private static final Duration DEADLINE = Duration.ofSeconds(2);
    private static final int ETIMEDOUT = 110;

    /** The helper is gone (this JVM's only children are the ones the test started itself). */
    private static void awaitNoHelper(List<ProcessHandle> own) throws InterruptedException {
        awaitTrue("the killed helper is reaped", () -> children().stream()
                .allMatch(c -> own.stream().anyMatch(o -> o.pid() == c.pid())));
    }

    /**
     * A workspace without {@code .git} gets a placeholder there (the sandbox must not create
     * one), made by the monitor under a shared flock of the workspace: an exclusive lock held
     * by another process blocks it, as a hung filesystem would.
     */
    @Test
    void aStallBeforeTheCloneNamesTheStepAndTheMount(@TempDir Path tmp) throws Exception {
        Path workspace = Files.createDirectory(tmp.resolve("ws"));
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .setupTimeout(DEADLINE).build();
        assertExitedZero(run(policy, "true")); // without the lock it starts at once

        // -o: the lock stays flock's own (not the shell's), so killing flock releases it.
        Process holder = new ProcessBuilder("flock", "-x", "-o", workspace.toString(), "-c",
                "echo locked; exec sleep 1000").redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(
                    holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", lines.readLine());
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> Sandbox.command("true").policy(policy).start());
            SetupError error = e.setupError();
            assertEquals(SetupStep.PROTECT, error.step(), error.message());
            assertEquals(ETIMEDOUT, error.errno(), error.message());
            assertTrue(error.detail().contains("within the set-up timeout of 2000 ms"),
                    error.message());
            // The first placeholder the monitor makes: one of the protected paths, all missing.
            assertTrue(SandboxPolicy.DEFAULT_PROTECTED_PATHS.stream()
                    .map(p -> workspace.resolve(p.replace("/", "")))
                    .anyMatch(p -> error.detail().contains("at the mount of " + p + " on " + p)),
                    error.message());
            assertEquals(SandboxSetupException.EXIT_SETUP, e.exitCode());
            awaitNoHelper(List.of(holder.toHandle()));
        } finally {
            holder.destroyForcibly();
            holder.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertExitedZero(run(policy, "true"));
    }

    /**
     * python3: mounts FUSE at argv[1] (as root, allow_other: the sandbox's uid may use it),
     * answers INIT and the requests of process argv[2] (this JVM: build() and start() look at
     * the source in the caller's thread), with argv[3] "getattr" also everyone's GETATTR of the
     * root, and reads every other request without ever answering it. Ends when stdin closes:
     * the connection's end makes every waiting request fail.
     */
    private static final String STALLED_FUSE = String.join("\n",
            "import ctypes, os, select, struct, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "mnt, owner, anyone = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'getattr'",
            "fd = os.open('/dev/fuse', os.O_RDWR)",
            "opts = 'fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other' % fd",
            "if libc.mount(b'stalled', mnt.encode(), b'fuse', 0, opts.encode()) != 0:",
            "    print('mount failed: errno %d' % ctypes.get_errno(), flush=True)",
            "    sys.exit(1)",
            "print('mounted', flush=True)",
            "def tgid(tid):",
            "    try:",
            "        for line in open('/proc/%d/status' % tid):",
            "            if line.startswith('Tgid:'):",
            "                return int(line.split()[1])",
            "    except OSError:",
            "        pass",
            "    return -1",
            "def reply(unique, err, payload=b''):",
            "    os.write(fd, struct.pack('<IiQ', 16 + len(payload), err, unique) + payload)",
            "while True:",
            "    ready = select.select([fd, 0], [], [])[0]",
            "    if 0 in ready and not os.read(0, 4096):",
            "        break",
            "    if fd not in ready:",
            "        continue",
            "    req = os.read(fd, 1 << 20)",
            "    length, opcode, unique, nodeid, uid, gid, pid = struct.unpack_from('<IIQQIII',"
                    + " req)",
            "    if opcode == 26:", // INIT: protocol 7.31, no features
            "        reply(unique, 0, struct.pack('<IIIIHHIIHHI', 7, 31, 0, 0, 0, 0, 4096, 1,"
                    + " 0, 0, 0) + bytes(28))",
            "    elif opcode == 36:", // INTERRUPT: the request it names stays unanswered
            "        pass",
            "    elif tgid(pid) != owner and not (anyone and opcode == 3):",
            "        pass", // the sandbox's: read, never answered
            "    elif opcode == 3:", // GETATTR of the root, never cached (attr_valid 0)
            "        attr = struct.pack('<QQQQQQIIIIIIIIII', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40755,"
                    + " 2, 0, 0, 0, 4096, 0)",
            "        reply(unique, 0, struct.pack('<QII', 0, 0, 0) + attr)",
            "    else:",
            "        reply(unique, -38)", // ENOSYS
            "libc.umount2(mnt.encode(), 2)");

    private static Process stalledFuse(Path mountPoint, String answered) throws Exception {
        Process server = new ProcessBuilder(PYTHON, "-c", STALLED_FUSE, mountPoint.toString(),
                Long.toString(ProcessHandle.current().pid()), answered)
                .redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(
                server.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("mounted", lines.readLine());
        return server;
    }

    private static void stopFuse(Process server, Path mountPoint) throws Exception {
        server.destroyForcibly();
        server.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS);
        new ProcessBuilder("umount", "-l", mountPoint.toString()).redirectErrorStream(true)
                .start().waitFor();
    }

    private static final String FUSE_NEEDS_ROOT = "mounting FUSE needs root here: /dev/fuse is"
            + " root's only and there is no set-user-ID fusermount; an unprivileged user's own"
            + " FUSE mount would live in a user namespace the caller's JVM is not in";

    @Test
    void aFuseBindSourceThatNeverAnswersTimesOutAtTheBind(@TempDir Path tmp) throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), FUSE_NEEDS_ROOT);
        Path source = Files.createDirectory(tmp.resolve("fuse"));
        SandboxPolicy plain = SandboxPolicy.builder().setupTimeout(DEADLINE).build();
        assertExitedZero(run(plain, "true")); // without the FUSE bind it starts at once

        Process server = stalledFuse(source, "none");
        try {
            SandboxPolicy policy = plain.toBuilder().bindReadOnly(source, Path.of("/data"))
                    .build();
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> Sandbox.command("true").policy(policy).start());
            SetupError error = e.setupError();
            assertEquals(SetupStep.BIND, error.step(), error.message());
            assertEquals(ETIMEDOUT, error.errno(), error.message());
            assertTrue(error.detail().contains("at the mount of " + source + " on /data"),
                    error.message());
            // The helper waits uninterruptibly for the answer to the request the server read:
            // killed, it goes once the connection ends.
            server.getOutputStream().close();
            assertTrue(server.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            awaitNoHelper(List.of());
        } finally {
            stopFuse(server, source);
        }
    }

    /**
     * The stall in the command's own process, two forks below the monitor (pid 1, then the
     * command before its execve): its working directory lies on the FUSE mount, whose root
     * answers GETATTR (the monitor's check of the source passes) but whose lookups stall.
     */
    @Test
    void aStallInTheCommandsSetUpNamesItsStep(@TempDir Path tmp) throws Exception {
        assumeTrue(SandboxUser.callerIsRoot(), FUSE_NEEDS_ROOT);
        Path source = Files.createDirectory(tmp.resolve("fuse"));
        SandboxPolicy policy = SandboxPolicy.builder().setupTimeout(DEADLINE)
                .bindReadOnly(source, Path.of("/data")).build();
        Process server = stalledFuse(source, "getattr");
        try {
            SandboxSetupException e = assertThrows(SandboxSetupException.class,
                    () -> Sandbox.command("true").policy(policy)
                            .directory(Path.of("/data/sub")).start());
            SetupError error = e.setupError();
            assertEquals(SetupStep.CHDIR, error.step(), error.message());
            assertEquals(ETIMEDOUT, error.errno(), error.message());
            server.getOutputStream().close();
            assertTrue(server.waitFor(HANG_LIMIT.toSeconds(), TimeUnit.SECONDS));
            awaitNoHelper(List.of());
        } finally {
            stopFuse(server, source);
        }
    }
}
