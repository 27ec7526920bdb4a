package dev.stockade;

import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import dev.stockade.internal.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Report rules end to end: a real sandbox, a real kernel's user notification, the helper's pid 1
 * answering and counting, the VIOLATION events, {@link SandboxResult#violations()}.
 */
@Timeout(120)
class SeccompReportTest {

    /** python3: call(nr, *args) makes a raw system call and returns 0 or its errno. */
    private static final String SYSCALL_PRELUDE = String.join("\n",
            "import ctypes",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def call(nr, *args):",
            "    ctypes.set_errno(0)",
            "    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])",
            "    return 0 if r != -1 else ctypes.get_errno()") + "\n";

    /** x86_64 numbers: ptrace 101, unshare 272, getppid 110. */
    private static String calls(int ptraceCalls) {
        return SYSCALL_PRELUDE + String.join("\n",
                "for i in range(" + ptraceCalls + "):",
                "    e = call(101, 16, 0x7fffffff, 7, 9)", // PTRACE_ATTACH to no such pid
                "print('ptrace=%d' % e)",
                "print('getppid=%d' % call(110))");
    }

    private static void assumeNotification() throws Exception {
        // CI machines (root and unprivileged) have it; ProbeTest asserts that separately.
        assertTrue(Sandbox.probe().seccompUserNotification(), "seccomp user notification");
    }

    @Test
    void withoutAFilterPtraceReachesTheKernel() throws Exception {
        Output out = python(SandboxPolicy.builder().seccomp(SeccompProfile.none()).build(),
                calls(1));
        assertEquals("ptrace=3\ngetppid=0\n", out.stdout(), out.toString()); // ESRCH
        assertEquals(List.of(), out.result().violations());
    }

    @Test
    void buildReportsPtraceWithCountArgumentsAndReason() throws Exception {
        assumeNotification();
        Output out = python(SandboxPolicy.defaults(), calls(3));
        assertEquals("ptrace=1\ngetppid=0\n", out.stdout(), out.toString());
        List<Violation> v = out.result().violations();
        assertEquals(1, v.size(), v.toString());
        Violation p = v.get(0);
        assertEquals("ptrace", p.syscall());
        assertEquals(101, p.number());
        assertEquals(1, p.errno());
        assertTrue(p.denied());
        assertEquals(3, p.count());
        assertEquals(List.of(16L, 0x7fffffffL, 7L, 9L), p.arguments().subList(0, 4));
        assertEquals("inspects and rewrites other processes (debuggers, injectors)",
                p.reason());
        assertEquals("build", p.profile());
        assertTrue(p.pid() > 1, "the command, not pid 1: " + p.pid());
    }

    @Test
    void auditLetsTheCallRunAndRecordsIt() throws Exception {
        assumeNotification();
        Output out = python(SandboxPolicy.builder().seccomp(SeccompProfile.named("audit"))
                .build(), calls(2));
        assertEquals("ptrace=3\ngetppid=0\n", out.stdout(), out.toString()); // the kernel's
        Violation p = out.result().violations().get(0);
        assertEquals(List.of("ptrace", 0, 2L, false, "audit"), List.of(p.syscall(), p.errno(),
                p.count(), p.denied(), p.profile()));
    }

    @Test
    void strictReportsWhatItsDefaultDenies() throws Exception {
        assumeNotification();
        Output out = python(SandboxPolicy.builder().seccomp(SeccompProfile.named("strict"))
                .build(), calls(1) + "\nimport socket\ntry:\n    socket.socket(socket.AF_INET)\n"
                + "except OSError as e:\n    print('inet=%d' % e.errno)\n"
                + "socket.socket(socket.AF_UNIX).close()\nprint('unix=0')");
        assertEquals("ptrace=1\ngetppid=0\ninet=1\nunix=0\n", out.stdout(), out.toString());
        List<String> names = new ArrayList<>();
        for (Violation v : out.result().violations()) {
            names.add(v.syscall() + "/" + v.errno() + "/" + v.count());
            assertNull(v.reason(), "the default caught it: " + v);
            assertEquals("strict", v.profile());
        }
        assertEquals(List.of("ptrace/1/1", "socket/1/1"), names);
    }

    @Test
    void reportErrnoComesFromTheRule() throws Exception {
        assumeNotification();
        SeccompProfile p = SeccompProfile.parse("default allow\n"
                + "ptrace -> report(EACCES)  # custom\n", "custom.policy");
        Output out = python(SandboxPolicy.builder().seccomp(p).build(), calls(1));
        assertEquals("ptrace=13\ngetppid=0\n", out.stdout(), out.toString());
        Violation v = out.result().violations().get(0);
        assertEquals(List.of(13, "custom", "custom"), List.of(v.errno(), v.reason(),
                v.profile()));
    }

    @Test
    void theReasonIsTheRuleTheFirstCallMatched() throws Exception {
        assumeNotification();
        Output out = python(SandboxPolicy.defaults(), String.join("\n",
                "import ctypes",
                "libc = ctypes.CDLL(None, use_errno=True)",
                // clone(CLONE_NEWNET | CLONE_FS, ...): EINVAL from the kernel without a filter
                "r = libc.syscall(56, ctypes.c_long(0x40000000 | 0x200), 0, 0, 0, 0)",
                "print(ctypes.get_errno())"));
        assertEquals("1\n", out.stdout(), out.toString());
        Violation v = out.result().violations().get(0);
        assertEquals("clone", v.syscall());
        assertEquals("clone into a new network namespace", v.reason());
        assertEquals(0x40000200L, v.arguments().get(0));
    }

    @Test
    void theProgramWithoutNotificationDeniesWithTheSameErrnos() throws Exception {
        SeccompProfile build = SeccompProfile.defaults();
        SeccompProfile.Builder plain = SeccompProfile.builder();
        for (SeccompRule r : build.rules()) {
            plain.rule(new SeccompRule(r.syscall(), r.action().withoutReport(), r.conditions()));
        }
        assertArrayEquals(plain.build().compile(), build.program(false));
        assertFalse(java.util.Arrays.equals(build.program(true), build.program(false)));
        // report(allow) rules vanish: audit without notification is the empty allow filter.
        SeccompProfile audit = SeccompProfile.named("audit");
        assertArrayEquals(SeccompProfile.builder().build().compile(), audit.program(false));
    }

    @Test
    void reportsListEachReportedSyscallOnce() throws Exception {
        Map<Integer, Integer> build = SeccompProfile.defaults().reports();
        assertEquals(1, build.get(101)); // ptrace
        assertEquals(1, build.get(56)); // clone: seven rules, one entry
        assertNull(build.get(435), "clone3 is plain errno");
        assertNull(build.get(425), "io_uring_setup is plain errno");
        Map<Integer, Integer> strict = SeccompProfile.named("strict").reports();
        assertEquals(1, strict.get(101));
        assertNull(strict.get(46), "sendmsg hands the listener over: never reported");
        assertNull(strict.get(0), "read is allowed outright: never reaches pid 1");
        assertEquals(1, strict.get(41), "socket: the default catches non-AF_UNIX calls");
        assertTrue(strict.size() < Protocol.MAX_REPORTS);
        Map<Integer, Integer> audit = SeccompProfile.named("audit").reports();
        assertEquals(0, audit.get(101));
        assertNotEquals(0, build.size());
    }

    /**
     * Violations are counted per rule: a TIOCSTI attempt after TIOCLINUX ones is reported under
     * its own rule and reason, with its own count, not under the first ioctl's. Likewise socket
     * families caught by one rule (`> AF_NETLINK`) add up into that rule's entry.
     */
    @Test
    void violationsAreCountedPerRule() throws Exception {
        assumeNotification();
        // ioctl 16; TIOCLINUX 0x541c twice, TIOCSTI 0x5412 three times; socket 41: vsock (40)
        // twice, AF_PACKET (17) once, AF_KEY (15) once.
        String program = SYSCALL_PRELUDE + String.join("\n",
                "codes = [call(16, 0, 0x541c, 0) for i in range(2)]",
                "codes += [call(16, 0, 0x5412, 0) for i in range(3)]",
                "codes += [call(41, f, 1, 0) for f in (40, 40, 17, 15)]",
                "print(codes)");
        Output out = python(SandboxPolicy.defaults(), program);
        assertEquals("[1, 1, 1, 1, 1, 97, 97, 97, 97]\n", out.stdout(), out.toString());
        List<String> summary = new ArrayList<>();
        for (Violation v : out.result().violations()) {
            summary.add(v.syscall() + " x" + v.count() + " " + v.reason());
        }
        assertEquals(List.of(
                "ioctl x2 console control, can push input too",
                "ioctl x3 pushes input into a terminal",
                "socket x3 vsock (shared with the host), packet, alg, tipc, rds, kcm, xdp, can,"
                        + " bluetooth...",
                "socket x1 IPsec key management"), summary);
    }
}
