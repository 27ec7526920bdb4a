package dev.stockade;

import dev.stockade.internal.Errno;
import dev.stockade.internal.Protocol;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The working directory of a start ({@link SandboxBuilder#directory}): a relative one is taken
 * in the policy's workspace, and one that cannot be in the sandbox's view is refused before
 * anything is spawned, with what the view holds, instead of failing at the step's
 * {@code chdir}.
 */
final class WorkingDirectory {
    private WorkingDirectory() {}

    /** The directories the helper makes in every view with a mount namespace. */
    private static final List<Path> FIXED = List.of(Path.of("/proc"), Path.of("/dev"));
    /** More links on the way than a view of the policy's own mounts can chain. */
    private static final int MAX_LINKS = 16;
    private static final int ENOENT = Errno.number("ENOENT");

    /**
     * The absolute working directory for {@code dir} ({@code null}: the default) under
     * {@code policy}.
     *
     * @throws IllegalArgumentException when {@code dir} is relative and the policy has no
     *     workspace
     * @throws SandboxSetupException (step {@code chdir}, ENOENT, 125) when the directory is
     *     outside the sandbox's view
     */
    static Path resolve(Path dir, SandboxPolicy policy) throws SandboxSetupException {
        if (dir == null) {
            return policy.workspace().orElse(Path.of(Protocol.DEFAULT_CWD));
        }
        Path cwd = dir;
        if (!dir.isAbsolute()) {
            Path workspace = policy.workspace().orElseThrow(() -> new IllegalArgumentException(
                    "the relative working directory " + dir + " needs a policy with a"
                    + " workspace to be taken in"));
            cwd = workspace.resolve(dir);
        }
        cwd = cwd.normalize();
        if (policy.namespaces().contains(Namespace.MOUNT) && !inView(cwd, policy, 0)) {
            throw new SandboxSetupException(new SetupError(SetupStep.CHDIR, ENOENT,
                    cwd.toString()), SandboxSetupException.EXIT_SETUP,
                    "the working directory " + cwd + " is outside the sandbox's view ("
                    + describeView(policy) + ")");
        }
        return cwd;
    }

    /**
     * Whether {@code cwd} can exist in the view: {@code /}, a directory on the way to a mount
     * (the helper makes those on the root tmpfs), or one in a mount; through the view's links.
     */
    private static boolean inView(Path cwd, SandboxPolicy policy, int links) {
        Path root = Path.of("/");
        if (cwd.equals(root)) {
            return true;
        }
        for (Path target : directories(policy)) {
            if (cwd.startsWith(target) || target.startsWith(cwd)) {
                return true;
            }
        }
        for (Mount m : policy.mounts()) {
            if (m.type() == Mount.Type.SYMLINK && cwd.startsWith(m.target())
                    && links < MAX_LINKS && inView(m.throughLink(cwd), policy, links + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Where the view has a mount other than a link, the helper's own included. */
    private static List<Path> directories(SandboxPolicy policy) {
        List<Path> all = new ArrayList<>();
        for (Mount m : policy.mounts()) {
            if (m.type() != Mount.Type.SYMLINK) {
                all.add(m.target());
            }
        }
        policy.workspace().ifPresent(all::add);
        all.add(policy.home());
        for (Mount m : policy.homeMounts()) {
            all.add(m.target());
        }
        all.addAll(FIXED);
        return all;
    }

    /** What the message names: the workspace, the mount points and the home. */
    private static String describeView(SandboxPolicy policy) {
        List<String> targets = new ArrayList<>();
        for (Mount m : policy.mounts()) {
            targets.add(m.type() == Mount.Type.SYMLINK
                    ? m.target() + " -> " + m.linkTarget() : m.target().toString());
        }
        for (Mount m : policy.homeMounts()) {
            targets.add(m.target().toString());
        }
        for (Path p : FIXED) {
            targets.add(p.toString());
        }
        return "workspace " + policy.workspace().map(Path::toString).orElse("none")
                + ", home " + policy.home() + ", mounts " + String.join(", ", targets);
    }
}
