package dev.stockade;

import dev.stockade.internal.CallerIds;
import dev.stockade.internal.Protocol;
import dev.stockade.internal.WireStrings;
import dev.stockade.internal.egress.EgressRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The checks of {@link SandboxPolicy.Builder#build()}: every rule a policy must follow and every
 * protocol bound ({@link Protocol}) a policy's values must fit, each adding its problem to a
 * list so that build() reports them all at once. The helper checks the same bounds again only as
 * the last guard against a corrupted spec; the bounds that depend on one call (its command line
 * and working directory) are checked by {@code SpecResolver} when the call is known.
 */
final class PolicyChecks {
    private PolicyChecks() {}

    // File types in st_mode (the same on every Linux architecture).
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFIFO = 0010000;

    private static final Pattern ENV_NAME_BAD = Pattern.compile("[=\\x00]");
    private static final Pattern HOSTNAME_LABEL =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Duration MAX_DURATION = Duration.ofMillis(Protocol.MAX_DURATION_MS);

    static void namespaces(List<String> problems, Set<Namespace> namespaces) {
        if (!namespaces.contains(Namespace.USER) && !CallerIds.isRoot()) {
            problems.add("the USER namespace cannot be disabled by an unprivileged caller"
                    + " (uid " + CallerIds.uid() + "): every other namespace needs it");
        }
    }

    static void workspace(List<String> problems, Path workspace) {
        if (workspace == null) {
            return;
        }
        if (!workspace.isAbsolute()) {
            problems.add("workspace " + workspace + " is not an absolute path");
        } else if (workspace.normalize().getNameCount() == 0) {
            problems.add("workspace / would make the whole host writable");
        } else if (!fitsMountPath(workspace)) {
            problems.add(mountPathTooLong("workspace", workspace));
        } else if (!Files.exists(workspace)) {
            problems.add("workspace " + workspace + " does not exist");
        } else if (!Files.isDirectory(workspace)) {
            problems.add("workspace " + workspace + " is not a directory");
        } else {
            noSymlink(problems, "workspace", workspace);
        }
    }

    /** A quota and a commit point belong to a transactional workspace, which needs its overlay. */
    static void workspaceMode(List<String> problems, Path workspace, WorkspaceMode mode,
            long quota, CommitOn commitOn, Set<Namespace> namespaces) {
        boolean transactional = mode == WorkspaceMode.TRANSACTIONAL;
        if (quota != 0 && !transactional) {
            problems.add("workspaceQuota needs workspaceMode(TRANSACTIONAL): a direct workspace"
                    + " is the host directory itself, whose writes cannot be bounded");
        }
        if (commitOn != CommitOn.SUCCESS && !transactional) {
            problems.add("commitOn(" + commitOn + ") needs workspaceMode(TRANSACTIONAL)");
        }
        if (quota != 0 && quota < SandboxPolicy.MIN_WORKSPACE_QUOTA_BYTES) {
            problems.add("workspaceQuota " + quota + " is below the minimum of "
                    + SandboxPolicy.MIN_WORKSPACE_QUOTA_BYTES + " bytes");
        }
        if (transactional && workspace == null) {
            problems.add("workspaceMode(TRANSACTIONAL) needs a workspace");
        }
        if (transactional && !namespaces.contains(Namespace.MOUNT)) {
            problems.add("workspaceMode(TRANSACTIONAL) needs the MOUNT namespace (its overlay)");
        }
        if (transactional && !namespaces.contains(Namespace.PID)) {
            problems.add("workspaceMode(TRANSACTIONAL) needs the PID namespace: without it a"
                    + " process of the step can outlive it and keep changing what is committed");
        }
    }

    /**
     * Host paths given to the sandbox must not go through a symbolic link: a link planted
     * by an earlier sandbox in a directory it could write would otherwise redirect this
     * bind to any host path. (The helper opens sources with RESOLVE_NO_SYMLINKS too, which
     * closes the window between this check and the mount.)
     */
    private static void noSymlink(List<String> problems, String what, Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            problems.add(what + " " + path + " cannot be resolved: " + e.getMessage());
            return;
        }
        if (!real.equals(path.normalize())) {
            problems.add(what + " " + path + " goes through a symbolic link (it is " + real
                    + "): give the real path");
        }
    }

    static void mounts(List<String> problems, List<Mount> mounts, Path workspace,
            Set<Namespace> namespaces) {
        Map<Path, String> targets = new HashMap<>();
        if (workspace != null && workspace.isAbsolute()) {
            targets.put(workspace.normalize(), "the workspace");
        }
        if (!namespaces.contains(Namespace.MOUNT) && (workspace != null || !mounts.isEmpty())) {
            problems.add("mounts and the workspace need the MOUNT namespace, which is"
                    + " disabled (clearMounts() and no workspace, or enable it)");
        }
        if (mounts.size() + (workspace == null ? 0 : 1) > Protocol.MAX_MOUNTS) {
            problems.add("more than " + Protocol.MAX_MOUNTS + " mounts");
        }
        for (Mount m : mounts) {
            Path target = m.target();
            if (!target.isAbsolute()) {
                problems.add("mount target " + target + " is not an absolute path (" + m
                        + ")");
            } else if (target.normalize().getNameCount() == 0) {
                problems.add("mount target / would replace the whole view (" + m + ")");
            } else if (!fitsMountPath(target)) {
                problems.add(mountPathTooLong("mount target", target));
            } else {
                String previous = targets.putIfAbsent(target.normalize(), m.toString());
                if (previous != null) {
                    problems.add("two mounts on " + target.normalize() + ": " + previous
                            + " and " + m);
                }
            }
            switch (m.type()) {
                case BIND -> bind(problems, m);
                case TMPFS -> positiveSize(problems, "tmpfs at " + target, m.sizeBytes());
                case SYMLINK -> symlink(problems, m);
                case OVERLAY -> overlay(problems, m);
            }
        }
    }

    /**
     * Where each mount lands in the view, checked against the host as it is now (start checks
     * it again, since the host may change in between): the helper makes a missing mount point
     * only in the view's own root or in a tmpfs, never inside a host tree the view shows (that
     * would change the host), follows no symbolic link of the view on the way, and mounts a
     * directory only on a directory. Each case is refused here with what to do instead, rather
     * than by the helper at the step's start.
     *
     * @param workspace the workspace (a host tree at its own path), or {@code null}
     * @param home the private home (a tmpfs)
     */
    static void placements(List<String> problems, List<Mount> mounts, Path workspace,
            Path home) {
        for (Mount m : mounts) {
            Path target = m.target();
            if (!target.isAbsolute() || target.normalize().getNameCount() == 0) {
                continue; // mounts() has said so
            }
            placement(problems, m, target.normalize(), mounts, workspace, home);
        }
    }

    private static void placement(List<String> problems, Mount m, Path target,
            List<Mount> mounts, Path workspace, Path home) {
        Path proc = Path.of("/proc");
        if (target.startsWith(proc) && !target.equals(proc)) {
            problems.add("mount target " + target + " is inside /proc, the sandbox's own"
                    + " procfs, where nothing can be mounted (" + m + ")");
            return;
        }
        // The deepest mount strictly above the target: it decides where the target is made.
        Mount enclosing = null;
        for (Mount other : mounts) {
            Path at = other.target().normalize();
            if (!other.target().isAbsolute() || at.equals(target) || !target.startsWith(at)) {
                continue;
            }
            if (other.type() == Mount.Type.SYMLINK) {
                problems.add("mount target " + target + " goes through the view's symbolic link "
                        + at + " -> " + other.linkTarget() + ", which is never followed: give "
                        + other.throughLink(target) + " (" + m + ")");
                return;
            }
            if (enclosing == null
                    || at.getNameCount() > enclosing.target().normalize().getNameCount()) {
                enclosing = other;
            }
        }
        Path enclosingTarget = enclosing == null ? null : enclosing.target().normalize();
        Path enclosingSource = enclosing == null || enclosing.type() == Mount.Type.TMPFS
                ? null : enclosing.source();
        // The workspace and the home are mounts too, at their own paths.
        if (workspace != null && workspace.isAbsolute() && !target.equals(workspace.normalize())
                && target.startsWith(workspace.normalize()) && (enclosingTarget == null
                        || workspace.normalize().getNameCount() > enclosingTarget.getNameCount())) {
            enclosingTarget = workspace.normalize();
            enclosingSource = workspace;
        }
        if (!target.equals(home) && target.startsWith(home) && (enclosingTarget == null
                || home.getNameCount() > enclosingTarget.getNameCount())) {
            return; // in the private home's tmpfs: made there
        }
        if (enclosingSource == null) {
            return; // in the view's root or a tmpfs: made there
        }
        Path base = enclosingSource.normalize();
        Path hostPath = base.resolve(enclosingTarget.relativize(target));
        String shown = enclosingTarget.equals(base)
                ? enclosingTarget.toString() : enclosingTarget + " (host " + base + ")";
        // The source has no link on its path (bind() and workspace() say so): one below it,
        // where the target would be, is as never followed as one in the view.
        Path existing = hostPath;
        while (!existing.equals(base) && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (!existing.equals(base) && !realPath(existing).equals(existing)) {
            problems.add("mount target " + target + " goes through the symbolic link " + existing
                    + " in " + shown + ", which is never followed (" + m + ")");
            return;
        }
        if (!Files.exists(hostPath, LinkOption.NOFOLLOW_LINKS)) {
            problems.add("mount target " + target + " does not exist in " + shown + ", a host"
                    + " directory the view shows, and is not made there (that would change the"
                    + " host): make " + hostPath + " on the host, or mount somewhere else ("
                    + m + ")");
            return;
        }
        if (m.type() == Mount.Type.SYMLINK) {
            problems.add("symbolic link " + target + " would replace " + hostPath + " in " + shown
                    + ": a link is made only in the view's root or a tmpfs (" + m + ")");
            return;
        }
        boolean wantsDirectory = m.type() != Mount.Type.BIND
                || Files.isDirectory(m.source(), LinkOption.NOFOLLOW_LINKS);
        boolean isDirectory = Files.isDirectory(hostPath, LinkOption.NOFOLLOW_LINKS);
        if (wantsDirectory != isDirectory) {
            problems.add("mount target " + target + " is " + (isDirectory ? "a directory" : "not"
                    + " a directory") + " in " + shown + ", but " + m + " needs "
                    + (wantsDirectory ? "a directory" : "a file"));
        }
    }

    /** {@code path}'s real path, or {@code path} itself when it cannot be resolved. */
    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path; // gone meanwhile: the helper's own check at start decides
        }
    }

    private static void positiveSize(List<String> problems, String what, long size) {
        if (size <= 0) {
            problems.add(what + " has size " + size + ": it must be positive");
        }
    }

    private static void symlink(List<String> problems, Mount m) {
        String content = m.linkTarget();
        if (content.isEmpty()) {
            problems.add("symbolic link " + m.target() + " has an empty link target");
        } else if (content.indexOf('\0') >= 0) {
            problems.add("symbolic link " + m.target() + " has a link target containing NUL");
        } else if (!WireStrings.fits(content, Protocol.MAX_MOUNT_PATH)) {
            problems.add(WireStrings.tooLong("symbolic link " + m.target() + "'s target",
                    content, Protocol.MAX_MOUNT_PATH));
        }
    }

    /** The lower layer is opened like a bind source: a real directory, no symbolic link. */
    private static void overlay(List<String> problems, Mount m) {
        Path source = m.source();
        if (hostSourceExists(problems, "overlay source", source)) {
            if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                problems.add("overlay source " + source + " is not a directory");
            } else {
                noSymlink(problems, "overlay source", source);
            }
        }
        positiveSize(problems, "overlay at " + m.target() + " (its upper layer)",
                m.sizeBytes());
    }

    /**
     * The private home and what is put into it: paths of the caller's home checked as bind
     * sources, and no other mount, nor the workspace, on the home or one of them.
     */
    static void home(List<String> problems, Identity identity, long homeSize,
            List<String> readOnly, List<String> overlay, List<Mount> mounts, Path workspace,
            Set<Namespace> namespaces) {
        positiveSize(problems, "the private home " + identity.home(), homeSize);
        if (!namespaces.contains(Namespace.MOUNT) && !(readOnly.isEmpty() && overlay.isEmpty())) {
            problems.add("homeReadOnly and homeOverlay need the MOUNT namespace, which is"
                    + " disabled");
        }
        Map<Path, String> targets = new HashMap<>();
        for (Mount m : mounts) {
            if (m.target().isAbsolute()) {
                targets.putIfAbsent(m.target().normalize(), m.toString());
            }
        }
        if (workspace != null && workspace.isAbsolute()
                && workspace.normalize().equals(identity.home())) {
            problems.add("workspace " + workspace + " is the sandbox's private home"
                    + " (SandboxPolicy.home()): give the project's directory");
        }
        homeTarget(problems, targets, identity.home(), "the private home");
        for (String rel : readOnly) {
            homePath(problems, identity, targets, "homeReadOnly", rel, false);
        }
        for (String rel : overlay) {
            homePath(problems, identity, targets, "homeOverlay", rel, true);
        }
    }

    private static void homePath(List<String> problems, Identity identity,
            Map<Path, String> targets, String what, String rel, boolean directory) {
        String shape = relativeProblem(rel, false);
        if (shape != null) {
            problems.add(what + " '" + rel + "' " + shape);
            return;
        }
        if (identity.hostHome() == null) {
            problems.add(what + " '" + rel + "': the caller's home (user.home '"
                    + System.getProperty("user.home", "") + "') is not an absolute path");
            return;
        }
        Path host = identity.hostPath(rel);
        if (!fitsMountPath(host)) {
            problems.add(mountPathTooLong(what + " source", host));
        } else if (!Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
            problems.add(what + " '" + rel + "': " + host + " does not exist");
        } else if (directory && !Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
            problems.add(what + " '" + rel + "': " + host + " is not a directory");
        } else {
            noSymlink(problems, what + " '" + rel + "':", host);
            if (!directory) {
                specialSource(problems, Mount.bindReadOnly(host, host));
            }
        }
        homeTarget(problems, targets, identity.home().resolve(rel).normalize(),
                what + " '" + rel + "'");
    }

    private static void homeTarget(List<String> problems, Map<Path, String> targets,
            Path target, String what) {
        if (!fitsMountPath(target)) {
            problems.add(mountPathTooLong(what, target));
            return;
        }
        String previous = targets.putIfAbsent(target, what);
        if (previous != null) {
            problems.add("two mounts on " + target + ": " + previous + " and " + what);
        }
    }

    /**
     * Protected paths: relative to the workspace and well-formed; every unprotect names one.
     * Whether they exist, and so whether their length matters, is decided at each start
     * (SpecResolver), when the workspace is as the command will find it.
     */
    static void protectedPaths(List<String> problems, Collection<String> protect,
            List<String> unknownUnprotect) {
        for (String p : protect) {
            String shape = relativeProblem(p, true);
            if (shape != null) {
                problems.add("protected path '" + p + "' " + shape);
            }
        }
        for (String p : unknownUnprotect) {
            problems.add("unprotect '" + p + "': not a protected path (they are: "
                    + String.join(", ", protect) + ")");
        }
    }

    /**
     * Why {@code p} is not a relative, normalized path without {@code ..} (a trailing {@code /}
     * allowed when {@code directorySlash}), or {@code null} when it is one.
     */
    private static String relativeProblem(String p, boolean directorySlash) {
        if (p.indexOf('\0') >= 0) {
            return "contains NUL";
        }
        String bare = directorySlash && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
        if (bare.isEmpty()) {
            return p.isEmpty() ? "is empty" : "is not a relative path";
        }
        if (bare.startsWith("/")) {
            return "is not a relative path";
        }
        for (String name : bare.split("/", -1)) {
            if (name.equals("..")) {
                return "contains '..'";
            }
        }
        String normal = Path.of(bare).normalize().toString();
        if (normal.isEmpty()) {
            return "names no path below the directory";
        }
        for (String name : bare.split("/", -1)) {
            if (name.isEmpty() || name.equals(".")) {
                return "is not normalized (write '" + normal + "')";
            }
        }
        return null;
    }

    /**
     * The checks every host path the helper opens shares: absolute, within the wire's bound,
     * there (as itself, not through a final link). False, with the problem added, otherwise.
     */
    private static boolean hostSourceExists(List<String> problems, String what, Path source) {
        if (!source.isAbsolute()) {
            problems.add(what + " " + source + " is not an absolute path");
        } else if (!fitsMountPath(source)) {
            problems.add(mountPathTooLong(what, source));
        } else if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            problems.add(what + " " + source + " does not exist");
        } else {
            return true;
        }
        return false;
    }

    private static void bind(List<String> problems, Mount m) {
        Path source = m.source();
        if (hostSourceExists(problems, "bind source", source)) {
            noSymlink(problems, "bind source", source);
            specialSource(problems, m);
        }
        if (m.idmapped() && !m.readOnly()) {
            problems.add("bind " + source + " is writable and idmapped: files made"
                    + " through it would be host root's (set-user-ID ones too);"
                    + " only read-only binds may be idmapped");
        } else if (m.idmapped() && !CallerIds.isRoot()) {
            problems.add("bind " + source + " is idmapped, which is for root"
                    + " callers only (an unprivileged caller's files keep their"
                    + " owner and are readable as they are)");
        }
    }

    /** The helper gets the normalized path (SandboxPolicy normalizes every mount). */
    private static boolean fitsMountPath(Path p) {
        return WireStrings.fits(p.normalize().toString(), Protocol.MAX_MOUNT_PATH);
    }

    private static String mountPathTooLong(String what, Path p) {
        return WireStrings.tooLong(what + " " + p, p.normalize().toString(),
                Protocol.MAX_MOUNT_PATH);
    }

    /**
     * A socket or FIFO as a bind source is a way out of the sandbox (a read-only mount does
     * not stop connect() or a FIFO's writes): only when the mount asks for it. The helper
     * checks the opened source again.
     */
    private static void specialSource(List<String> problems, Mount m) {
        try {
            int type = (Integer) Files.getAttribute(m.source(), "unix:mode",
                    LinkOption.NOFOLLOW_LINKS) & S_IFMT;
            if ((type == S_IFSOCK || type == S_IFIFO) && !m.specialSource()) {
                problems.add("bind source " + m.source() + " is a "
                        + (type == S_IFSOCK ? "socket" : "FIFO") + ": it leads out of the"
                        + " sandbox, read-only or not; allow it with"
                        + " Mount.allowingSocket() (--ro-bind-socket)");
            }
        } catch (IOException e) {
            problems.add("bind source " + m.source() + " cannot be read: " + e.getMessage());
        }
    }

    /**
     * The names the caller gave ({@code passEnv} and {@code env}), the values it set, and the
     * environment they make ({@code result}, sent as one NAME=VALUE string each).
     */
    static void environment(List<String> problems, Collection<String> passEnv,
            Map<String, String> env, Map<String, String> result) {
        for (String name : passEnv) {
            envName(problems, name);
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            envName(problems, e.getKey());
            if (e.getValue().indexOf('\0') >= 0) {
                problems.add("environment variable " + e.getKey()
                        + " has a value containing NUL");
            }
        }
        if (result.size() > Protocol.MAX_ENV) {
            problems.add("the environment has " + result.size() + " variables, at most "
                    + Protocol.MAX_ENV);
        }
        for (Map.Entry<String, String> e : result.entrySet()) {
            String assignment = e.getKey() + "=" + e.getValue();
            if (!WireStrings.fits(assignment, Protocol.MAX_STRING)) {
                problems.add(WireStrings.tooLong("environment variable " + e.getKey()
                        + " (as NAME=VALUE)", assignment, Protocol.MAX_STRING));
            }
        }
    }

    private static void envName(List<String> problems, String name) {
        if (name.isEmpty()) {
            problems.add("environment variable name is empty");
        } else if (ENV_NAME_BAD.matcher(name).find()) {
            problems.add("environment variable name '" + name.replace("\0", "\\0")
                    + "' contains '=' or NUL");
        }
    }

    static void durations(List<String> problems, Duration timeout, Duration killGrace) {
        if (timeout != null) {
            positive(problems, "timeout", timeout, " (use null for none)");
        }
        if (killGrace.isNegative()) {
            problems.add("kill grace " + killGrace + " is negative");
        } else if (killGrace.compareTo(MAX_DURATION) > 0) {
            problems.add(tooLong("kill grace", killGrace));
        }
    }

    static void setupTimeout(List<String> problems, Duration setupTimeout) {
        positive(problems, "set-up timeout", setupTimeout, "");
    }

    /** A deadline: above zero and within what the wire carries. */
    private static void positive(List<String> problems, String what, Duration d, String hint) {
        if (d.isNegative() || d.isZero()) {
            problems.add(what + " " + d + " is not positive" + hint);
        } else if (d.compareTo(MAX_DURATION) > 0) {
            problems.add(tooLong(what, d));
        }
    }

    static void maxOutput(List<String> problems, long maxOutputBytes, boolean kill) {
        if (maxOutputBytes < 0 || Long.compareUnsigned(maxOutputBytes,
                Protocol.MAX_OUTPUT_BYTES) > 0) {
            problems.add("max output " + maxOutputBytes + " bytes is out of range (1.."
                    + Protocol.MAX_OUTPUT_BYTES + ")");
        } else if (maxOutputBytes == 0 && kill) {
            problems.add("killAtMaxOutput needs maxOutputBytes");
        }
    }

    private static String tooLong(String what, Duration d) {
        return what + " " + d + " is too long: at most " + Protocol.MAX_DURATION_MS
                + " ms (about 31 years)";
    }

    static void ids(List<String> problems, int uid, int gid) {
        if (uid < 0) {
            problems.add("uid " + Integer.toUnsignedString(uid) + " is out of range (0.."
                    + Integer.MAX_VALUE + ")");
        }
        if (gid < 0) {
            problems.add("gid " + Integer.toUnsignedString(gid) + " is out of range (0.."
                    + Integer.MAX_VALUE + ")");
        }
    }

    /**
     * An allow list: its patterns, the namespaces its proxy needs (its own network, and a view
     * to bind the proxy's socket into), and no mount of the policy's own where that socket goes.
     *
     * @return the parsed rules (meaningful only when no problem was added)
     */
    static EgressRules allowList(List<String> problems, Network allowList,
            Set<Namespace> namespaces, List<Mount> mounts) {
        EgressRules rules = EgressRules.parse(allowList.allowedHosts(), allowList.deniedHosts(),
                problems);
        for (Namespace ns : List.of(Namespace.NETWORK, Namespace.MOUNT)) {
            if (!namespaces.contains(ns)) {
                problems.add("the network allow list needs the " + ns + " namespace, which is"
                        + " disabled");
            }
        }
        Path socket = Path.of(Protocol.EGRESS_SOCKET);
        for (Mount m : mounts) {
            if (m.target().normalize().equals(socket)) {
                problems.add("mount target " + socket + " is where the network allow list's"
                        + " proxy socket goes");
            }
        }
        return rules;
    }

    static void hostname(List<String> problems, String hostname, Set<Namespace> namespaces) {
        if (hostname == null) {
            return;
        }
        if (!namespaces.contains(Namespace.UTS)) {
            problems.add("hostname '" + hostname + "' needs the UTS namespace, which is"
                    + " disabled");
        }
        if (hostname.isEmpty()) {
            problems.add("hostname is empty");
            return;
        }
        if (hostname.length() > Protocol.MAX_HOSTNAME) {
            problems.add("hostname is " + hostname.length() + " characters long, at most "
                    + Protocol.MAX_HOSTNAME);
            return;
        }
        // Letters and digits are ASCII: a valid name has as many bytes as characters.
        for (String label : hostname.split("\\.", -1)) {
            if (!HOSTNAME_LABEL.matcher(label).matches()) {
                problems.add("hostname '" + hostname + "' is not a valid host name (labels"
                        + " of letters, digits and inner '-', separated by '.')");
                return;
            }
        }
    }
}
