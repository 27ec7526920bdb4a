package dev.stockade.cli;

import dev.stockade.Violation;
import java.io.PrintWriter;
import java.util.List;

/**
 * The lines {@code stockade run} prints on stderr after the command, one per system call a
 * {@code report} rule caught: {@code stockade: denied ptrace x3 (build profile: reason)}, or
 * for a call let through and recorded ({@code report(allow)}, the audit profile)
 * {@code stockade: audit: would deny ptrace x3 (audit profile: reason)}.
 */
public final class ViolationSummary {
    private ViolationSummary() {}

    static void print(List<Violation> violations, PrintWriter err) {
        for (Violation v : violations) {
            err.println(line(v));
        }
        err.flush();
    }

    /**
     * The line {@code stockade run} prints for a recorded system call.
     *
     * @param v a violation of {@code SandboxResult.violations()}
     * @return {@code stockade: denied NAME xCOUNT (PROFILE profile: REASON)}, or the audit
     *     form for a call let through
     */
    public static String line(Violation v) {
        String what = v.syscall() + " x" + v.count();
        String why = because(v);
        return "stockade: " + (v.denied() ? "denied " : "audit: would deny ") + what
                + (why.isEmpty() ? "" : " (" + why + ")");
    }

    private static String because(Violation v) {
        String profile = v.profile() == null ? "" : v.profile() + " profile";
        String reason = v.reason() == null ? "" : ErrorHandler.oneLine(v.reason());
        if (profile.isEmpty()) {
            return reason;
        }
        return reason.isEmpty() ? profile : profile + ": " + reason;
    }
}
