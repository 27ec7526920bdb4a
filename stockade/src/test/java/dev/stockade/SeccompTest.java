package dev.stockade;

import static dev.stockade.testing.SandboxTesting.python;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting.Output;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The default seccomp profile inside a real sandbox. Each probe is chosen so that the kernel's
 * own answer without a filter differs from the filter's: the allowed case (no filter) runs the
 * same probes first.
 */
@Timeout(120)
class SeccompTest {

    /** x86_64 syscall numbers; the probes print "name=errno" (0 for success). */
    private static final String PROBES = String.join("\n",
            "import ctypes, os",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def call(nr, *args):",
            "    ctypes.set_errno(0)",
            "    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])",
            "    return 0 if r != -1 else ctypes.get_errno()",
            "c = ctypes.c_char(b'x')",
            "addr = ctypes.addressof(c)",
            // clone3(NULL, 0): EINVAL from the kernel, ENOSYS from the filter
            "print('clone3=%d' % call(435, 0, 0))",
            // clone(CLONE_NEWUSER|CLONE_FS): EINVAL from the kernel before any child exists
            "print('clone_newuser=%d' % call(56, 0x10000000 | 0x200, 0, 0, 0, 0))",
            // clone(CLONE_NEWPID|CLONE_THREAD): EINVAL likewise
            "print('clone_newpid=%d' % call(56, 0x20000000 | 0x10000, 0, 0, 0, 0))",
            // TIOCSTI on a pipe: ENOTTY from the kernel; also with garbage in the upper bits
            "print('tiocsti=%d' % call(16, 0, 0x5412, addr))",
            "print('tiocsti_high=%d' % call(16, 0, 0x100005412, addr))",
            "print('tioclinux=%d' % call(16, 0, 0x541C, addr))",
            // An ordinary ioctl is never filtered: ENOTTY (TCGETS on a pipe)
            "print('tcgets=%d' % call(16, 0, 0x5401, addr))",
            // perf_event_open(NULL, ...): EFAULT from the kernel
            "print('perf_event_open=%d' % call(298, 0, 0, -1, -1, 0))",
            // io_uring_setup(1, NULL): EFAULT from the kernel
            "print('io_uring_setup=%d' % call(425, 1, 0))",
            // personality: the current persona query is 0xffffffff, PER_LINUX is 0
            "print('personality_query=%d' % call(135, 0xffffffff))",
            "print('personality_linux=%d' % call(135, 0))",
            // unshare(CLONE_NEWUSER) succeeds in a process of its own without the filter
            "pid = os.fork()",
            "if pid == 0:",
            "    os._exit(call(272, 0x10000000))",
            "print('unshare=%d' % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))");

    private static Map<String, Integer> probe(SeccompProfile profile) throws Exception {
        // Without the set-id guard (it denies io_uring_setup): only the profile answers.
        SandboxPolicy policy = SandboxPolicy.builder().seccomp(profile).allowSetIdFiles(true)
                .build();
        Output out = python(policy, PROBES);
        assertEquals(0, out.exitCode(), out.toString());
        Map<String, Integer> result = new LinkedHashMap<>();
        for (String line : out.stdout().lines().toList()) {
            String[] kv = line.split("=");
            result.put(kv[0], Integer.parseInt(kv[1]));
        }
        return result;
    }

    @Test
    void withoutAFilterTheKernelAnswers() throws Exception {
        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("clone3", 22);
        expected.put("clone_newuser", 22);
        expected.put("clone_newpid", 22);
        expected.put("tiocsti", 25);
        expected.put("tiocsti_high", 25);
        expected.put("tioclinux", 25);
        expected.put("tcgets", 25);
        expected.put("perf_event_open", 14);
        expected.put("io_uring_setup", 14);
        expected.put("personality_query", 0);
        expected.put("personality_linux", 0);
        expected.put("unshare", 0);
        assertEquals(expected, probe(SeccompProfile.none()));
    }

    @Test
    void theDefaultProfileDeniesTheAttackSurface() throws Exception {
        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("clone3", 38);
        expected.put("clone_newuser", 1);
        expected.put("clone_newpid", 1);
        expected.put("tiocsti", 1);
        expected.put("tiocsti_high", 1);
        expected.put("tioclinux", 1);
        expected.put("tcgets", 25);
        expected.put("perf_event_open", 1);
        expected.put("io_uring_setup", 1);
        expected.put("personality_query", 1);
        expected.put("personality_linux", 0);
        expected.put("unshare", 1);
        assertEquals(expected, probe(SeccompProfile.defaults()));
    }

    @Test
    void aCustomProfile() throws Exception {
        SeccompProfile profile = SeccompProfile.builder().deny("mkdir", 13).deny("mkdirat", 13)
                .build();
        SandboxPolicy policy = SandboxPolicy.builder().seccomp(profile).build();
        Output out = python(policy, "import os\ntry:\n os.mkdir('/tmp/d')\n print('made')\n"
                + "except OSError as e:\n print(e.errno)\nopen('/tmp/f', 'w').close()\n"
                + "print('file')");
        assertEquals("13\nfile\n", out.stdout());
    }

    @Test
    void compiledOncePerProfile() throws Exception {
        SeccompProfile profile = SeccompProfile.defaults();
        byte[] first = profile.compile();
        assertEquals(0, first.length % 8);
        assertTrue(first.length / 8 > 60, "one check per rule at least: " + first.length / 8);
        assertArrayEquals(first, profile.compile());
        assertSame(profile.program(), profile.program(), "cached, not recompiled");
        first[0] ^= 1;
        assertArrayEquals(profile.program(), profile.compile(), "callers get copies");
    }

    @Test
    void noneHasNoProgram() {
        assertThrows(IllegalStateException.class, () -> SeccompProfile.none().compile());
    }

    @Test
    void defaultRules() {
        SeccompProfile p = SeccompProfile.defaults();
        assertEquals(SeccompAction.ALLOW, p.defaultAction());
        assertEquals(List.of(), p.problems());
        assertTrue(hasRule(p, new SeccompRule("ptrace", SeccompAction.report(1), List.of())));
        assertTrue(hasRule(p, new SeccompRule("clone3", SeccompAction.errno(38), List.of())));
        long cloneRules = p.rules().stream().filter(r -> r.syscall().equals("clone")).count();
        assertEquals(7, cloneRules, "one per CLONE_NEW* flag, CLONE_NEWTIME excluded");
        assertTrue(p.rules().stream().noneMatch(r -> r.syscall().equals("clone")
                && r.conditions().get(0).value() == 0x80), "0x80 is CSIGNAL's, not NEWTIME's");
        assertTrue(hasRule(p, new SeccompRule("ioctl", SeccompAction.report(1),
                List.of(SeccompCondition.maskedEqual(1, 0xffffffffL, 0x5412)))));
        assertTrue(p.rules().stream().allMatch(r -> r.reason() != null),
                "every denial in build.policy carries its reason");
    }

    /** Whether the profile has {@code rule}, whatever its reason. */
    private static boolean hasRule(SeccompProfile p, SeccompRule rule) {
        return p.rules().stream().anyMatch(r -> r.withReason(null).equals(rule));
    }
}
