package dev.stockade.internal;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
 *   <li>the path itself is made read-only, with CREATE (and DIRECTORY for a {@code /} entry):
 *       a missing one gets a placeholder the helper creates and removes again, so it cannot be
 *       made — on the host for a direct workspace, inside the overlay (never on the host) for a
 *       transactional one; an existing one is covered as it is, and when it is gone by the
 *       time the helper gets to it (another sandbox's placeholder, removed as that sandbox
 *       ends: a pool warming its next sandbox meets this at every start) it gets a
 *       placeholder instead of failing the start. The repository itself ({@code .git}) is
 *       never created.
 * </ul>
 * The helper opens every path again without following links, so a link planted between this
 * walk and the mount fails closed. The walk also gives the {@link WorkspaceFingerprint} of what
 * it found, for a warm sandbox, whose view is made long before its start.
 */
final class ProtectedPaths {
    /** Git reads no more of a {@code .git} file than a path's worth; neither do we. */
    private static final int GITDIR_FILE_MAX = Protocol.MAX_MOUNT_PATH + 16;
    private static final String GITDIR_PREFIX = "gitdir: ";
    private static final String GIT = ".git";

    private final Path workspace;
    /** Path to PROTECT flags, in the order found; read-only wins over a pin. */
    private final Map<Path, Integer> found = new LinkedHashMap<>();
    /** Path to the file it was ({@link WorkspaceFingerprint#key}), for each one found. */
    private final Map<Path, Object> files = new LinkedHashMap<>();
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
        return walk(workspace, paths).mounts();
    }

    /**
     * Walks {@code paths} (relative, checked by the policy) under {@code workspace} once:
     * {@link #mounts()} and {@link #fingerprint()} are what this one walk found.
     *
     * @throws SpecException when a path goes through a symbolic link
     */
    static ProtectedPaths walk(Path workspace, List<String> paths) throws SpecException {
        ProtectedPaths walk = new ProtectedPaths(workspace);
        walk.files.put(workspace, WorkspaceFingerprint.key(lstat(workspace)));
        for (String p : paths) {
            walk.protect(p, p);
        }
        return walk;
    }

    /** The workspace and every path this walk found, as they were. */
    WorkspaceFingerprint fingerprint() {
        Set<Path> created = new HashSet<>();
        for (Map.Entry<Path, Integer> e : found.entrySet()) {
            if ((e.getValue() & Protocol.MOUNT_CREATE) != 0) {
                created.add(e.getKey());
            }
        }
        return new WorkspaceFingerprint(files, created);
    }

    private void protect(String entry, String relative) throws SpecException {
        boolean directory = relative.endsWith("/");
        String[] names = (directory ? relative.substring(0, relative.length() - 1) : relative)
                .split("/");
        Map<Path, BasicFileAttributes> pins = new LinkedHashMap<>();
        Path current = workspace;
        for (int i = 0; i < names.length; i++) {
            Path next = current.resolve(names[i]);
            boolean last = i == names.length - 1;
            BasicFileAttributes a = lstat(next);
            int create = last && !isRepositoryDirectory(next) ? Protocol.MOUNT_CREATE
                    | (directory ? Protocol.MOUNT_DIRECTORY : 0) : 0;
            if (a == null) {
                if (create != 0) {
                    pinAll(pins);
                    add(next, null, Protocol.MOUNT_READONLY | create);
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
                add(next, a, Protocol.MOUNT_READONLY | create);
                if (names[i].equals(GIT) && a.isRegularFile()) {
                    followGitdir(entry, next, last ? "" : String.join("/",
                            List.of(names).subList(i + 1, names.length))
                            + (directory ? "/" : ""));
                }
                return;
            }
            pins.put(next, a);
            current = next;
        }
    }

    /**
     * The workspace's own {@code .git}: protected as a whole when it exists, never created when
     * it does not, so that {@code git init} works in a workspace without a repository (what the
     * step puts into a repository it made itself is the step's).
     */
    private boolean isRepositoryDirectory(Path p) {
        return p.equals(workspace.resolve(GIT));
    }

    /**
     * {@code .git} is a file: the same paths under the directory it names, if in the workspace
     * ({@code rest} is the rest of the entry after {@code .git/}; empty for the repository).
     */
    private void followGitdir(String entry, Path gitFile, String rest) throws SpecException {
        Path gitdir = gitdir(gitFile);
        if (gitdir == null || !gitdir.startsWith(workspace) || gitdir.equals(workspace)) {
            return;
        }
        // An empty rest: the entry is the repository itself, so is the whole directory named.
        String relative = workspace.relativize(gitdir) + "/" + rest;
        if (gitdirPathsFollowed.add(relative)) {
            protect(entry, relative);
        }
    }

    /**
     * The directory a {@code gitdir: X} file names, read as git reads it (the text after
     * {@code "gitdir: "} up to the line end, relative to the file's directory, then its real
     * path), or null when it names none. Opened without following links and without
     * blocking (a FIFO swapped in after the walk's lstat would otherwise hang the start), and
     * read only when the opened file is a regular one. A gitdir whose real path differs from
     * its plain one goes through a link: what git would use and what a mount would cover could
     * differ, so the start fails.
     */
    private Path gitdir(Path gitFile) throws SpecException {
        String text;
        try {
            text = readRegularFile(gitFile);
        } catch (IOException e) {
            return null;
        }
        if (text == null || !text.startsWith(GITDIR_PREFIX)) {
            return null;
        }
        int end = text.indexOf('\n');
        String dir = text.substring(GITDIR_PREFIX.length(), end < 0 ? text.length() : end);
        dir = dir.endsWith("\r") ? dir.substring(0, dir.length() - 1) : dir;
        if (dir.isEmpty()) {
            return null;
        }
        Path named;
        try {
            named = gitFile.getParent().resolve(dir).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
        Path real;
        try {
            real = named.toRealPath();
        } catch (IOException e) {
            return null; // names nothing: git finds no repository there either
        }
        if (!real.equals(named)) {
            throw new SpecException("protected path .git: " + workspace.relativize(gitFile)
                    + " names " + named + ", which goes through a symbolic link (it is "
                    + real + "); remove the link, or leave the repository unprotected"
                    + " (unprotect(\".git/\"), --unprotect .git/)");
        }
        return real;
    }

    /** The first bytes of {@code file} when it is a regular file, else null. */
    private static String readRegularFile(Path file) throws IOException {
        int fd = NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(file),
                SafeFiles.O_RDONLY | SafeFiles.O_NONBLOCK | SafeFiles.O_NOFOLLOW
                        | SafeFiles.O_NOCTTY, 0, NativeBridge.RESOLVE_NO_SYMLINKS);
        try (InputStream in = new FileInputStream(NativeBridge.newFileDescriptor(fd))) {
            if (SafeFiles.Stat.of(fd).kind() != SafeFiles.Kind.REGULAR) {
                return null;
            }
            return new String(in.readNBytes(GITDIR_FILE_MAX), StandardCharsets.UTF_8);
        }
    }

    private void pinAll(Map<Path, BasicFileAttributes> pins) {
        for (Map.Entry<Path, BasicFileAttributes> pin : pins.entrySet()) {
            found.putIfAbsent(pin.getKey(), 0);
            files.putIfAbsent(pin.getKey(), WorkspaceFingerprint.key(pin.getValue()));
        }
    }

    /** {@code attributes}: of the file there, {@code null} for a missing one. */
    private void add(Path p, BasicFileAttributes attributes, int flags) {
        found.merge(p, flags, (old, now) -> (old & Protocol.MOUNT_READONLY) != 0 ? old : now);
        files.putIfAbsent(p, WorkspaceFingerprint.key(attributes));
    }

    /**
     * The PROTECT mounts (source and target the same path: the workspace is bound at its own
     * path); what lies under a read-only one is covered by it already.
     *
     * @throws SpecException when a path is too long for the protocol
     */
    List<SandboxSpec.MountSpec> mounts() throws SpecException {
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
