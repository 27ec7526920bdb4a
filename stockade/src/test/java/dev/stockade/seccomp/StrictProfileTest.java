package dev.stockade.seccomp;

import org.junit.jupiter.api.Tag;
import dev.stockade.testing.SandboxTesting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompProfile;
import dev.stockade.Violation;
import dev.stockade.seccomp.TrySyscall.Call;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code strict} profile's edges, probed with {@code try-syscall}: UNIX sockets are allowed,
 * every other family is denied with the default action, and a call outside the allow list gets
 * the default action too. (gcc and javac under strict: {@link RealToolsTest}.)
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class StrictProfileTest {
    private static final String AF_UNIX = "1";
    private static final String AF_INET = "2";
    private static final String AF_NETLINK = "16";
    private static final String SOCK_STREAM = "1";
    private static final String SOCK_DGRAM = "2";

    private static SandboxPolicy strict() {
        return TrySyscall.policy(SeccompProfile.named("strict"));
    }

    private static SandboxPolicy unfiltered() {
        return TrySyscall.policy(SeccompProfile.none());
    }

    /** The errno strict's default action answers (the profile file decides it). */
    private static int defaultErrno() {
        SeccompAction d = SeccompProfile.named("strict").defaultAction();
        assertTrue(d.kind() == SeccompAction.Kind.ERRNO || d.kind() == SeccompAction.Kind.REPORT,
                () -> "strict's default action is " + d + ", not a denial with an errno");
        assertNotEquals(0, d.errno());
        return d.errno();
    }

    /** With a {@code report} default, the denied call is in the report (count 1, its errno). */
    private static void assertReported(String syscall, Call call) throws Exception {
        SeccompAction d = SeccompProfile.named("strict").defaultAction();
        List<Violation> violations = call.output().result().violations();
        if (d.kind() != SeccompAction.Kind.REPORT || !Sandbox.probe().seccompUserNotification()) {
            assertEquals(List.of(), violations);
            return;
        }
        assertEquals(1, violations.size(), () -> "violations " + violations);
        Violation v = violations.get(0);
        assertEquals(syscall, v.syscall());
        assertEquals(d.errno(), v.errno());
        assertEquals(1, v.count());
        assertEquals("strict", v.profile());
    }

    @Test
    void unixSocketsWork() throws Exception {
        Call c = TrySyscall.call(strict(), "socket", AF_UNIX, SOCK_STREAM, "0");
        assertTrue(c.ret() >= 0, () -> "socket(AF_UNIX) under strict:\n" + c.output());
        Call pair = TrySyscall.call(strict(), "socketpair", AF_UNIX, SOCK_STREAM, "0", "0");
        // socketpair with a NULL sv reaches the kernel (EFAULT), not the filter.
        Call pairKernel = TrySyscall.call(unfiltered(), "socketpair", AF_UNIX, SOCK_STREAM, "0",
                "0");
        assertEquals(pairKernel.outcome(), pair.outcome(), () -> pair.output().toString());
        assertEquals(List.of(), c.output().result().violations());
        assertEquals(List.of(), pair.output().result().violations());
    }

    @Test
    void inetSocketsAreDenied() throws Exception {
        // In the sandbox's own network namespace the kernel hands out an AF_INET socket.
        Call kernel = TrySyscall.call(unfiltered(), "socket", AF_INET, SOCK_DGRAM, "0");
        assertTrue(kernel.ret() >= 0, () -> "without a filter:\n" + kernel.output());

        Call filtered = TrySyscall.call(strict(), "socket", AF_INET, SOCK_DGRAM, "0");
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(defaultErrno(), filtered.errno(), () -> filtered.output().toString());
        assertReported("socket", filtered);
    }

    @Test
    void netlinkSocketsAreDenied() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "socket", AF_NETLINK, SOCK_DGRAM, "0");
        assertTrue(kernel.ret() >= 0, () -> "without a filter:\n" + kernel.output());

        Call filtered = TrySyscall.call(strict(), "socket", AF_NETLINK, SOCK_DGRAM, "0");
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(defaultErrno(), filtered.errno(), () -> filtered.output().toString());
    }

    /** unshare(0) does nothing and succeeds in the kernel; strict does not list it. */
    @Test
    void callsOutsideTheAllowListGetTheDefaultAction() throws Exception {
        Call kernel = TrySyscall.call(unfiltered(), "unshare", "0");
        assertEquals(0, kernel.ret(), () -> "without a filter:\n" + kernel.output());

        Call filtered = TrySyscall.call(strict(), "unshare", "0");
        assertFalse(filtered.killed(), () -> filtered.output().toString());
        assertEquals(-1, filtered.ret(), () -> filtered.output().toString());
        assertEquals(defaultErrno(), filtered.errno(), () -> filtered.output().toString());
        assertReported("unshare", filtered);
    }
}
