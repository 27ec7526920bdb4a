package dev.stockade.seccomp;

import org.junit.jupiter.api.Tag;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import dev.stockade.testing.SandboxUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The set-id guard: under every profile, no way of making a file set-user-ID or set-group-ID
 * in the workspace works (such a file would stay set-id on the host), while ordinary modes and
 * the umask are untouched. The attack is first shown to work with the guard switched off.
 */
@Tag(SandboxTesting.ISOLATION)
class SetIdGuardTest {

    private static final int SET_ID_BITS = 06000;
    /** A set-user-ID program on every Debian host, for cp -p / tar to copy with its bits. */
    private static final Path HOST_SETUID = Path.of("/usr/bin/passwd");
    private static final Path OCI_PROFILE = Path.of("/usr/share/containers/seccomp.json");

    @TempDir
    Path workspace;

    @BeforeEach
    void prepare() throws Exception {
        SandboxUser.writableThroughPlainBinds(workspace);
    }

    static Stream<String> profiles() {
        List<String> names = new ArrayList<>(List.of("build", "strict", "audit", "none"));
        if (Files.isRegularFile(OCI_PROFILE)) {
            names.add("oci");
        }
        return names.stream();
    }

    private static SeccompProfile profile(String name) throws IOException {
        return switch (name) {
            case "none" -> SeccompProfile.none();
            case "oci" -> SeccompProfile.fromOci(OCI_PROFILE);
            default -> SeccompProfile.named(name);
        };
    }

    private SandboxPolicy policy(SeccompProfile profile, boolean allowSetId) {
        return TrySyscall.withTool(SandboxPolicy.builder()).workspace(workspace)
                .seccomp(profile).allowSetIdFiles(allowSetId).build();
    }

    private SandboxTesting.Output sh(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(policy, List.of("/bin/sh", "-c", script));
    }

