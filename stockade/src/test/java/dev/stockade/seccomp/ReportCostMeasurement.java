package dev.stockade.seccomp;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.testing.SandboxTesting.Output;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A one-off measurement for the docs, not a test: what one denied call costs under a
 * {@code report} rule (a seccomp user-notification round trip through the sandbox's pid 1)
 * against a plain {@code errno} rule. {@code try-syscall --loop N} makes the call N times inside
 * the sandbox; the cost per call is (wall(N) - wall(1)) / (N - 1), with the wall time the helper
 * measured from the command's start to its end, the median of several runs.
 *
 * <pre>
 * java -cp target/test-classes:target/classes -Dstockade.test.trySyscall=PATH \
 *     dev.stockade.seccomp.ReportCostMeasurement [CALLS] [RUNS]
 * </pre>
 */
public final class ReportCostMeasurement {
    private ReportCostMeasurement() {}

    private static final String SYSCALL = "acct";
    private static final int EPERM = 1;

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        SeccompProfile report = SeccompProfile.builder()
                .rule(new SeccompRule(SYSCALL, SeccompAction.report(EPERM), List.of()))
                .build();
        SeccompProfile errno = SeccompProfile.builder()
                .rule(new SeccompRule(SYSCALL, SeccompAction.errno(EPERM), List.of()))
                .build();
        System.out.printf("user notification available: %s%n",
                Sandbox.probe().seccompUserNotification());
        // Warm-up: the JIT, the natives' first load, the page cache for try-syscall.
        medianMicros(errno, calls, 3);
        medianMicros(report, calls, 3);
        for (String kind : List.of("errno", "report")) {
            SeccompProfile p = kind.equals("errno") ? errno : report;
            double base = medianMicros(p, 1, runs);
            double loaded = medianMicros(p, calls, runs);
            System.out.printf("%-6s: %d calls, median wall %.0f us (one call %.0f us):"
                    + " %.3f us per denied call%n", kind, calls, loaded, base,
                    (loaded - base) / (calls - 1));
        }
    }

    private static double medianMicros(SeccompProfile profile, int calls, int runs)
            throws Exception {
        SandboxPolicy policy = TrySyscall.policy(profile);
        double[] micros = new double[runs];
        for (int i = 0; i < runs; i++) {
            List<String> cmd = new ArrayList<>(List.of(TrySyscall.INSIDE.toString(), "--loop",
                    Integer.toString(calls), SYSCALL));
            Output out = SandboxTesting.run(Sandbox.command(cmd).policy(policy), p -> { });
            SandboxResult r = out.result();
            if (r.exitCode() != 0) {
                throw new IllegalStateException("try-syscall failed: " + out);
            }
            micros[i] = r.wallTime().toNanos() / 1000.0;
        }
        Arrays.sort(micros);
        return micros[runs / 2];
    }
}
