package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertContainsLine;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthesized {@code /etc/passwd} and {@code /etc/group}: the sandbox's user and group,
 * with the private home, resolve for Java, coreutils, git and ssh; no host account is listed.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class IdentityFilesTest {

    @TempDir
    Path workspace;

    private SandboxPolicy policy() {
        return SandboxPolicy.builder().workspace(workspace).build();
    }

    private static Output sh(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(policy, "/bin/sh", "-c", script);
    }

    /** The passwd lines the design gives: the user, and nobody unless the user is 65534. */
    private static String expectedPasswd(SandboxPolicy p) {
        String user = p.userName() + ":x:" + p.uid() + ":" + p.gid() + ":" + p.userName() + ":"
                + p.home() + ":/bin/sh\n";
        return p.uid() == 65534 ? user
                : user + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    }

    private static String expectedGroup(SandboxPolicy p) {
        String group = p.userName() + ":x:" + p.gid() + ":\n";
        return p.gid() == 65534 ? group : group + "nogroup:x:65534:\n";
    }

    @Test
    void theUserAndItsHomeResolve() throws Exception {
        SandboxPolicy policy = policy();
        Output out = sh(policy, "whoami; id -un; id -gn; id -u; id -g; echo \"$HOME\";"
                + " cat /etc/passwd; echo --; cat /etc/group");
        assertExitedZero(out);
        String name = policy.userName();
        assertEquals(name + "\n" + name + "\n" + name + "\n" + policy.uid() + "\n" + policy.gid()
                + "\n" + policy.home() + "\n" + expectedPasswd(policy) + "--\n"
                + expectedGroup(policy), out.stdout(), out.toString());
    }

    @Test
    void javaSeesThePrivateHome() throws Exception {
        SandboxPolicy policy = policy();
        Output out = SandboxTesting.run(policy, "java", "-XshowSettings:properties", "-version");
        assertExitedZero(out);
        assertContainsLine(out.stderr(), "    user.home = " + policy.home());
        assertContainsLine(out.stderr(), "    user.name = " + policy.userName());
    }

    @Test
    void getentListsNoHostAccount() throws Exception {
        SandboxPolicy policy = policy();
        Output out = sh(policy, "getent passwd; echo --; getent group");
        assertExitedZero(out);
        assertEquals(expectedPasswd(policy) + "--\n" + expectedGroup(policy), out.stdout(),
                out.toString());
        // Against the host's own list: only the sandbox's names (which may be the caller's own,
        // for an unprivileged caller) and nobody/nogroup are shared.
        Set<String> host = Files.readAllLines(Path.of("/etc/passwd")).stream()
                .map(l -> l.split(":")[0]).collect(Collectors.toSet());
        Set<String> inside = new HashSet<>(out.stdout().lines().filter(l -> l.contains(":"))
                .map(l -> l.split(":")[0]).toList());
        inside.retainAll(host);
        inside.removeAll(Set.of(policy.userName(), "nobody", "nogroup"));
        assertEquals(Set.of(), inside, "host accounts listed inside");
    }

    @Test
    void gitResolvesTheAuthorFromPasswd() throws Exception {
        SandboxPolicy policy = policy();
        // The host's own git configuration (user.name of the caller) is not in the view: the
        // name comes from the passwd entry; the address is configured in the private home.
        Output out = sh(policy, "git config --global user.email builder@example.com"
                + " && git init -q -b main /tmp/r && cd /tmp/r"
                + " && git commit -q --allow-empty -m first"
                + " && git log --format='%an|%ae|%cn|%ce'"
                + " && git var GIT_AUTHOR_IDENT | cut -d'>' -f1"
                + " && cat \"$HOME/.gitconfig\"");
        assertExitedZero(out);
        String name = policy.userName();
        assertEquals(name + "|builder@example.com|" + name + "|builder@example.com\n"
                + name + " <builder@example.com\n"
                + "[user]\n\temail = builder@example.com\n", out.stdout(), out.toString());
    }

    @Test
    void sshResolvesTheUser() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "ssh is installed");
        SandboxPolicy policy = policy();
        Output out = sh(policy, "ssh -G build.example.invalid | grep -E '^(user|hostname) '");
        assertExitedZero(out);
        assertEquals("user " + policy.userName() + "\nhostname build.example.invalid\n",
                out.stdout().lines().sorted((a, b) -> -a.compareTo(b))
                        .collect(Collectors.joining("\n", "", "\n")), out.toString());
    }

    @Test
    void rootInsideIsRootInPasswd() throws Exception {
        SandboxPolicy policy = policy().toBuilder().uid(0).gid(0).build();
        Output out = sh(policy, "whoami; id -gn; getent passwd 0 | cut -d: -f1,6");
        assertExitedZero(out);
        assertEquals(List.of("root", "root", "root:/root"), out.stdout().lines().toList(),
                out.toString());
    }
}
