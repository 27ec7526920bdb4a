package dev.stockade;

import org.junit.jupiter.api.Tag;
import static dev.stockade.testing.SandboxTesting.assertExitedZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.FsProbe;
import dev.stockade.testing.HostGit;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.Output;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The workspace's protected paths: what runs later on the host outside any sandbox (git hooks
 * and configuration, {@code .gitmodules}, {@code .envrc}, editor tasks) cannot be planted or
 * changed by the step, whatever {@code .git} is (a directory, a {@code gitdir:} file, a
 * symbolic link), and paths that do not exist cannot be created; everything else in the
 * workspace, {@code .git}'s objects and refs included, stays writable.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(120)
class ProtectedPathsTest {

    /** Sets {@code key} with git inside and prints git's exit status. */
    private static String gitConfigSet(String key, String value) {
        return "git config " + key + " '" + value + "'; echo " + key + "=$?; ";
    }

    @TempDir
    Path workspace;

    private SandboxPolicy policy() {
        SandboxPolicy.Builder b = SandboxPolicy.builder().workspace(workspace);
        HostGit.FIXED.forEach(b::env);
        return b.build();
    }

    /**
     * What a step that must commit gets: the repository writable but for its hooks and config
     * ({@code unprotect(".git/")}, {@code protect(".git/hooks/", ".git/config")}).
     */
    private SandboxPolicy committing() {
        return policy().toBuilder().unprotect(".git/").protect(".git/hooks/", ".git/config")
                .build();
    }

    private Output sh(SandboxPolicy policy, String script) throws Exception {
        return SandboxTesting.run(policy, "/bin/sh", "-c", script);
    }

    private Set<String> hostNames(Path dir) {
        String[] names = new File(dir.toString()).list();
        return names == null ? Set.of() : new TreeSet<>(Arrays.asList(names));
    }

    @Test
    void theWholeRepositoryIsReadOnlyByDefault() throws Exception {
        HostGit.initWithCommit(workspace);
        Path git = workspace.resolve(".git");
        Map<String, String> before = HostTree.snapshot(git);

        // The allowed case: reading the repository works (status, log, describe-like use).
        // While the step runs, the missing protected files are empty placeholders, which git
        // lists as untracked (empty placeholder directories it does not list): documented in
        // docs/architecture.md, "Protected paths".
        Output read = sh(policy(), "git status --porcelain && git rev-list --count HEAD");
        assertExitedZero(read);
        assertEquals("?? .envrc\n?? .gitmodules\n1\n", read.stdout(), read.toString());

        // Every way git takes commands from a repository: commondir naming another directory,
        // a submodule's config, an index entry (a gitlink) to a nested repository, the
        // config, a hook; and moving the repository aside to replace it.
        FsProbe.Result r = FsProbe.run(policy(),
                "create " + git.resolve("commondir"),
                "mkdir " + git.resolve("modules"),
                "write " + git.resolve("index"),
                "append " + git.resolve("config"),
                "create " + git.resolve("hooks/pre-commit"),
                "rename " + git + " " + workspace.resolve("old.git"),
                "create " + workspace.resolve("allowed"));
        r.expect("create " + workspace.resolve("allowed"), "ok");
        r.expect("create " + git.resolve("commondir"), "EROFS");
        r.expect("mkdir " + git.resolve("modules"), "EROFS");
        r.expect("write " + git.resolve("index"), "EROFS");
        r.expect("append " + git.resolve("config"), "EROFS");
        r.expect("create " + git.resolve("hooks/pre-commit"), "EROFS");
        r.expect("rename " + git + " " + workspace.resolve("old.git"), "EBUSY");
        Output commit = sh(policy(), "echo change >> README && git commit -q -am second");
        assertEquals(128, commit.exitCode(), commit.toString());
        assertEquals(before, HostTree.snapshot(git));
        assertEquals("1\n", HostGit.git(workspace, "rev-list", "--count", "HEAD"));
    }

