package dev.stockade.internal;

import java.util.List;

/**
 * The compiled seccomp programs one sandbox installs, ready to be sent: the profile's filter,
 * the syscalls it sends to user notification (empty when it sends none: the kernel lacks user
 * notification, or the profile has no report rules) and the set-id guard's program. Arrays are
 * the compiled programs themselves, never copied: nothing hands them out.
 *
 * @param filter the profile's program, or {@code null} when the policy installs none
 * @param reports one REPORT field per syscall the filter sends to pid 1
 * @param guard the set-id guard's program, or {@code null} when the policy allows set-id files
 */
public record FilterPrograms(byte[] filter, List<SandboxSpec.ReportSpec> reports, byte[] guard) {
    /** No program at all. */
    public static final FilterPrograms NONE = new FilterPrograms(null, List.of(), null);

    /** @throws IllegalArgumentException for reports without a filter (only a filter sends them) */
    public FilterPrograms {
        reports = List.copyOf(reports);
        if (filter == null && !reports.isEmpty()) {
            throw new IllegalArgumentException("reported system calls without a seccomp program");
        }
    }
}
