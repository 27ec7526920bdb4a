package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.Mounts;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The which-style lookup of the command, in the view and on the caller's host. */
class CommandLocatorTest {
    @TempDir
    Path dir;
    Path ws;
    Path current;
    SandboxPolicy policy;

    @BeforeEach
    void setUp() throws Exception {
        Path real = dir.toRealPath();
        ws = Files.createDirectory(real.resolve("ws"));
        Path jdk = Files.createDirectories(real.resolve("sdkman/candidates/java/17.0.9-tem/bin"));
        executable(jdk.resolve("sdk-java"));
        current = Files.createSymbolicLink(real.resolve("sdkman/candidates/java/current"),
                Path.of("17.0.9-tem"));
        executable(ws.resolve("build.sh"));
        policy = SandboxPolicy.builder().seccomp(SeccompProfile.none()).workspace(ws).build();
    }

    private static void executable(Path p) throws Exception {
        Files.writeString(p, "#!/bin/sh\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Optional<String> warning(SandboxPolicy p, String program, String callerPath) {
        return CommandLocator.warning(p, program, ws, ws, callerPath);
    }

    @Test
    void programsInTheViewGetNoWarning() {
        // sh: /usr/bin/sh on the PATH inside, a link to dash; /bin/sh through the /bin link.
        assertEquals(Optional.empty(), warning(policy, "sh", "/usr/bin"));
        assertEquals(Optional.empty(), warning(policy, "/bin/sh", "/usr/bin"));
        assertEquals(Optional.empty(), warning(policy, "./build.sh", ""));
        assertEquals(true, CommandLocator.executableInView(policy, Path.of("/bin/sh")));
        assertEquals(false, CommandLocator.executableInView(policy, Path.of("/bin/nonesuch")));
        assertEquals(false, CommandLocator.executableInView(policy, Path.of("/tmp/x")));
    }

    @Test
    void aProgramOnlyOnTheCallersPathNamesTheToolchainFlag() {
        Path bin = current.resolve("bin");
        assertEquals(Optional.of("sdk-java is " + bin.resolve("sdk-java") + ", outside the"
                + " sandbox's view; add it with --toolchain " + current),
                warning(policy, "sdk-java", "/nonexistent:" + bin));
        assertEquals(Optional.of(bin.resolve("sdk-java") + " is outside the sandbox's view;"
                + " add it with --toolchain " + current),
                warning(policy, bin.resolve("sdk-java").toString(), ""));
    }

    @Test
    void aToolchainInTheViewButNotOnItsPath() {
        SandboxPolicy withJdk = policy.toBuilder().mounts(Mounts.toolchain(current)).build();
        Path java = current.resolve("bin/sdk-java");
        assertEquals(Optional.empty(), warning(withJdk, java.toString(), ""));
        assertEquals(Optional.of("sdk-java is " + java + ", in the sandbox's view but not on its"
                + " PATH (/usr/local/bin:/usr/bin:/bin): give the path, or --env PATH=..."),
                warning(withJdk, "sdk-java", current.resolve("bin").toString()));
        SandboxPolicy onPath = withJdk.toBuilder().env("PATH", current.resolve("bin") + ":/bin")
                .build();
        assertEquals(Optional.empty(), warning(onPath, "sdk-java", ""));
    }

    @Test
    void aProgramFoundNowhereIsLeftToTheSandbox() {
        assertEquals(Optional.empty(), warning(policy, "no-such-tool", "/usr/bin:/bin"));
        assertEquals(Optional.empty(), warning(policy, "/opt/none/bin/x", ""));
    }
}