    @Test
    void aGitDirectorysHooksAndConfigCannotBeChanged() throws Exception {
        HostGit.initWithCommit(workspace);
        Path git = workspace.resolve(".git");
        Map<String, String> hooks = HostTree.snapshot(git.resolve("hooks"));
        String config = HostTree.describe(git.resolve("config"));
        String gitDir = HostTree.describe(git);

        // The allowed case: the step commits (objects, index, refs, logs are written in .git).
        Output commit = sh(committing(), "echo change >> README && git commit -q -am second"
                + " && git rev-list --count HEAD");
        assertExitedZero(commit);
        assertEquals("2\n", commit.stdout(), commit.toString());
        assertEquals("2\n", HostGit.git(workspace, "rev-list", "--count", "HEAD"));

        FsProbe.Result r = FsProbe.run(committing(),
                "create " + git.resolve("hooks/pre-commit"),
                "write " + git.resolve("hooks/pre-push.sample"),
                "unlink " + git.resolve("hooks/pre-push.sample"),
                "mkdir " + git.resolve("hooks/x"),
                "rename " + git.resolve("hooks") + " " + git.resolve("hooks-away"),
                "append " + git.resolve("config"),
                "write " + git.resolve("config"),
                "unlink " + git.resolve("config"),
                "rename " + git.resolve("config") + " " + git.resolve("config-away"),
                "rename " + git + " " + workspace.resolve(".git-away"),
                "rmdir " + git,
                "link " + git.resolve("config") + " " + workspace.resolve("config-link"),
                "link " + git.resolve("hooks/pre-push.sample") + " "
                        + git.resolve("pre-push-link"),
                "umount " + git.resolve("hooks"),
                "umount " + git.resolve("config"),
                "umount " + git,
                "create " + git.resolve("allowed"));
        r.expect("create " + git.resolve("allowed"), "ok");
        r.expect("create " + git.resolve("hooks/pre-commit"), "EROFS");
        r.expect("write " + git.resolve("hooks/pre-push.sample"), "EROFS");
        r.expect("unlink " + git.resolve("hooks/pre-push.sample"), "EROFS");
        r.expect("mkdir " + git.resolve("hooks/x"), "EROFS");
        r.expect("rename " + git.resolve("hooks") + " " + git.resolve("hooks-away"), "EBUSY");
        r.expect("append " + git.resolve("config"), "EROFS");
        r.expect("write " + git.resolve("config"), "EROFS");
        r.expect("unlink " + git.resolve("config"), "EBUSY");
        r.expect("rename " + git.resolve("config") + " " + git.resolve("config-away"), "EBUSY");
        // .git holds protected paths: it is pinned, so it cannot be swapped for the step's own.
        r.expect("rename " + git + " " + workspace.resolve(".git-away"), "EBUSY");
        r.expect("rmdir " + git, "EBUSY");
        // A hard link would be a writable name for the protected inode: not across mounts.
        r.expect("link " + git.resolve("config") + " " + workspace.resolve("config-link"),
                "EXDEV");
        r.expect("link " + git.resolve("hooks/pre-push.sample") + " "
                + git.resolve("pre-push-link"), "EXDEV");
        // And the command cannot take the mounts away.
        for (Path p : List.of(git.resolve("hooks"), git.resolve("config"), git)) {
            r.expect("umount " + p, "EPERM");
        }

        // git itself: config writes go through config.lock and a rename onto .git/config.
        Output gitConfig = sh(committing(), gitConfigSet("core.fsmonitor", "touch /tmp/pwned")
                + gitConfigSet("core.hooksPath", "/tmp/hooks")
                + gitConfigSet("core.sshCommand", "sh -c evil")
                + "mv .git .git-away; echo mv=$?; ls -A .git | grep -c lock");
        assertEquals("core.fsmonitor=4\ncore.hooksPath=4\ncore.sshCommand=4\nmv=1\n0\n",
                gitConfig.stdout(), gitConfig.toString());

        assertEquals(hooks, HostTree.snapshot(git.resolve("hooks")));
        assertEquals(config, HostTree.describe(git.resolve("config")));
        assertEquals(gitDir, HostTree.describe(git));
        assertFalse(Files.exists(workspace.resolve(".git-away")));
    }

