package dev.stockade.benchmarks;

import dev.stockade.Namespace;
import dev.stockade.Network;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the spawn benchmarks share: the policies measured and the external tools compared. */
final class Spawns {
    /** The program every spawn benchmark runs. */
    static final String TRUE = "/bin/true";

    /** bwrap in its typical configuration, as the issue measures it. */
    static final List<String> BWRAP = List.of("bwrap", "--unshare-all", "--die-with-parent",
            "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", TRUE);

    private Spawns() {}

    /** No namespace at all: the helper, the filter and the exec only. */
    static SandboxPolicy noNamespaces() {
        return SandboxPolicy.builder().disable(Namespace.values()).network(Network.HOST)
                .seccomp(SeccompProfile.none()).clearMounts().build();
    }

    /** Every namespace, but no seccomp filter: the namespaces' own cost. */
    static SandboxPolicy allNamespaces() {
        return SandboxPolicy.builder().enable(Namespace.values())
                .seccomp(SeccompProfile.none()).build();
    }

    static SandboxPolicy hostNetwork() {
        return SandboxPolicy.builder().network(Network.HOST).build();
    }

    /** Runs a host command to its end, output discarded; fails unless it exits 0. */
    static int run(List<String> command, Path directory) throws IOException, InterruptedException {
        return run(command, directory, Map.of());
    }

    /** As {@link #run(List, Path)}, with {@code environment} set on top of this JVM's. */
    static int run(List<String> command, Path directory, Map<String, String> environment)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        pb.environment().putAll(environment);
        return requireSuccess(command, pb.start().waitFor());
    }

    static int requireSuccess(List<String> command, int status) {
        if (status != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": exit status " + status);
        }
        return status;
    }

    /** The first executable {@code name} on PATH, or null. */
    static Path onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
