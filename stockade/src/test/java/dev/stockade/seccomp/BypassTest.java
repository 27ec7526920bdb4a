package dev.stockade.seccomp;

import org.junit.jupiter.api.Tag;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import dev.stockade.seccomp.TrySyscall.Call;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ways around the {@code build} profile's rules, each tried inside a sandbox: the same request
 * through another ABI or another encoding. Each first runs without a filter, to show the probe
 * reaches the kernel and gets a different answer there.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class BypassTest {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    private static final long CLONE_NEWUSER = 0x10000000L;

    private static SandboxPolicy unfiltered() {
        return TrySyscall.policyWithoutGuard(SeccompProfile.none());
    }

    private static SandboxPolicy build() {
        return TrySyscall.policy(SeccompProfile.named("build"));
    }

    /** A denied call made through the i386 entry point (int 0x80): the arch check kills. */
    @Test
    void int80IsKilled() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "--int80", "unshare");
        assertFalse(kernel.killed(), () -> "without a filter:\n" + kernel.output());
        assertEquals("unshare", kernel.name());

        Call filtered = TrySyscall.call(build(), "--int80", "unshare");
        assertEquals(SandboxTesting.SIGSYS, filtered.signal(),
                () -> "expected SIGSYS:\n" + filtered.output());
    }

    /** Even an allowed call is killed through the i386 entry point: the whole ABI is foreign. */
    @Test
    void int80OfAnAllowedCallIsKilledToo() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "--int80", "getpid");
        assertFalse(kernel.killed(), () -> "without a filter:\n" + kernel.output());
        Call filtered = TrySyscall.call(build(), "--int80", "getpid");
        assertEquals(SandboxTesting.SIGSYS, filtered.signal(),
                () -> "expected SIGSYS:\n" + filtered.output());
    }

    /** A denied call with the x32 bit set in its number: killed, not matched as the x86_64 one. */
    @Test
    void x32NumberIsKilled() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "--x32", "unshare");
        assertFalse(kernel.killed(), () -> "without a filter:\n" + kernel.output());
        assertEquals("unshare", kernel.name());

        Call filtered = TrySyscall.call(build(), "--x32", "unshare");
        assertEquals(SandboxTesting.SIGSYS, filtered.signal(),
                () -> "expected SIGSYS:\n" + filtered.output());
    }

    /** clone3's flags live in memory the filter cannot read: clone3 as a whole is ENOSYS. */
    @Test
    void clone3WithNewUserIsEnosys() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "--clone3-newuser");
        assertFalse(kernel.killed(), () -> "without a filter:\n" + kernel.output());
        assertNotEquals(ENOSYS, kernel.errno(), () -> kernel.output().toString());

        Call filtered = TrySyscall.call(build(), "--clone3-newuser");
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(ENOSYS, filtered.errno(), () -> filtered.output().toString());
    }

    /** unshare(CLONE_NEWUSER): works without the filter (an unprivileged user may), EPERM with. */
    @Test
    void unshareNewUserIsEperm() throws Exception {
        String flags = "0x" + Long.toHexString(CLONE_NEWUSER);
        Call kernel = TrySyscall.call(unfiltered(), "unshare", flags);
        assertEquals(0, kernel.ret(), () -> "without a filter:\n" + kernel.output());

        Call filtered = TrySyscall.call(build(), "unshare", flags);
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(EPERM, filtered.errno(), () -> filtered.output().toString());
    }

    /**
     * TIOCSTI with garbage in the upper 32 bits of the request: the kernel reads only the low
     * 32 bits, so the filter must compare only those (CVE-2019-10063).
     */
    @Test
    void tiocstiWithHighBitsIsEperm() throws Exception {
        int enotty = 25;
        Call kernel = TrySyscall.call(unfiltered(), "--tiocsti-high");
        // stdin is a pipe: the kernel took the request as TIOCSTI and found no terminal.
        assertEquals(-1, kernel.ret(), () -> "without a filter:\n" + kernel.output());
        assertEquals(enotty, kernel.errno(), () -> kernel.output().toString());

        Call filtered = TrySyscall.call(build(), "--tiocsti-high");
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(EPERM, filtered.errno(), () -> filtered.output().toString());
    }

    /**
     * A deny rule comparing a 32-bit argument with == must hold when the caller sets the high
     * bits of the register: the kernel truncates the argument (socket(0x100000002, ...) is an
     * AF_INET socket), so the filter compares the low 32 bits only.
     */
    @Test
    void highBitsInA32BitArgumentDoNotSlipPastARule() throws Exception {
        SeccompProfile noInet = SeccompProfile.parse(
                "default allow\nsocket arg0 == AF_INET -> errno(EACCES)\n", "no-inet.policy");
        Call kernel = TrySyscall.call(unfiltered(), "socket", "0x100000002", "1", "0");
        assertTrue(kernel.ret() >= 0, () -> "without a filter the kernel makes an AF_INET"
                + " socket:\n" + kernel.output());
        Call plain = TrySyscall.call(TrySyscall.policy(noInet), "socket", "2", "1", "0");
        assertEquals("errno 13", plain.outcome(), () -> plain.output().toString());
        Call highBits = TrySyscall.call(TrySyscall.policy(noInet), "socket", "0x100000002", "1",
                "0");
        assertEquals("errno 13", highBits.outcome(), () -> highBits.output().toString());
    }
}