    private static int mode(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    /** Every file in the workspace (seen from the host) that is set-user-ID or set-group-ID. */
    private List<String> setIdFiles() throws IOException {
        try (Stream<Path> files = Files.walk(workspace)) {
            List<String> found = new ArrayList<>();
            for (Path p : files.toList()) {
                if (!Files.isSymbolicLink(p) && (mode(p) & SET_ID_BITS) != 0) {
                    found.add(workspace.relativize(p) + " " + Integer.toOctalString(mode(p)));
                }
            }
            return found;
        }
    }

    @Test
    void withoutTheGuardTheCommandLeavesASetIdProgramOnTheHost() throws Exception {
        SandboxTesting.Output out = sh(policy(SeccompProfile.defaults(), true),
                "cp /bin/true planted && chmod 6755 planted && install -m 4755 /bin/true installed");
        assertEquals(0, out.exitCode(), out.toString());
        assertEquals(06755, mode(workspace.resolve("planted")));
        assertEquals(04755, mode(workspace.resolve("installed")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("profiles")
    void ordinaryModesAndTheUmaskAreUntouched(String name) throws Exception {
        SandboxTesting.Output out = sh(policy(profile(name), false),
                "umask 027 && cp /bin/true a && chmod 755 a && touch b && chmod 0644 b"
                        + " && mkdir d && touch c && ./a"
                        + " && /usr/bin/python3 -c 'import os; os.chmod(\"b\", 0o600)'");
        assertEquals(0, out.exitCode(), out.toString());
        assertEquals(0755, mode(workspace.resolve("a")));
        assertEquals(0600, mode(workspace.resolve("b")));
        assertEquals(0640, mode(workspace.resolve("c")));
        assertEquals(0750, mode(workspace.resolve("d")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("profiles")
    void toolsEndWithoutASetIdFile(String name) throws Exception {
        SandboxPolicy policy = policy(profile(name), false);
        Path archiveSource = Files.createDirectory(workspace.resolve("src"));
        Files.copy(Path.of("/bin/true"), archiveSource.resolve("tool"));
        ProcessBuilder tar = new ProcessBuilder("tar", "-C", archiveSource.toString(),
                "--mode=6755", "-cf", workspace.resolve("setid.tar").toString(), "tool");
        assertEquals(0, tar.inheritIO().start().waitFor());
        Files.delete(archiveSource.resolve("tool"));
        Files.delete(archiveSource);

        SandboxTesting.Output chmod = sh(policy, "cp /bin/true t && chmod u+s t");
        assertEquals(1, chmod.exitCode(), chmod.toString());
        assertTrue(chmod.stderr().contains("Operation not permitted"), chmod.toString());
        SandboxTesting.Output chmodGroup = sh(policy, "chmod 2755 t");
        assertEquals(1, chmodGroup.exitCode(), chmodGroup.toString());

        sh(policy, "cp -p " + HOST_SETUID + " copied");
        sh(policy, "install -m 4755 /bin/true installed");
        sh(policy, "mkdir x && tar -C x -xpf setid.tar");
        SandboxTesting.Output python = sh(policy, "/usr/bin/python3 -c '"
                + "import os\n"
                + "for mode in (0o4755, 0o2755, 0o6755):\n"
                + "    try:\n"
                + "        os.chmod(\"t\", mode)\n"
                + "        print(\"changed\")\n"
                + "    except PermissionError as e:\n"
                + "        print(e.errno)\n"
                + "'");
        assertEquals("1\n1\n1\n", python.stdout(), python.toString());
        assertEquals(List.of(), setIdFiles());
        assertEquals(0755, mode(workspace.resolve("t")));
        assertTrue(Files.isRegularFile(workspace.resolve("x/tool")), "tar extracted the file");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("profiles")
    void everySystemCallThatMakesSetIdFilesIsRefused(String name) throws Exception {
        SandboxPolicy policy = policy(profile(name), false);
        String ws = workspace.toString();
        Files.copy(Path.of("/bin/true"), workspace.resolve("f"));
        // AT_FDCWD is -100; O_WRONLY|O_CREAT 0101; O_TMPFILE|O_WRONLY 020200001; S_IFREG 0100000.
        String[][] calls = {
            {"chmod", "s:" + ws + "/f", "04755"},
            {"chmod", "s:" + ws + "/f", "02755"},
            {"fchmodat", "-100", "s:" + ws + "/f", "06755", "0"},
            {"fchmodat2", "-100", "s:" + ws + "/f", "04755", "0"},
            {"open", "s:" + ws + "/o", "0101", "04755"},
            {"openat", "-100", "s:" + ws + "/oa", "0101", "02755"},
            {"openat", "-100", "s:" + ws, "020200001", "04755"},
            {"creat", "s:" + ws + "/c", "06755"},
            {"mknod", "s:" + ws + "/m", "0104755", "0"},
            {"mknodat", "-100", "s:" + ws + "/ma", "0102755", "0"},
            // High bits in the 32-bit mode register are dropped by the kernel, not by the guard.
            {"chmod", "s:" + ws + "/f", "0x100004755"},
        };
        for (String[] call : calls) {
            TrySyscall.Call c = TrySyscall.call(policy, call);
            // Docker's profile predates fchmodat2 and answers it with ENOSYS itself.
            String refused = name.equals("oci") && call[0].equals("fchmodat2") ? "errno 38"
                    : "errno 1";
            assertEquals(refused, c.outcome(), String.join(" ", call) + ": " + c);
        }
        assertEquals("errno 38", TrySyscall.call(policy, "openat2").outcome());
        assertEquals(List.of(), setIdFiles());
        // The same calls without the bits work: only the bits are refused.
        assertEquals("ret 0", TrySyscall.call(policy, "chmod", "s:" + ws + "/f", "0755")
                .outcome());
    }

    /**
     * A user namespace of the command's own would give it CAP_SETFCAP: on a root caller's
     * idmapped workspace a capability set there is stored with rootid 0 and works on the host.
     * A root caller: without the guard the namespace is made (the workspace is then a plain
     * bind); with it, under every profile, no namespace and no capability. Any other caller:
     * where the profile allows the namespace, the capability's rootid is the caller's own uid,
     * which holds only in namespaces of the caller's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("profiles")
    void noUserNamespaceForFileCapabilities(String name) throws Exception {
        Files.copy(Path.of("/bin/true"), workspace.resolve("capable"));
        String script = "unshare -Ur /usr/sbin/setcap cap_setuid+ep capable; echo rc=$?";
        boolean root = SandboxUser.callerIsRoot();
        if (root && name.equals("none")) {
            SandboxTesting.Output allowed = sh(policy(profile(name), true),
                    "unshare -Ur sh -c 'id -u'");
            assertEquals("0\n", allowed.stdout(), allowed.toString());
        }
        SandboxTesting.Output out = sh(policy(profile(name), false), script);
        Process getcap = new ProcessBuilder("/usr/sbin/getcap", "-n",
                workspace.resolve("capable").toString()).redirectErrorStream(true).start();
        String caps = new String(getcap.getInputStream().readAllBytes());
        assertEquals(0, getcap.waitFor());
        if (root || out.stdout().contains("rc=1")) {
            assertEquals("rc=1\n", out.stdout(), out.toString());
            assertTrue(out.stderr().contains("Operation not permitted"), out.toString());
            assertEquals("", caps);
        } else {
            // Only profiles that allow unshare (none, audit, Docker's) get here.
            assertTrue(Set.of("none", "audit", "oci").contains(name), out.toString());
            assertEquals("rc=0\n", out.stdout(), out.toString());
            assertEquals(workspace.resolve("capable") + " cap_setuid=ep [rootid="
                    + SandboxUser.hostUid() + "]\n", caps);
        }
    }
}
