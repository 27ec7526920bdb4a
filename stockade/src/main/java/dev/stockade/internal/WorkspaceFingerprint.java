package dev.stockade.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The workspace as one walk of its protected paths found it ({@link ProtectedPaths}): the
 * workspace directory and every path the walk looked at and kept — each directory pinned on
 * the way, each path made read-only, each missing one — with the file each was (device and
 * inode), or none for a missing one.
 *
 * <p>For a warm sandbox, whose view is made when it warms up and not when it starts: its start
 * takes a new fingerprint and uses it only when the two are equal, and spawns cold otherwise.
 * What the walk keeps follows from what it finds (a directory on the way is pinned, an existing
 * path is read-only, a {@code .git} file's {@code gitdir:} adds the paths under the directory
 * it names), so equal fingerprints mean the same PROTECT mounts over the same files; a
 * {@code .git} made after the warm-up, a protected directory renamed and made anew, another
 * workspace directory at the same path, all make them differ. What a fingerprint cannot see —
 * the very file back at its path under a new name (a hard link), while the waiting sandbox's
 * mount went with the old name — its pid 1 checks itself before the command's fork
 * ({@code stk_protect_verify}, docs/protocol.md).
 */
public final class WorkspaceFingerprint {
    /** No workspace, or no view of its own: nothing to compare. */
    public static final WorkspaceFingerprint NONE = new WorkspaceFingerprint(Map.of(), Set.of());

    /** The key of a missing path: equal to itself only. */
    private static final Object MISSING = new Object() {
        @Override
        public String toString() {
            return "missing";
        }
    };

    private final Map<Path, Object> files;
    /** The paths sent with CREATE (some of {@code files}'): where a placeholder may be. */
    private final Set<Path> created;

    WorkspaceFingerprint(Map<Path, Object> files, Set<Path> created) {
        this.files = Map.copyOf(files);
        this.created = Set.copyOf(created);
    }

    /**
     * What identifies the file {@code attributes} are of: its {@code fileKey} (device and inode
     * on Linux); {@code null} attributes, a missing path. A file system that gives no key gets
     * a new object, equal to nothing else: such a fingerprint never matches, and a warm start
     * is then always cold.
     */
    static Object key(BasicFileAttributes attributes) {
        if (attributes == null) {
            return MISSING;
        }
        Object key = attributes.fileKey();
        return key != null ? key : new Object();
    }

    /**
     * This fingerprint as it should be while a sandbox set up with the view it was taken for
     * waits, read right after the helper said READY, with every file it names held open
     * ({@code O_PATH}, into {@code held}, until the sandbox is taken or ended): a file held
     * cannot be freed, so no file made later gets its inode number, and a path that shows the
     * same key at the start is the very file the sandbox covers (or pins) — a removed
     * placeholder, whose mount went with it, and a new file at its path never look the same.
     * Each path with CREATE is as it is now: the helper covered what it found there or made a
     * placeholder (a direct workspace: on the host) and covered that; a transactional
     * workspace has its placeholders in the overlay, so a missing path stays missing on the
     * host. Every other path must be the file the walk found, else it is changed for good
     * (only the host can change a path between the helper's mount and this look: a sandbox on
     * the same workspace has it covered too).
     */
    public WorkspaceFingerprint hold(DescriptorSet held) {
        Map<Path, Object> now = new LinkedHashMap<>();
        for (Map.Entry<Path, Object> e : files.entrySet()) {
            Path p = e.getKey();
            Object key = held(p, held);
            now.put(p, created.contains(p) || key.equals(e.getValue()) ? key : new Object());
        }
        return new WorkspaceFingerprint(now, created);
    }

    /**
     * The key of the file at {@code p}, opened (never through a link) into {@code held} and
     * looked at through that descriptor; a new object, equal to nothing, when it cannot be.
     */
    private Object held(Path p, DescriptorSet held) {
        int fd;
        try {
            fd = held.add(NativeBridge.openat2(NativeBridge.AT_FDCWD, SafeFiles.bytes(p),
                    SafeFiles.O_PATH | SafeFiles.O_NOFOLLOW, 0, NativeBridge.RESOLVE_NO_SYMLINKS));
        } catch (NativeBridge.NativeException e) {
            return e.errno() == SafeFiles.ENOENT ? MISSING : new Object();
        }
        try {
            return key(Files.readAttributes(Path.of("/proc/self/fd/" + fd),
                    BasicFileAttributes.class));
        } catch (IOException e) {
            return new Object();
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WorkspaceFingerprint f && files.equals(f.files);
    }

    @Override
    public int hashCode() {
        return files.hashCode();
    }

    @Override
    public String toString() {
        return files.toString();
    }
}
