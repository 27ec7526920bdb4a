package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Set-up timings of real cold spawns (the page's layout itself: ProgressPageTest). */
@Timeout(120)
class SetupTimingsTest {

    private static SetupTimings timingsOf(SandboxPolicy policy) throws Exception {
        SandboxedProcess p = Sandbox.command("/bin/true").policy(policy).measureSetup(true)
                .start();
        SandboxResult r = p.result();
        assertEquals(0, r.exitCode());
        return r.setupTimings().orElseThrow();
    }

    private static List<SetupStep> stepsOf(SetupTimings t) {
        List<SetupStep> steps = new ArrayList<>();
        t.steps().forEach(s -> steps.add(s.step()));
        return steps;
    }

    @Test
    void aDefaultSpawnNamesEveryPartOfItsSetUp() throws Exception {
        SetupTimings t = timingsOf(SandboxPolicy.defaults());
        assertFalse(t.warm());
        assertEquals(List.of(), t.prewarm());
        List<SetupStep> steps = stepsOf(t);
        // The JVM's part first, then the helper's start, then set-up in the helper's order.
        assertEquals(SetupStep.RESOLVE, steps.get(0));
        assertEquals(SetupStep.HELPER, steps.get(1));
        assertEquals(SetupStep.SPEC, steps.get(2));
        List<SetupStep> expected = List.of(SetupStep.RESOLVE, SetupStep.HELPER, SetupStep.SPEC,
                SetupStep.CLONE, SetupStep.UID_MAP, SetupStep.MOUNT_PRIVATE,
                SetupStep.MOUNT_ROOT, SetupStep.PROC, SetupStep.DEV, SetupStep.PIVOT_ROOT,
                SetupStep.NETWORK_NAMESPACE, SetupStep.HOSTNAME, SetupStep.SETRESUID,
                SetupStep.CAPABILITIES, SetupStep.INIT, SetupStep.DUMPABLE, SetupStep.SETSID,
                SetupStep.CHDIR, SetupStep.RLIMIT, SetupStep.CLOSE_FDS, SetupStep.SIGPROCMASK,
                SetupStep.NO_NEW_PRIVS, SetupStep.SECCOMP, SetupStep.EXECVE);
        for (SetupStep s : expected) {
            assertTrue(steps.contains(s), s + " missing from " + steps);
        }
        assertTrue(steps.indexOf(SetupStep.CLONE) < steps.indexOf(SetupStep.PIVOT_ROOT));
        // The network namespace is made beside pid 1 and joined after the view.
        assertTrue(steps.indexOf(SetupStep.PIVOT_ROOT) < steps.indexOf(SetupStep.NETWORK_NAMESPACE),
                steps::toString);
        assertTrue(steps.indexOf(SetupStep.SECCOMP) < steps.indexOf(SetupStep.EXECVE));
        assertEquals(SetupStep.EXECVE, steps.get(steps.size() - 1));
        assertEquals(steps.size(), steps.stream().distinct().count(), "each step once");
        Duration sum = Duration.ZERO;
        for (SetupTimings.Step s : t.steps()) {
            assertFalse(s.time().isNegative(), s.toString());
            sum = sum.plus(s.time());
        }
        assertTrue(sum.compareTo(t.total()) <= 0, sum + " > " + t.total());
        assertTrue(t.timeOf(SetupStep.CLONE).isPresent());
        assertTrue(t.timeOf(SetupStep.OVERLAY).isEmpty());
    }

    @Test
    void theHostNetworkHasNoNetworkNamespaceStep() throws Exception {
        SetupTimings t = timingsOf(SandboxPolicy.builder().network(Network.HOST).build());
        List<SetupStep> steps = stepsOf(t);
        assertFalse(steps.contains(SetupStep.NETWORK_NAMESPACE), steps.toString());
        assertTrue(steps.contains(SetupStep.PIVOT_ROOT), steps.toString());
        assertEquals(SetupStep.EXECVE, steps.get(steps.size() - 1));
    }

    @Test
    void unaskedThereAreNoTimings() throws Exception {
        SandboxedProcess p = Sandbox.command("/bin/true").measureSetup(false).start();
        assertEquals(0, p.result().exitCode());
        assertTrue(p.result().setupTimings().isEmpty());
        SandboxedProcess q = Sandbox.command("/bin/true").start();
        assertTrue(q.result().setupTimings().isEmpty());
    }
}