    @Test
    void withoutAGitDirectoryGitInitWorksAndIsProtectedAtTheNextSpawn() throws Exception {
        Output init = sh(policy(), "git init -q -b main && echo x > f && git add f"
                + " && git commit -q -m inside && git rev-parse HEAD");
        assertExitedZero(init);
        // Inside and on the host: the same commit (fixed identity and dates).
        assertEquals(HostGit.git(workspace, "rev-parse", "HEAD"), init.stdout());
        assertTrue(Files.isDirectory(workspace.resolve(".git/hooks")));

        Path hook = workspace.resolve(".git/hooks/pre-commit");
        FsProbe.Result r = FsProbe.run(policy(), "create " + hook,
                "append " + workspace.resolve(".git/config"));
        r.expect("create " + hook, "EROFS");
        r.expect("append " + workspace.resolve(".git/config"), "EROFS");
        assertFalse(Files.exists(hook, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void missingProtectedPathsCannotBeCreatedAndLeaveNoPlaceholder() throws Exception {
        Path ws = workspace;
        FsProbe.Result r = FsProbe.run(policy(),
                "create " + ws.resolve("allowed"),
                "write " + ws.resolve(".envrc"),
                "write " + ws.resolve(".gitmodules"),
                "unlink " + ws.resolve(".envrc"),
                "rename " + ws.resolve(".gitmodules") + " " + ws.resolve("gm"),
                "mkdir " + ws.resolve(".vscode/x"),
                "write " + ws.resolve(".vscode/tasks.json"),
                "rmdir " + ws.resolve(".vscode"),
                "symlink /tmp " + ws.resolve(".idea/workspace.xml"),
                "rename " + ws.resolve(".idea") + " " + ws.resolve("idea"),
                "lstat " + ws.resolve(".envrc"),
                "list " + ws.resolve(".idea"));
        r.expect("create " + ws.resolve("allowed"), "ok");
        r.expect("write " + ws.resolve(".envrc"), "EROFS");
        r.expect("write " + ws.resolve(".gitmodules"), "EROFS");
        r.expect("unlink " + ws.resolve(".envrc"), "EBUSY");
        r.expect("rename " + ws.resolve(".gitmodules") + " " + ws.resolve("gm"), "EBUSY");
        r.expect("mkdir " + ws.resolve(".vscode/x"), "EROFS");
        r.expect("write " + ws.resolve(".vscode/tasks.json"), "EROFS");
        r.expect("rmdir " + ws.resolve(".vscode"), "EBUSY");
        r.expect("symlink /tmp " + ws.resolve(".idea/workspace.xml"), "EROFS");
        r.expect("rename " + ws.resolve(".idea") + " " + ws.resolve("idea"), "EBUSY");
        assertTrue(r.get("lstat " + ws.resolve(".envrc")).startsWith("ok 100644 "),
                r.output().toString());
        r.expect("list " + ws.resolve(".idea"), "ok ");
        // The placeholders are gone; only what the step made is left.
        assertEquals(Set.of("allowed"), hostNames(ws));
    }

    /**
     * Two sandboxes on one workspace: the first one's placeholder for {@code .vscode/} is what
     * the second one, started while the first runs, finds and protects; when the first ends,
     * its monitor removes the placeholder, and the second must still be unable to create
     * {@code .vscode/} on the host.
     */
    @Test
    void anotherSandboxsPlaceholderRemovalLeavesThePathProtected() throws Exception {
        Path vscode = workspace.resolve(".vscode");
        SandboxBuilder first = Sandbox.command("/bin/sh", "-c",
                "while [ ! -e stop-first ]; do sleep 0.05; done").policy(policy());
        SandboxBuilder second = Sandbox.command(SandboxTesting.PYTHON, "-c", String.join("\n",
                "import os, time",
                "while not os.path.exists('go'): time.sleep(0.02)",
                "for op, f in (('mkdir', lambda: os.mkdir('.vscode')),",
                "              ('tasks', lambda: open('.vscode/tasks.json', 'w').write('{}'))):",
                "    try:",
                "        f(); print(op, 'ok')",
                "    except OSError as e:",
                "        print(op, os.strerror(e.errno))")).policy(policy());
        try (SandboxedProcess a = first.start()) {
            SandboxTesting.awaitTrue("the first sandbox's placeholder .vscode on the host",
                    () -> Files.isDirectory(vscode, LinkOption.NOFOLLOW_LINKS));
            try (SandboxedProcess b = second.start()) {
                a.getOutputStream().close();
                b.getOutputStream().close();
                var bOut = SandboxTesting.readAsync(b.getInputStream());
                var bErr = SandboxTesting.readAsync(b.getErrorStream());
                Files.writeString(workspace.resolve("stop-first"), "");
                assertEquals(0, a.onResult().get(120, java.util.concurrent.TimeUnit.SECONDS)
                        .exitCode());
                // The first monitor removes its placeholder after the end (it is still empty).
                for (int i = 0; i < 200 && Files.exists(vscode, LinkOption.NOFOLLOW_LINKS); i++) {
                    Thread.sleep(20);
                }
                Files.writeString(workspace.resolve("go"), "");
                SandboxResult rb = b.onResult().get(120, java.util.concurrent.TimeUnit.SECONDS);
                String out = bOut.get() + bErr.get();
                assertEquals(0, rb.exitCode(), out);
                assertEquals("mkdir File exists\ntasks Read-only file system\n", out);
            }
        }
        assertFalse(Files.exists(vscode.resolve("tasks.json"), LinkOption.NOFOLLOW_LINKS),
                "the second sandbox created .vscode/tasks.json on the host");
    }

    /** Placeholders go also when the sandbox is killed or times out, not only on a clean end. */
    @Test
    void placeholdersGoAfterAKillAndATimeout() throws Exception {
        try (SandboxedProcess p = Sandbox.command("sleep", "1000").policy(policy()).start()) {
            assertTrue(Files.isDirectory(workspace.resolve(".idea"), LinkOption.NOFOLLOW_LINKS),
                    "the placeholder is there while the sandbox runs");
            p.destroyForcibly();
            SandboxResult r = p.onResult().get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(9, r.signal(), r.toString());
        }
        SandboxTesting.awaitTrue("the placeholders are removed after a kill",
                () -> hostNames(workspace).isEmpty());
        SandboxPolicy timed = policy().toBuilder().timeout(java.time.Duration.ofMillis(200))
                .build();
        Output out = SandboxTesting.run(timed, "sleep", "1000");
        assertTrue(out.result().timedOut(), out.toString());
        SandboxTesting.awaitTrue("the placeholders are removed after a timeout",
                () -> hostNames(workspace).isEmpty());
    }

    @Test
    void existingProtectedFilesAreReadableNotWritable() throws Exception {
        Files.writeString(workspace.resolve(".envrc"), "export A=1\n");
        Files.createDirectory(workspace.resolve(".vscode"));
        Files.writeString(workspace.resolve(".vscode/settings.json"), "{}\n");
        // Empty ones of the caller's, like placeholders but not the helper's: they stay.
        Files.createFile(workspace.resolve(".gitmodules"));
        Files.createDirectory(workspace.resolve(".idea"));
        Map<String, String> before = HostTree.snapshot(workspace);
        FsProbe.Result r = FsProbe.run(policy(), "read " + workspace.resolve(".envrc"),
                "append " + workspace.resolve(".envrc"),
                "write " + workspace.resolve(".vscode/settings.json"),
                "create " + workspace.resolve(".vscode/tasks.json"));
        r.expect("read " + workspace.resolve(".envrc"), "ok 11 "
                + HostTree.sha256(workspace.resolve(".envrc")));
        r.expect("append " + workspace.resolve(".envrc"), "EROFS");
        r.expect("write " + workspace.resolve(".vscode/settings.json"), "EROFS");
        r.expect("create " + workspace.resolve(".vscode/tasks.json"), "EROFS");
        // Existing files are the caller's and stay after the run.
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @ParameterizedTest(name = "gitdir {0}")
    @ValueSource(strings = {"absolute", "relative"})
    void aGitdirFilesRepositoryIsProtectedToo(String form) throws Exception {
        Path repo = workspace.resolve("repo.git");
        HostGit.initWithCommit(workspace, "--separate-git-dir=" + repo);
        Path dotGit = workspace.resolve(".git");
        assertTrue(Files.isRegularFile(dotGit, LinkOption.NOFOLLOW_LINKS));
        if (form.equals("relative")) {
            // A worktree-like layout with a relative pointer; and no hooks directory, so the
            // protected path is a placeholder the run must remove again.
            Files.writeString(dotGit, "gitdir: repo.git\n");
            for (File f : repo.resolve("hooks").toFile().listFiles()) {
                Files.delete(f.toPath());
            }
            Files.delete(repo.resolve("hooks"));
        }
        Map<String, String> before = HostTree.snapshot(workspace);
        Map<String, String> hooksBefore = form.equals("absolute")
                ? HostTree.snapshot(repo.resolve("hooks")) : Map.of();

        Output commit = sh(committing(), "echo more >> README && git commit -q -am second"
                + " && git rev-list --count HEAD");
        assertExitedZero(commit);
        assertEquals("2\n", commit.stdout(), commit.toString());

        FsProbe.Result r = FsProbe.run(committing(),
                "write " + dotGit,
                "rename " + dotGit + " " + workspace.resolve("g"),
                "unlink " + dotGit,
                "create " + dotGit.resolve("hooks/pre-commit"),
                "create " + repo.resolve("hooks/pre-commit"),
                "append " + repo.resolve("config"),
                "rename " + repo + " " + workspace.resolve("elsewhere.git"),
                "rename " + repo.resolve("hooks") + " " + repo.resolve("h"),
                "create " + repo.resolve("allowed"));
        r.expect("create " + repo.resolve("allowed"), "ok");
        r.expect("write " + dotGit, "EROFS");
        r.expect("rename " + dotGit + " " + workspace.resolve("g"), "EBUSY");
        r.expect("unlink " + dotGit, "EBUSY");
        r.expect("create " + dotGit.resolve("hooks/pre-commit"), "ENOTDIR");
        r.expect("create " + repo.resolve("hooks/pre-commit"), "EROFS");
        r.expect("append " + repo.resolve("config"), "EROFS");
        r.expect("rename " + repo + " " + workspace.resolve("elsewhere.git"), "EBUSY");
        r.expect("rename " + repo.resolve("hooks") + " " + repo.resolve("h"), "EBUSY");
        Files.delete(repo.resolve("allowed"));

        Output gitConfig = sh(committing(), gitConfigSet("core.hooksPath", "/tmp/hooks")
                + gitConfigSet("core.fsmonitor", "touch /tmp/pwned"));
        assertEquals("core.hooksPath=4\ncore.fsmonitor=4\n", gitConfig.stdout(),
                gitConfig.toString());

        Map<String, String> after = HostTree.snapshot(workspace);
        // Only the two commits' objects, refs, logs and index differ.
        for (String path : new HashSet<>(before.keySet())) {
            if (path.equals(".git") || path.equals("repo.git/config")
                    || path.startsWith("repo.git/hooks")) {
                assertEquals(before.get(path), after.get(path), path);
            }
        }
        assertEquals(form.equals("relative"), !Files.exists(repo.resolve("hooks"),
                LinkOption.NOFOLLOW_LINKS), "the placeholder hooks directory is removed");
        if (form.equals("absolute")) {
            assertEquals(hooksBefore, HostTree.snapshot(repo.resolve("hooks")));
        }
    }

    @Test
    void aGitSymlinkIsRefusedBeforeAnythingStarts() throws Exception {
        Path real = workspace.resolve("real.git");
        HostGit.initWithCommit(workspace, "--separate-git-dir=" + real);
        Path dotGit = workspace.resolve(".git");
        Files.delete(dotGit);
        Files.createSymbolicLink(dotGit, Path.of("real.git"));
        Map<String, String> before = HostTree.snapshot(workspace);

        // The allowed case: git follows the link, as it does on the host.
        SandboxPolicy unprotected = policy().toBuilder().unprotect(".git/").build();
        Output log = sh(unprotected, "git rev-list --count HEAD");
        assertEquals("1\n", log.stdout(), log.toString());

        IOException refused = assertThrows(IOException.class, () -> sh(policy(),
                "touch .git/hooks/pre-commit; git config core.hooksPath /tmp"));
        assertFalse(refused instanceof SandboxSetupException, refused.toString());
        assertTrue(refused.getMessage().contains(".git is a symbolic link"), refused.toString());
        assertTrue(refused.getMessage().contains("unprotect"), refused.toString());
        assertEquals(before, HostTree.snapshot(workspace));
    }

    @Test
    void theListIsThePolicys() throws Exception {
        assertEquals(Set.copyOf(SandboxPolicy.DEFAULT_PROTECTED_PATHS),
                Set.copyOf(SandboxPolicy.builder().build().protectedPaths()));
        assertEquals(List.of(".git/", ".gitmodules", ".envrc", ".vscode/", ".idea/"),
                SandboxPolicy.DEFAULT_PROTECTED_PATHS);
        SandboxPolicy changed = policy().toBuilder().protect("build.sh", "ci/")
                .unprotect(".envrc").build();
        Set<String> expected = new HashSet<>(SandboxPolicy.DEFAULT_PROTECTED_PATHS);
        expected.remove(".envrc");
        expected.addAll(List.of("build.sh", "ci/"));
        assertEquals(expected, Set.copyOf(changed.protectedPaths()));

        Files.writeString(workspace.resolve("build.sh"), "make\n");
        FsProbe.Result r = FsProbe.run(changed, "append " + workspace.resolve("build.sh"),
                "mkdir " + workspace.resolve("ci/x"), "write " + workspace.resolve(".envrc"));
        r.expect("append " + workspace.resolve("build.sh"), "EROFS");
        r.expect("mkdir " + workspace.resolve("ci/x"), "EROFS");
        r.expect("write " + workspace.resolve(".envrc"), "ok");
        assertEquals("make\n", Files.readString(workspace.resolve("build.sh")));
        assertEquals("x", Files.readString(workspace.resolve(".envrc")));
        assertEquals(Set.of("build.sh", ".envrc"), hostNames(workspace));

        for (String bad : List.of("/etc/passwd", "../x", "a/../b", "")) {
            assertThrows(PolicyException.class, () -> SandboxPolicy.builder().protect(bad)
                    .build(), bad);
        }
    }
}
