package dev.stockade.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code try-syscall} probe (native/tools, built by CMake, not shipped in the jar): found
 * through the system property {@value #PROPERTY} that the Surefire configuration sets, copied
 * once per JVM into a world-readable directory and bound read-only into each sandbox at
 * {@link #INSIDE}, because the sandbox's user (65534 for a root caller) may not be able to reach
 * the build tree. It is only ever run inside a sandbox: it makes real attack calls.
 */
final class TrySyscall {
    private TrySyscall() {}

    static final String PROPERTY = "stockade.test.trySyscall";
    /** Where the copy's directory is bound inside every sandbox (below the private /tmp). */
    static final Path INSIDE_DIR = Path.of("/tmp/stockade-test-tools");
    static final Path INSIDE = INSIDE_DIR.resolve("try-syscall");

    /** The tool's one line: {@code NAME ret=R errno=E (ENAME)}. */
    private static final Pattern LINE =
            Pattern.compile("(?m)^(\\S+) ret=(-?\\d+) errno=(\\d+) \\(([^)]*)\\)$");

    private static Path hostCopyDir;

    /** How one call ended: {@code signal} 0 and the line's values, or killed by a signal. */
    record Call(String name, long ret, int errno, int signal, Output output) {
        boolean killed() {
            return signal != 0;
        }

        /** A short form for messages and for comparing outcomes: "errno 22", "SIGSYS". */
        String outcome() {
            if (killed()) {
                return "signal " + signal;
            }
            return ret == -1 ? "errno " + errno : "ret " + ret;
        }
    }

    /** The host directory holding the world-readable copy (created on first use). */
    static synchronized Path hostDir() {
        if (hostCopyDir == null) {
            hostCopyDir = copyToWorldReadableDir(locate());
        }
        return hostCopyDir;
    }

    /**
     * The built tool. Surefire passes its path in {@value #PROPERTY}; a run without Maven (the CI
     * run as an unprivileged user starts the JUnit launcher from a copy of target/) finds it
     * under {@code basedir} or the working directory at the build's own layout.
     */
    static Path locate() {
        List<Path> candidates = new ArrayList<>();
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            candidates.add(Path.of(property));
        }
        for (String base : new String[] {System.getProperty("basedir"),
                System.getProperty("user.dir")}) {
            if (base != null) {
                candidates.add(Path.of(base, "target", "native", "tools", "try-syscall"));
            }
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("the try-syscall probe is not built: looked at "
                + candidates + " (set -D" + PROPERTY + "=PATH, which pom.xml's Surefire"
                + " configuration does)");
    }

    private static Path copyToWorldReadableDir(Path tool) {
        try {
            Path dir = Files.createTempDirectory("stockade-try-syscall");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path copy = dir.resolve("try-syscall");
            Files.copy(tool, copy, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Files.deleteIfExists(copy);
                    Files.deleteIfExists(dir);
                } catch (IOException e) {
                    // A leftover 0755 directory in /tmp holding a test tool: harmless.
                }
            }));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("copying " + tool + " to a world-readable directory",
                    e);
        }
    }

    /** The default policy with {@code profile} and the tool bound in. */
    static SandboxPolicy policy(SeccompProfile profile) {
        return withTool(SandboxPolicy.builder()).seccomp(profile).build();
    }

    /**
     * As {@link #policy}, without the set-id guard: only the profile answers (the guard denies
     * io_uring_setup and openat2 under every profile).
     */
    static SandboxPolicy policyWithoutGuard(SeccompProfile profile) {
        return withTool(SandboxPolicy.builder()).seccomp(profile).allowSetIdFiles(true).build();
    }

    static SandboxPolicy.Builder withTool(SandboxPolicy.Builder b) {
        return b.bindReadOnly(hostDir(), INSIDE_DIR);
    }

    /** Runs {@code try-syscall ARGS...} under {@code policy} (which must bind the tool). */
    static Output runRaw(SandboxPolicy policy, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(INSIDE.toString());
        cmd.addAll(List.of(args));
        return SandboxTesting.run(policy, cmd);
    }

    /** Runs the tool and parses its one line, or records the signal that killed it. */
    static Call call(SandboxPolicy policy, String... args) throws Exception {
        Output out = runRaw(policy, args);
        assertTrue(out.result().setupError().isEmpty(), () -> "the sandbox failed:\n" + out);
        if (out.result().signal() != 0) {
            return new Call(args.length == 0 ? "" : args[args.length - 1], 0, 0,
                    out.result().signal(), out);
        }
        assertEquals(0, out.exitCode(), () -> "try-syscall failed:\n" + out);
        Matcher m = LINE.matcher(out.stdout());
        if (!m.find()) {
            fail("no 'NAME ret=R errno=E (ENAME)' line from try-syscall:\n" + out);
        }
        return new Call(m.group(1), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)), 0,
                out);
    }

    /** Hex arguments for the tool's command line. */
    static String[] hexArgs(long[] args) {
        String[] s = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            s[i] = "0x" + Long.toHexString(args[i]);
        }
        return s;
    }
}
