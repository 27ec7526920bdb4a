package dev.stockade.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * git on the host, for setting up repositories the sandbox then works on, with a fixed
 * identity and dates and without the caller's own git configuration, so that results are
 * reproducible and comparable with a run inside.
 */
public final class HostGit {
    private HostGit() {}

    /** The environment that makes a commit's hash depend on its content only. */
    public static final Map<String, String> FIXED = Map.of(
            "GIT_CONFIG_GLOBAL", "/dev/null", "GIT_CONFIG_NOSYSTEM", "1",
            "GIT_AUTHOR_NAME", "Stockade Test", "GIT_AUTHOR_EMAIL", "test@example.com",
            "GIT_COMMITTER_NAME", "Stockade Test", "GIT_COMMITTER_EMAIL", "test@example.com",
            "GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE",
            "2020-01-01T00:00:00Z");

    /** Runs {@code git ARGS} in {@code dir} and returns its stdout; fails on a non-zero exit. */
    public static String git(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().putAll(FIXED);
        SandboxTesting.HostOutput out = SandboxTesting.runOnHost(pb);
        assertEquals(0, out.exitCode(), () -> "host " + cmd + ": " + out);
        return out.stdout();
    }

    /** A repository at {@code dir} with one commit of one file. */
    public static void initWithCommit(Path dir, String... initOptions) throws Exception {
        List<String> init = new ArrayList<>(List.of("init", "-q", "-b", "main"));
        init.addAll(List.of(initOptions));
        init.add(dir.toString());
        git(dir, init.toArray(String[]::new));
        java.nio.file.Files.writeString(dir.resolve("README"), "hello\n");
        git(dir, "add", "README");
        git(dir, "commit", "-q", "-m", "first");
    }
}
