package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.internal.NativeBridge.NativeException;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JNI library against the real kernel: every call of {@link NativeBridge}, its errors, and
 * what a spawned process actually receives.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NativeBridgeTest {

    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_CLOEXEC = 02000000;
    private static final int ENOENT = 2;
    private static final int EBADF = 9;
    private static final int EACCES = 13;
    private static final int EEXIST = 17;
    private static final int EINVAL = 22;
    private static final int SIGKILL = 9;
    private static final int SIGHUP = 1;

    private static final int SECCOMP_RET_KILL_PROCESS = 0x80000000;
    private static final int SECCOMP_RET_ERRNO = 0x00050000;
    private static final int SECCOMP_RET_ALLOW = 0x7fff0000;
    private static final int SCMP_CMP_MASKED_EQ = 7;
    private static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    private static final int AUDIT_ARCH_I386 = 0x40000003;
    private static final int X32_SYSCALL_BIT = 0x40000000;
    private static final int EPERM = 1;

    @BeforeAll
    static void load() {
        NativeLoader.ensureLoaded();
    }

    private static boolean x86_64() {
        return Platform.current().architecture().equals("x86_64");
    }

    /** The "flags:" line of /proc/self/fdinfo/N, octal as the kernel prints it. */
    private static int fdFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        throw new AssertionError("no flags line for fd " + fd);
    }

    /**
     * FileInputStream.readAllBytes/readNBytes of this JDK line seek first and fail with
     * "Illegal seek" on a pipe or socket; a plain read loop (transferTo) works everywhere.
     */
    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        return buffer.toString(StandardCharsets.UTF_8);
    }

    private static void closeAll(int... fds) throws NativeException {
        for (int fd : fds) {
            NativeBridge.close(fd);
        }
    }

    // ---- descriptors ----

    @Test
    void pipeEndsAreCloseOnExecAndConnected() throws IOException {
        int[] pipe = NativeBridge.pipe();
        assertEquals(2, pipe.length);
        assertEquals(O_CLOEXEC, fdFlags(pipe[0]) & O_CLOEXEC);
        assertEquals(O_CLOEXEC, fdFlags(pipe[1]) & O_CLOEXEC);
        try (OutputStream out = new FileOutputStream(NativeBridge.newFileDescriptor(pipe[1]))) {
            out.write("through the pipe".getBytes(StandardCharsets.UTF_8));
        }
        try (InputStream in = new FileInputStream(NativeBridge.newFileDescriptor(pipe[0]))) {
            assertEquals("through the pipe", readAll(in));
        }
    }

    @Test
    void socketPairEndsAreCloseOnExecAndConnectedBothWays() throws IOException {
        int[] pair = NativeBridge.socketPair();
        assertEquals(O_CLOEXEC, fdFlags(pair[0]) & O_CLOEXEC);
        assertEquals(O_CLOEXEC, fdFlags(pair[1]) & O_CLOEXEC);
        try (OutputStream a = new FileOutputStream(NativeBridge.newFileDescriptor(pair[0]));
                InputStream b = new FileInputStream(NativeBridge.newFileDescriptor(pair[1]))) {
            a.write(new byte[] {1, 2, 3});
            byte[] got = new byte[3];
            int n = 0;
            while (n < got.length) {
                int r = b.read(got, n, got.length - n);
                assertTrue(r > 0, "EOF after " + n + " bytes");
                n += r;
            }
            assertArrayEquals(new byte[] {1, 2, 3}, got);
        }
    }

    @Test
    void fileDescriptorOwnsTheFdAndReportsItsNumber() throws IOException {
        int[] pipe = NativeBridge.pipe();
        FileDescriptor descriptor = NativeBridge.newFileDescriptor(pipe[0]);
        assertTrue(descriptor.valid());
        assertEquals(pipe[0], NativeBridge.fdNumber(descriptor));
        new FileInputStream(descriptor).close();
        assertEquals(-1, NativeBridge.fdNumber(descriptor));
        assertTrue(!descriptor.valid());
        NativeBridge.close(pipe[1]);
        assertThrows(NullPointerException.class, () -> NativeBridge.fdNumber(null));
    }

    @Test
    void openReadsAnExistingFileCloseOnExec(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("data");
        Files.writeString(file, "content");
        int fd = NativeBridge.open(file.toString(), O_RDONLY, 0);
        assertEquals(O_CLOEXEC, fdFlags(fd) & O_CLOEXEC);
        try (InputStream in = new FileInputStream(NativeBridge.newFileDescriptor(fd))) {
            assertEquals("content", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void openCreatesWithTheGivenModeAndUtf8Name(@TempDir Path dir) throws IOException {
        // Non-ASCII and a supplementary character: standard UTF-8, so Java's own file API
        // finds the file under the same name (JNI's modified UTF-8 would differ).
        String name = "grün-\uD83D\uDE00";
        int fd = NativeBridge.open(dir.resolve(name).toString(), O_WRONLY | O_CREAT | O_EXCL, 0640);
        NativeBridge.close(fd);
        Path created = dir.resolve(name);
        assertTrue(Files.isRegularFile(created));
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(created);
        assertTrue(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ).containsAll(permissions), permissions.toString());

        NativeException exists = assertThrows(NativeException.class,
                () -> NativeBridge.open(created.toString(), O_WRONLY | O_CREAT | O_EXCL, 0600));
        assertEquals(EEXIST, exists.errno());
    }

    @Test
    void openOfAMissingFileCarriesEnoentAndThePath(@TempDir Path dir) {
        String missing = dir.resolve("missing").toString();
        NativeException e = assertThrows(NativeException.class,
                () -> NativeBridge.open(missing, O_RDONLY, 0));
        assertEquals("open", e.call());
        assertEquals(ENOENT, e.errno());
        assertEquals("open: " + missing + ": No such file or directory (errno 2)", e.getMessage());
    }

    @Test
    void openRejectsStringsTheKernelCannotTake() {
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.open("/tmp/a\0b", O_RDONLY, 0));
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.open("/tmp/\uD800", O_RDONLY, 0));
        assertThrows(NullPointerException.class, () -> NativeBridge.open(null, O_RDONLY, 0));
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.open("/tmp", O_RDONLY, -1));
    }

    @Test
    void closeOfABadFdCarriesEbadf() {
        NativeException e = assertThrows(NativeException.class, () -> NativeBridge.close(-1));
        assertEquals("close", e.call());
        assertEquals(EBADF, e.errno());
    }

    @Test
    void idsMatchProcSelfStatus() throws IOException {
        String uid = null;
        String gid = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                uid = line.substring(4).trim().split("\\s+")[0];
            } else if (line.startsWith("Gid:")) {
                gid = line.substring(4).trim().split("\\s+")[0];
            }
        }
        assertEquals(Integer.parseInt(uid), NativeBridge.getuid());
        assertEquals(Integer.parseInt(gid), NativeBridge.getgid());
    }

    // ---- spawn, signals, wait ----

    /** A spawned child with its stdio on pipes and a socket as fd 3. */
    private static final class Child implements AutoCloseable {
        final int pid;
        final int pidfd;
        final OutputStream stdin;
        final CompletableFuture<byte[]> stdout;
        final CompletableFuture<byte[]> stderr;
        final CompletableFuture<byte[]> control;

        Child(String program, String... argv) throws IOException {
            int[] in = NativeBridge.pipe();
            int[] out = NativeBridge.pipe();
            int[] err = NativeBridge.pipe();
            int[] sock = NativeBridge.socketPair();
            int[] started;
            try {
                started = NativeBridge.spawn(program, argv, in[0], out[1], err[1], sock[1], -1);
            } finally {
                closeAll(in[0], out[1], err[1], sock[1]);
            }
            pid = started[0];
            pidfd = started[1];
            stdin = new FileOutputStream(NativeBridge.newFileDescriptor(in[1]));
            stdout = drain(out[0]);
            stderr = drain(err[0]);
            control = drain(sock[0]);
        }

        private static CompletableFuture<byte[]> drain(int fd) {
            InputStream stream = new FileInputStream(NativeBridge.newFileDescriptor(fd));
            return CompletableFuture.supplyAsync(() -> {
                try (stream) {
                    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                    stream.transferTo(buffer);
                    return buffer.toByteArray();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }

        int waitFor() throws NativeException {
            return NativeBridge.waitFor(pidfd);
        }

        String out() throws Exception {
            return new String(stdout.get(60, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }

        String err() throws Exception {
            return new String(stderr.get(60, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }

        String ctl() throws Exception {
            return new String(control.get(60, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            stdin.close();
            NativeBridge.sendSignal(pidfd, SIGKILL);
            NativeBridge.close(pidfd);
        }
    }

    private static Child sh(String script) throws IOException {
        return new Child("/bin/sh", "sh", "-c", script);
    }

    @Test
    void exitStatusComesBackInWaitpidEncoding() throws Exception {
        try (Child zero = sh("exit 0"); Child seven = sh("exit 7"); Child max = sh("exit 255")) {
            assertEquals(0, zero.waitFor());
            assertEquals(7 << 8, seven.waitFor());
            assertEquals(255 << 8, max.waitFor());
        }
    }

    @Test
    void sigkillThroughThePidfdGivesStatus9() throws Exception {
        try (Child sleeper = new Child("/bin/sleep", "sleep", "1000")) {
            assertTrue(sleeper.pid > 0);
            NativeBridge.sendSignal(sleeper.pidfd, SIGKILL);
            assertEquals(SIGKILL, sleeper.waitFor());
            // Reaped now: signalling it again is not an error, waiting again is ECHILD.
            NativeBridge.sendSignal(sleeper.pidfd, SIGKILL);
            NativeException again = assertThrows(NativeException.class, sleeper::waitFor);
            assertEquals("waitid", again.call());
        }
    }

    @Test
    void waitAndSignalOnSomethingNotAPidfdCarryTheErrno() throws NativeException {
        NativeException negative = assertThrows(NativeException.class,
                () -> NativeBridge.waitFor(-1));
        assertEquals("waitid", negative.call());
        assertEquals(EINVAL, negative.errno());
        int[] pipe = NativeBridge.pipe();
        try {
            NativeException notPidfd = assertThrows(NativeException.class,
                    () -> NativeBridge.waitFor(pipe[0]));
            assertEquals("waitid", notPidfd.call());
            assertEquals(EBADF, notPidfd.errno());
            NativeException signal = assertThrows(NativeException.class,
                    () -> NativeBridge.sendSignal(pipe[0], 0));
            assertEquals("pidfd_send_signal", signal.call());
            assertEquals(EBADF, signal.errno());
        } finally {
            closeAll(pipe);
        }
    }

    @Test
    void childGetsStdioAndControlOnFds0To3() throws Exception {
        try (Child child = sh("read line; echo \"out:$line\"; echo err >&2; echo ctl >&3")) {
            child.stdin.write("hello\n".getBytes(StandardCharsets.UTF_8));
            child.stdin.close();
            assertEquals(0, child.waitFor());
            assertEquals("out:hello\n", child.out());
            assertEquals("err\n", child.err());
            assertEquals("ctl\n", child.ctl());
        }
    }

    @Test
    void childGetsAnEmptyEnvironment() throws Exception {
        try (Child child = new Child("/usr/bin/env", "env")) {
            assertEquals(0, child.waitFor());
            assertEquals("", child.out());
        }
    }

    @Test
    void childDoesNotInheritOurCloseOnExecDescriptors() throws Exception {
        int[] unrelated = NativeBridge.pipe();
        try (Child child = sh("for fd in " + unrelated[0] + " " + unrelated[1] + "; do"
                + " if [ -e /proc/$$/fd/$fd ]; then echo leaked $fd; fi; done;"
                + " for fd in 0 1 2 3; do [ -e /proc/$$/fd/$fd ] || echo missing $fd; done")) {
            assertEquals(0, child.waitFor());
            assertEquals("", child.out());
        } finally {
            closeAll(unrelated);
        }
    }

    /**
     * Sources that are themselves among 0..3, including one equal to its target and two that
     * swap places: each target must end up with the right file, and open in the child.
     */
    @Test
    void lowSourceDescriptorsLandOnTheRightTargets() throws Exception {
        int[] out = NativeBridge.pipe();
        int[] sock = NativeBridge.socketPair();
        String jvmFd0 = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
        String jvmFd2 = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
        assumeTrue(!jvmFd0.equals(jvmFd2), "this JVM's fds 0 and 2 are the same file");
        int[] started;
        try {
            // stdin <- our fd 2, stderr <- our fd 0: a naive dup2 sequence would give the
            // child our fd 2 twice. stdout is a pipe so we can read the answer.
            started = NativeBridge.spawn("/bin/sh", new String[] {"sh", "-c",
                "readlink /proc/$$/fd/0; readlink /proc/$$/fd/2"}, 2, out[1], 0, sock[1], -1);
        } finally {
            closeAll(out[1], sock[1]);
        }
        try (InputStream in = new FileInputStream(NativeBridge.newFileDescriptor(out[0]))) {
            String answer = readAll(in);
            assertEquals(0, NativeBridge.waitFor(started[1]));
            assertEquals(jvmFd2 + "\n" + jvmFd0 + "\n", answer);
        } finally {
            closeAll(started[1], sock[0]);
        }

        // Identity: our fd 0 as stdin, our fd 1 as stdout. The answer goes out through the
        // control socket; the command substitution keeps readlink from being exec'd in place
        // of the shell, whose fds are the ones being asked about.
        int[] sock2 = NativeBridge.socketPair();
        int[] err = NativeBridge.pipe();
        try {
            started = NativeBridge.spawn("/bin/sh", new String[] {"sh", "-c",
                "x=$(readlink /proc/$$/fd/0 /proc/$$/fd/1); echo \"$x\" >&3"}, 0, 1, err[1],
                sock2[1], -1);
        } finally {
            closeAll(err[1], sock2[1]);
        }
        String jvmFd1 = Files.readSymbolicLink(Path.of("/proc/self/fd/1")).toString();
        try (InputStream in = new FileInputStream(NativeBridge.newFileDescriptor(sock2[0]))) {
            String answer = readAll(in);
            assertEquals(0, NativeBridge.waitFor(started[1]));
            assertEquals(jvmFd0 + "\n" + jvmFd1 + "\n", answer);
        } finally {
            closeAll(started[1], err[0]);
        }
    }

    /**
     * The JVM's ignored signals would survive exec; the helper must start with none ignored
     * and none blocked. SIGHUP is set to ignored here for the duration of the test, and a
     * ProcessBuilder child first shows that it is inherited without the reset.
     */
    @Test
    void childStartsWithNoSignalBlockedOrIgnored() throws Exception {
        Class<?> signalType = Class.forName("sun.misc.Signal");
        Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
        Constructor<?> newSignal = signalType.getConstructor(String.class);
        Method handle = signalType.getMethod("handle", signalType, handlerType);
        Object hup = newSignal.newInstance("HUP");
        Object ignore = handlerType.getField("SIG_IGN").get(null);
        Object previous = handle.invoke(null, hup, ignore);
        try {
            Process plain = new ProcessBuilder("/bin/cat", "/proc/self/status").start();
            String plainStatus = new String(plain.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8);
            assertEquals(0, plain.waitFor());
            long plainIgnored = Long.parseLong(statusField(plainStatus, "SigIgn"), 16);
            assertEquals(1L << (SIGHUP - 1), plainIgnored & (1L << (SIGHUP - 1)),
                    "a ProcessBuilder child inherits SIGHUP ignored");

            try (Child child = new Child("/bin/cat", "cat", "/proc/self/status")) {
                assertEquals(0, child.waitFor());
                String status = child.out();
                assertEquals("0000000000000000", statusField(status, "SigIgn"));
                assertEquals("0000000000000000", statusField(status, "SigBlk"));
            }
        } finally {
            handle.invoke(null, hup, previous);
        }
    }

    private static String statusField(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + name + " in " + status);
    }

    @Test
    void spawnFailuresNameTheCallAndErrno(@TempDir Path dir) throws IOException {
        int[] sock = NativeBridge.socketPair();
        try {
            NativeException missing = assertThrows(NativeException.class, () -> NativeBridge.spawn(
                    dir.resolve("missing").toString(), new String[] {"x"}, 0, 1, 2, sock[1], -1));
            assertEquals("posix_spawn", missing.call());
            assertEquals(ENOENT, missing.errno());

            Path notExecutable = Files.writeString(dir.resolve("script"), "#!/bin/sh\n");
            NativeException denied = assertThrows(NativeException.class, () -> NativeBridge.spawn(
                    notExecutable.toString(), new String[] {"x"}, 0, 1, 2, sock[1], -1));
            assertEquals("posix_spawn", denied.call());
            assertEquals(EACCES, denied.errno());

            NativeException badFd = assertThrows(NativeException.class, () -> NativeBridge.spawn(
                    "/bin/true", new String[] {"true"}, 0, 1, 2, -1, -1));
            assertEquals(EBADF, badFd.errno());

            assertThrows(IllegalArgumentException.class,
                    () -> NativeBridge.spawn("/bin/true", new String[0], 0, 1, 2, sock[1], -1));
            assertThrows(NullPointerException.class,
                    () -> NativeBridge.spawn("/bin/true", new String[] {null}, 0, 1, 2, sock[1], -1));
        } finally {
            closeAll(sock);
        }
    }

    // ---- seccomp ----

    @Test
    void resolveSyscallUsesTheNativeTable() {
        assumeTrue(x86_64(), "syscall numbers below are x86_64's");
        assertEquals(39, NativeBridge.resolveSyscall("getpid"));
        assertEquals(0, NativeBridge.resolveSyscall("read"));
        assertEquals(-1, NativeBridge.resolveSyscall("nosuchcall"));
        // Exists on i386 only; libseccomp's pseudo-number must not leak out.
        assertEquals(-1, NativeBridge.resolveSyscall("socketcall"));
    }

    private static byte[] compileDenyList() throws NativeException {
        int ioctl = NativeBridge.resolveSyscall("ioctl");
        int uname = NativeBridge.resolveSyscall("uname");
        return NativeBridge.compileSeccomp(SECCOMP_RET_ALLOW,
                new int[] {uname, ioctl},
                new int[] {SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_ERRNO | EPERM},
                new int[] {0, 1},
                new long[] {1, SCMP_CMP_MASKED_EQ, 0xffffffffL, 0x5412});
    }

    @Test
    void compiledProgramIsWholeInstructionsAndDoesWhatTheRulesSay() throws Exception {
        assumeTrue(x86_64(), "the program is checked with x86_64 syscall numbers");
        byte[] program = compileDenyList();
        assertTrue(program.length > 0);
        assertEquals(0, program.length % 8);
        assertTrue(program.length / 8 <= 4096);

        int getpid = NativeBridge.resolveSyscall("getpid");
        int uname = NativeBridge.resolveSyscall("uname");
        int ioctl = NativeBridge.resolveSyscall("ioctl");
        assertEquals(SECCOMP_RET_ALLOW, Bpf.run(program, AUDIT_ARCH_X86_64, getpid, 0));
        assertEquals(SECCOMP_RET_ERRNO | EPERM, Bpf.run(program, AUDIT_ARCH_X86_64, uname, 0));
        assertEquals(SECCOMP_RET_ALLOW, Bpf.run(program, AUDIT_ARCH_X86_64, ioctl, 0x541B));
        assertEquals(SECCOMP_RET_ERRNO | EPERM, Bpf.run(program, AUDIT_ARCH_X86_64, ioctl, 0x5412));
        assertEquals(SECCOMP_RET_ERRNO | EPERM,
                Bpf.run(program, AUDIT_ARCH_X86_64, ioctl, 0x1_0000_5412L));
        // The x32 ABI and foreign architectures are killed before any rule is looked at.
        assertEquals(SECCOMP_RET_KILL_PROCESS,
                Bpf.run(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | getpid, 0));
        assertEquals(SECCOMP_RET_KILL_PROCESS, Bpf.run(program, AUDIT_ARCH_I386, 20, 0));
    }

    @Test
    void compileRejectsAnInvalidSyscallNumber() {
        for (int bad : new int[] {-5, 100000}) {
            NativeException e = assertThrows(NativeException.class,
                    () -> NativeBridge.compileSeccomp(SECCOMP_RET_ALLOW, new int[] {bad},
                            new int[] {SECCOMP_RET_ERRNO | EPERM}, new int[] {0}, new long[0]));
            assertEquals("seccomp_rule_add", e.call());
            assertEquals(EINVAL, e.errno());
        }
    }

    @Test
    void compileRejectsBadConditionsAndActions() {
        int ioctl = NativeBridge.resolveSyscall("ioctl");
        NativeException argument = assertThrows(NativeException.class,
                () -> NativeBridge.compileSeccomp(SECCOMP_RET_ALLOW, new int[] {ioctl},
                        new int[] {SECCOMP_RET_ERRNO | EPERM}, new int[] {1},
                        new long[] {6, 4, 0, 0}));
        assertEquals("seccomp_rule_add", argument.call());
        assertEquals(EINVAL, argument.errno());

        NativeException action = assertThrows(NativeException.class,
                () -> NativeBridge.compileSeccomp(0x12345678, new int[0], new int[0], new int[0],
                        new long[0]));
        assertEquals("seccomp_init", action.call());
        assertEquals(EINVAL, action.errno());
    }

    @Test
    void compileRejectsMalformedArrays() {
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.compileSeccomp(
                SECCOMP_RET_ALLOW, new int[] {39}, new int[0], new int[] {0}, new long[0]));
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.compileSeccomp(
                SECCOMP_RET_ALLOW, new int[] {39}, new int[] {SECCOMP_RET_ERRNO | EPERM},
                new int[] {1}, new long[] {1, 4, 0}));
        assertThrows(IllegalArgumentException.class, () -> NativeBridge.compileSeccomp(
                SECCOMP_RET_ALLOW, new int[] {39}, new int[] {SECCOMP_RET_ERRNO | EPERM},
                new int[] {7}, new long[28]));
        assertThrows(NullPointerException.class, () -> NativeBridge.compileSeccomp(
                SECCOMP_RET_ALLOW, null, new int[0], new int[0], new long[0]));
    }

    @Test
    void concurrentCompilationsGiveIdenticalPrograms() throws Exception {
        byte[] expected = compileDenyList();
        List<CompletableFuture<byte[]>> runs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            runs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return compileDenyList();
                } catch (NativeException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (CompletableFuture<byte[]> run : runs) {
            assertArrayEquals(expected, run.get(60, TimeUnit.SECONDS));
        }
        assertNotEquals(0, expected.length);
    }

    /** A seccomp classic-BPF interpreter, independent of the one inside the library. */
    static final class Bpf {
        private Bpf() {}

        static int run(byte[] program, int arch, int nr, long arg1) {
            ByteBuffer code = ByteBuffer.wrap(program).order(ByteOrder.nativeOrder());
            ByteBuffer data = ByteBuffer.allocate(64).order(ByteOrder.nativeOrder());
            data.putInt(0, nr).putInt(4, arch).putLong(16 + 8, arg1);
            int a = 0;
            int x = 0;
            int[] scratch = new int[16];
            int pc = 0;
            int count = program.length / 8;
            while (pc < count) {
                int op = code.getShort(pc * 8) & 0xffff;
                int jt = code.get(pc * 8 + 2) & 0xff;
                int jf = code.get(pc * 8 + 3) & 0xff;
                int k = code.getInt(pc * 8 + 4);
                pc++;
                switch (op) {
                    case 0x20 -> a = data.getInt(k); // LD W ABS
                    case 0x00 -> a = k; // LD IMM
                    case 0x60 -> a = scratch[k]; // LD MEM
                    case 0x61 -> x = scratch[k]; // LDX MEM
                    case 0x02 -> scratch[k] = a; // ST
                    case 0x03 -> scratch[k] = x; // STX
                    case 0x54 -> a &= k; // ALU AND K
                    case 0x44 -> a |= k; // ALU OR K
                    case 0x07 -> x = a; // TAX
                    case 0x87 -> a = x; // TXA
                    case 0x05 -> pc += k; // JA
                    case 0x15 -> pc += a == k ? jt : jf; // JEQ K
                    case 0x25 -> pc += Integer.compareUnsigned(a, k) > 0 ? jt : jf; // JGT K
                    case 0x35 -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf; // JGE K
                    case 0x45 -> pc += (a & k) != 0 ? jt : jf; // JSET K
                    case 0x1d -> pc += a == x ? jt : jf; // JEQ X
                    case 0x06 -> {
                        return k; // RET K
                    }
                    case 0x16 -> {
                        return a; // RET A
                    }
                    default -> throw new AssertionError("opcode 0x" + Integer.toHexString(op));
                }
            }
            throw new AssertionError("program ran off its end");
        }
    }
}
