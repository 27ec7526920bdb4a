package dev.stockade.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The PROTECT mounts for a workspace's protected paths, as the workspace is right before a
 * start (its content is the previous step's doing, so this runs at every start). Walks each
 * path from the workspace with {@code lstat}, never following a link:
 * <ul>
 *   <li>a directory on the way that is missing: the path is not protected (no {@code .git}:
 *       {@code git init} must work);
 *   <li>a symbolic link on the way or at the end: the start fails (a mount over it would go
 *       where the link points, and a link is how a step redirects what the host later runs);
 *   <li>something else than a directory on the way: kept read-only as it is, so it cannot be
 *       replaced by a directory holding the path; when it is a {@code .git} file naming the
 *       repository's directory ({@code gitdir: X}, worktrees and submodules) and X lies in the
 *       workspace, the rest of the path is protected under X the same way;
 *   <li>every existing directory on the way is pinned (a writable mount of itself: a mount
 *       point cannot be renamed or removed, so it cannot be swapped for the step's copy);
 *   <li>the path itself is made read-only; a missing one with a placeholder the helper creates
 *       and removes again (CREATE, and DIRECTORY for a {@code /} entry), so it cannot be made.
 * </ul>
 * The helper opens every path again without following links, so a link planted between this
 * walk and the mount fails closed.
 */
final class ProtectedPaths {
    /** Git reads no more of a {@code .git} file than a path's worth; neither do we. */
    private static final int GITDIR_FILE_MAX = Protocol.MAX_MOUNT_PATH + 16;

    private final Path workspace;
    /** Path to PROTECT flags, in the order found; read-only wins over a pin. */
    private final Map<Path, Integer> found = new LinkedHashMap<>();
    /** The paths already looked for under a gitdir: a {@code .git} file naming itself ends. */
    private final Set<String> gitdirPathsFollowed = new HashSet<>();

    private ProtectedPaths(Path workspace) {
        this.workspace = workspace;
    }

    /**
     * The PROTECT mounts (source and target the same path: the workspace is bound at its own
     * path) for {@code paths} (relative, checked by the policy) under {@code workspace}.
     *
     * @throws SpecException when a path goes through a symbolic link, or is too long
     */
    static List<SandboxSpec.MountSpec> resolve(Path workspace, List<String> paths)
            throws SpecException {
        ProtectedPaths walk = new ProtectedPaths(workspace);
        for (String p : paths) {
            walk.protect(p, p);
        }
        return walk.specs();
    }

    private void protect(String entry, String relative) throws SpecException {
        boolean directory = relative.endsWith("/");
        String[] names = (directory ? relative.substring(0, relative.length() - 1) : relative)
                .split("/");
        List<Path> pins = new ArrayList<>();
        Path current = workspace;
        for (int i = 0; i < names.length; i++) {
            Path next = current.resolve(names[i]);
            boolean last = i == names.length - 1;
            BasicFileAttributes a = lstat(next);
            if (a == null) {
                if (last) {
                    pinAll(pins);
                    add(next, Protocol.MOUNT_READONLY | Protocol.MOUNT_CREATE
                            | (directory ? Protocol.MOUNT_DIRECTORY : 0));
                }
                return;
            }
            if (a.isSymbolicLink()) {
                throw new SpecException("protected path " + entry + ": "
                        + workspace.relativize(next) + " is a symbolic link, which a"
                        + " read-only mount cannot cover; remove it, or leave the path"
                        + " unprotected (unprotect(\"" + entry + "\"), --unprotect " + entry
                        + ")");
            }
            if (last || !a.isDirectory()) {
                pinAll(pins);
                add(next, Protocol.MOUNT_READONLY);
                if (!last && names[i].equals(".git") && a.isRegularFile()) {
                    followGitdir(entry, next, String.join("/",
                            List.of(names).subList(i + 1, names.length))
                            + (directory ? "/" : ""));
                }
                return;
            }
            pins.add(next);
            current = next;
        }
    }

    /** {@code .git} is a file: the same paths under the directory it names, if in the workspace. */
    private void followGitdir(String entry, Path gitFile, String rest) throws SpecException {
        Path gitdir = gitdir(gitFile);
        if (gitdir == null || !gitdir.startsWith(workspace) || gitdir.equals(workspace)) {
            return;
        }
        String relative = workspace.relativize(gitdir) + "/" + rest;
        if (gitdirPathsFollowed.add(relative)) {
            protect(entry, relative);
        }
    }

    /** The directory a {@code gitdir: X} file names (X relative to the file's directory). */
    private static Path gitdir(Path gitFile) {
        String text;
        try (InputStream in = Channels.newInputStream(Files.newByteChannel(gitFile,
                StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            text = new String(in.readNBytes(GITDIR_FILE_MAX), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
        String line = text.lines().findFirst().orElse("");
        if (!line.startsWith("gitdir:") || line.substring(7).isBlank()) {
            return null;
        }
        try {
            return gitFile.getParent().resolve(line.substring(7).trim()).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private void pinAll(List<Path> pins) {
        for (Path p : pins) {
            found.putIfAbsent(p, 0);
        }
    }

    private void add(Path p, int flags) {
        found.merge(p, flags, (old, now) -> (old & Protocol.MOUNT_READONLY) != 0 ? old : now);
    }

    /** What lies under a read-only one is covered by it already. */
    private List<SandboxSpec.MountSpec> specs() throws SpecException {
        List<SandboxSpec.MountSpec> specs = new ArrayList<>();
        for (Map.Entry<Path, Integer> e : found.entrySet()) {
            if (underReadOnly(e.getKey())) {
                continue;
            }
            String path = e.getKey().toString();
            if (!WireStrings.fits(path, Protocol.MAX_MOUNT_PATH)) {
                throw new SpecException(WireStrings.tooLong("protected path " + path, path,
                        Protocol.MAX_MOUNT_PATH));
            }
            specs.add(new SandboxSpec.MountSpec(Protocol.MOUNT_PROTECT, e.getValue(), 0, path,
                    path));
        }
        return specs;
    }

    private boolean underReadOnly(Path p) {
        for (Path up = p.getParent(); up != null && up.startsWith(workspace);
                up = up.getParent()) {
            Integer flags = found.get(up);
            if (flags != null && (flags & Protocol.MOUNT_READONLY) != 0) {
                return true;
            }
        }
        return false;
    }

    private static BasicFileAttributes lstat(Path p) throws SpecException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new SpecException("protected path " + p + " cannot be looked at: "
                    + e.getMessage());
        }
    }
}
