package dev.stockade.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxedProcess;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.Violation;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A step that calls a {@code report}-denied system call 100,000 times: every call is answered by
 * the sandbox's pid 1, the step finishes, the count is exact, the report stays one entry, and
 * pid 1's memory does not grow with the number of calls.
 */
@Timeout(300)
class ReportFloodTest {
    private static final int CALLS = 100_000;
    /**
     * Enough calls that the baseline sandbox lives long enough to be sampled: with 1,000 (a few
     * milliseconds of a C loop) the step sometimes ended before the first read of pid 1's
     * status, and the test failed with no sample at all.
     */
    private static final int BASELINE_CALLS = 10_000;
    /**
     * How much more pid 1's peak RSS may be after 100,000 calls than after 10,000: a few pages
     * for a late sample. A leak of even 6 bytes per call (527 KiB over the 90,000 calls between
     * the two) would exceed it.
     */
    private static final long GROWTH_LIMIT_KB = 512;

    /** The first unconditional report rule of {@code build} that denies. */
    private static SeccompRule reportRule(SeccompProfile build) {
        for (SeccompRule r : build.rules()) {
            if (r.action().kind() == SeccompAction.Kind.REPORT && r.action().errno() != 0
                    && r.conditions().isEmpty()) {
                return r;
            }
        }
        fail("the build profile has no unconditional report rule");
        return null;
    }

    record Flood(Output output, long pid1PeakKb) {}

    private static Flood flood(SeccompProfile profile, SeccompRule rule, int calls)
            throws Exception {
        // No arguments: the tool's harmless defaults for this call.
        List<String> cmd = List.of(TrySyscall.INSIDE.toString(), "--loop",
                Integer.toString(calls), rule.syscall());
        SandboxPolicy policy = TrySyscall.policy(profile);
        AtomicLong peak = new AtomicLong(-1);
        Output out = SandboxTesting.run(Sandbox.command(cmd).policy(policy),
                p -> samplePid1(p, peak));
        return new Flood(out, peak.get());
    }

    /**
     * Samples VmHWM (peak resident set) of the sandbox's pid 1 from the host until it is gone;
     * the peak is monotonic, so the last sample is the largest.
     */
    private static void samplePid1(SandboxedProcess p, AtomicLong peak) {
        Path status = Path.of("/proc", Integer.toString(p.sandboxPid()), "status");
        long deadline = System.nanoTime() + SandboxTesting.HANG_LIMIT.toNanos();
        String name = null;
        while (p.isAlive() && System.nanoTime() < deadline) {
            try {
                List<String> lines = Files.readAllLines(status);
                // A pid reused after pid 1 exited would be another program: stop there.
                String now = lines.isEmpty() ? "" : lines.get(0);
                if (name == null) {
                    name = now;
                } else if (!name.equals(now)) {
                    return;
                }
                for (String line : lines) {
                    if (line.startsWith("VmHWM:")) {
                        long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                        peak.accumulateAndGet(kb, Math::max);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return; // pid 1 exited (or is exiting): the last sample stands
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Test
    void hundredThousandReportedCallsAreCountedExactly() throws Exception {
        assertTrue(Sandbox.probe().seccompUserNotification(),
                "this test needs seccomp user notification (Sandbox.probe())");
        SeccompProfile build = SeccompProfile.named("build");
        SeccompRule rule = reportRule(build);
        int errno = rule.action().errno();

        Flood baseline = flood(build, rule, BASELINE_CALLS);
        checkFlood(baseline, rule, errno, BASELINE_CALLS);

        Flood big = flood(build, rule, CALLS);
        checkFlood(big, rule, errno, CALLS);

        System.out.printf("pid 1 peak RSS: %d KiB after %d calls, %d KiB after %d calls%n",
                baseline.pid1PeakKb(), BASELINE_CALLS, big.pid1PeakKb(), CALLS);
        assertTrue(baseline.pid1PeakKb() > 0, "no sample of pid 1's VmHWM");
        assertTrue(big.pid1PeakKb() > 0, "no sample of pid 1's VmHWM");
        assertTrue(big.pid1PeakKb() <= baseline.pid1PeakKb() + GROWTH_LIMIT_KB,
                () -> "pid 1's peak RSS grew from " + baseline.pid1PeakKb() + " KiB after "
                        + BASELINE_CALLS + " calls to " + big.pid1PeakKb() + " KiB after "
                        + CALLS);
    }

    private static void checkFlood(Flood flood, SeccompRule rule, int errno, int calls) {
        Output out = flood.output();
        SandboxTesting.assertExitedZero(out);
        assertTrue(out.stdout().startsWith(rule.syscall() + " ret=-1 errno=" + errno + " "),
                () -> "the last call was not denied with errno " + errno + ":\n" + out);
        List<Violation> violations = out.result().violations();
        // One entry for the syscall, however many calls: the report is aggregated.
        assertEquals(1, violations.size(), () -> "violations " + violations);
        Violation v = violations.get(0);
        assertEquals(rule.syscall(), v.syscall());
        assertEquals(errno, v.errno());
        assertEquals(calls, v.count());
        assertEquals("build", v.profile());
    }
}
