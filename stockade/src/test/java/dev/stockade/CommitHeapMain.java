package dev.stockade;

import java.nio.file.Path;

/**
 * Run by {@link TransactionalCommitSafetyTest} in a JVM with a small heap: one transactional
 * step in the workspace {@code args[0]} with a quota of {@code args[1]} bytes that writes 14
 * nested directories of 255-byte names (paths of almost PATH_MAX) and {@code args[2]} empty
 * files of 200-byte names at the bottom; prints the commit's result (or the exit status when
 * there is none).
 */
public final class CommitHeapMain {
    private CommitHeapMain() {}

    public static void main(String[] args) throws Exception {
        Path workspace = Path.of(args[0]);
        String script = String.join("\n", "import os",
                "os.mkdir('deep'); os.chdir('deep')",
                "for i in range(14):", "    os.mkdir('D' * 255); os.chdir('D' * 255)",
                "for i in range(" + Integer.parseInt(args[2]) + "):",
                "    open('%0200d' % i, 'w').close()");
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace)
                .workspaceMode(WorkspaceMode.TRANSACTIONAL)
                .workspaceQuota(Long.parseLong(args[1])).build();
        try (SandboxedProcess p = Sandbox.command("/usr/bin/python3", "-c", script)
                .policy(policy).directory(workspace).start()) {
            SandboxResult r = p.result();
            System.out.println(r.commit().map(c -> "files=" + c.filesWritten() + " dirs="
                    + c.directoriesCreated() + " complete=" + c.complete() + " failure="
                    + c.failure().orElse("")).orElse("no commit: " + r));
        }
    }
}
