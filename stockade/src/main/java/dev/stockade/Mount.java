package dev.stockade;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One mount of the sandbox's filesystem view. The view is built on an empty, read-only tmpfs
 * root: apart from {@code /proc} and {@code /dev}, which the helper makes, everything in it is
 * a mount of the policy ({@link SandboxPolicy#mounts()}: by default the host's system
 * directories read-only and the private tmpfs mounts), the workspace, the private home and the
 * files and protected paths the policy implies. Mounts are applied shallowest target first, so
 * a bind inside a tmpfs stays visible; every mount is {@code nosuid,nodev}; a target is resolved
 * inside the view without following symbolic links, and a missing one is created only where no
 * host tree covers it (in the root or a tmpfs).
 *
 * @param type what kind of mount
 * @param source the host path to bind ({@link Type#BIND}) or the lower layer of an
 *     {@link Type#OVERLAY}; {@code null} for {@link Type#TMPFS} and {@link Type#SYMLINK}
 * @param target where the mount appears inside the sandbox (an absolute path)
 * @param readOnly whether the mount is read-only (a bind made with {@link #bindReadOnly})
 * @param sizeBytes the size limit of a tmpfs, or of an overlay's upper layer; 0 otherwise
 * @param idmapped a root caller's read-only bind that shows host root's files as the sandbox
 *     user's ({@link #idmappingRoot()})
 * @param specialSource whether the source may be a socket or a FIFO ({@link #allowingSocket()})
 * @param linkTarget the content of a {@link Type#SYMLINK}; {@code null} for the other types
 */
public record Mount(Type type, Path source, Path target, boolean readOnly, long sizeBytes,
        boolean idmapped, boolean specialSource, String linkTarget) {

    /** The kinds of mount. */
    public enum Type {
        /** A recursive bind mount of a host path. */
        BIND,
        /** A fresh, empty, size-limited tmpfs. */
        TMPFS,
        /**
         * A symbolic link made in the view (merged-/usr links such as {@code /bin -> usr/bin});
         * its target must lie in the root or in a tmpfs of the view.
         */
        SYMLINK,
        /**
         * overlayfs: the host directory {@code source} as the read-only lower layer, a fresh
         * tmpfs of {@code sizeBytes} as the upper one. The command can write there; nothing it
         * writes reaches the host, and the host tree cannot be changed through it.
         */
        OVERLAY
    }

    /**
     * Checks the shape of the record; whether the paths are usable is checked by the policy.
     *
     * @param type what kind of mount; not {@code null}
     * @param source the host path of a bind or the lower layer of an overlay (required for
     *     both); {@code null} for a tmpfs or a symbolic link
     * @param target where the mount appears inside the sandbox; not {@code null}
     * @param readOnly whether the mount is read-only; must be {@code false} for an overlay and
     *     a symbolic link
     * @param sizeBytes the size limit in bytes of a tmpfs or of an overlay's upper layer; must
     *     be 0 for a bind and a symbolic link
     * @param idmapped whether a bind is idmapped; must be {@code false} for the other types
     * @param specialSource whether a bind's source may be a socket or a FIFO; must be
     *     {@code false} for the other types
     * @param linkTarget the content of a symbolic link (required for it); {@code null} for the
     *     other types
     * @throws NullPointerException when {@code type}, {@code target}, or the source or link
     *     target the type requires, is {@code null}
     * @throws IllegalArgumentException when a component is set that the type does not have
     */
    public Mount {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(target, "target");
        switch (type) {
            case BIND -> {
                Objects.requireNonNull(source, "source");
                if (sizeBytes != 0) {
                    throw new IllegalArgumentException("a bind mount has no size: " + sizeBytes);
                }
                noLinkTarget(type, linkTarget);
            }
            case TMPFS -> {
                noSource(type, source);
                plain(type, idmapped, specialSource);
                noLinkTarget(type, linkTarget);
            }
            case SYMLINK -> {
                noSource(type, source);
                plain(type, idmapped, specialSource);
                Objects.requireNonNull(linkTarget, "linkTarget");
                if (sizeBytes != 0 || readOnly) {
                    throw new IllegalArgumentException("a symbolic link has no size and no"
                            + " read-only flag");
                }
            }
            case OVERLAY -> {
                Objects.requireNonNull(source, "source");
                plain(type, idmapped, specialSource);
                noLinkTarget(type, linkTarget);
                if (readOnly) {
                    throw new IllegalArgumentException("an overlay is writable (its upper"
                            + " layer); bind the source read-only instead");
                }
            }
        }
    }

    private static void noSource(Type type, Path source) {
        if (source != null) {
            throw new IllegalArgumentException("a " + name(type) + " has no source: " + source);
        }
    }

    private static void plain(Type type, boolean idmapped, boolean specialSource) {
        if (idmapped || specialSource) {
            throw new IllegalArgumentException("a " + name(type)
                    + " is neither idmapped nor special");
        }
    }

    private static void noLinkTarget(Type type, String linkTarget) {
        if (linkTarget != null) {
            throw new IllegalArgumentException("a " + name(type) + " has no link target: "
                    + linkTarget);
        }
    }

    private static String name(Type type) {
        return switch (type) {
            case BIND -> "bind";
            case TMPFS -> "tmpfs";
            case SYMLINK -> "symbolic link";
            case OVERLAY -> "overlay";
        };
    }

    /**
     * A bind or tmpfs mount with the two opt-ins given.
     *
     * @param type what kind of mount; not {@link Type#SYMLINK}, which needs a link target
     * @param source the host path of a bind or the lower layer of an overlay; {@code null} for
     *     a tmpfs
     * @param target where the mount appears inside the sandbox
     * @param readOnly whether the mount is read-only ({@code false} for an overlay)
     * @param sizeBytes the size limit in bytes of a tmpfs or of an overlay's upper layer; 0 for
     *     a bind
     * @param idmapped whether a bind is idmapped ({@link #idmappingRoot()})
     * @param specialSource whether a bind's source may be a socket or a FIFO
     *     ({@link #allowingSocket()})
     * @throws NullPointerException when {@code type}, {@code target}, or the source a bind or
     *     an overlay requires, is {@code null}
     * @throws IllegalArgumentException when a component is set that the type does not have
     */
    public Mount(Type type, Path source, Path target, boolean readOnly, long sizeBytes,
            boolean idmapped, boolean specialSource) {
        this(type, source, target, readOnly, sizeBytes, idmapped, specialSource, null);
    }

    /**
     * A bind, tmpfs or overlay mount without the two opt-ins.
     *
     * @param type what kind of mount; not {@link Type#SYMLINK}, which needs a link target
     * @param source the host path of a bind or the lower layer of an overlay; {@code null} for
     *     a tmpfs
     * @param target where the mount appears inside the sandbox
     * @param readOnly whether the mount is read-only ({@code false} for an overlay)
     * @param sizeBytes the size limit in bytes of a tmpfs or of an overlay's upper layer; 0 for
     *     a bind
     * @throws NullPointerException when {@code type}, {@code target}, or the source a bind or
     *     an overlay requires, is {@code null}
     * @throws IllegalArgumentException when a component is set that the type does not have
     */
    public Mount(Type type, Path source, Path target, boolean readOnly, long sizeBytes) {
        this(type, source, target, readOnly, sizeBytes, false, false, null);
    }

    /**
     * This read-only bind, idmapped: host root's files in it appear as the sandbox user's, so a
     * root caller's command can read root-owned files (a 0700 {@code /root/.m2}). For root
     * callers only ({@link SandboxPolicy.Builder#build()} refuses it otherwise, and for a
     * writable bind: files made through it would be host root's, set-user-ID ones included).
     * Not the default because it also hands the command every root-only socket and FIFO in
     * the tree: a read-only mount does not stop {@code connect()} or a FIFO's writes.
     *
     * @return a copy of this mount with {@link #idmapped()} set
     * @throws IllegalArgumentException when this is not a bind
     */
    public Mount idmappingRoot() {
        return new Mount(type, source, target, readOnly, sizeBytes, true, specialSource,
                linkTarget);
    }

    /**
     * This bind, allowed to have a socket or a FIFO as its source (refused otherwise: a bound
     * daemon socket is a way out of the sandbox, read-only or not, so it must be asked for).
     *
     * @return a copy of this mount with {@link #specialSource()} set
     * @throws IllegalArgumentException when this is not a bind
     */
    public Mount allowingSocket() {
        return new Mount(type, source, target, readOnly, sizeBytes, idmapped, true, linkTarget);
    }

    /**
     * Binds host path {@code source} read-write at {@code target}: what the command writes
     * there changes the host.
     *
     * @param source the host file or directory
     * @param target where it appears inside the sandbox
     * @return the bind, neither idmapped nor allowed a socket or FIFO source
     * @throws NullPointerException when {@code source} or {@code target} is {@code null}
     */
    public static Mount bind(Path source, Path target) {
        return new Mount(Type.BIND, source, target, false, 0);
    }

    /**
     * Binds host path {@code source} read-only at {@code target}.
     *
     * @param source the host file or directory
     * @param target where it appears inside the sandbox
     * @return the bind, neither idmapped nor allowed a socket or FIFO source
     * @throws NullPointerException when {@code source} or {@code target} is {@code null}
     */
    public static Mount bindReadOnly(Path source, Path target) {
        return new Mount(Type.BIND, source, target, true, 0);
    }

    /**
     * A fresh, empty, writable tmpfs of at most {@code sizeBytes} bytes at {@code target},
     * gone when the sandbox exits.
     *
     * @param target where it appears inside the sandbox
     * @param sizeBytes its size limit in bytes
     * @return the tmpfs mount
     * @throws NullPointerException when {@code target} is {@code null}
     */
    public static Mount tmpfs(Path target, long sizeBytes) {
        return new Mount(Type.TMPFS, null, target, false, sizeBytes);
    }

    /**
     * A symbolic link at {@code at} whose content is {@code linkTarget}, taken as written (a
     * relative one is relative to the link's directory, as the kernel reads it).
     *
     * @param at where the link is made inside the sandbox; must lie in the view's root or in a
     *     tmpfs of it
     * @param linkTarget what the link points to
     * @return the symbolic-link entry
     * @throws NullPointerException when {@code at} or {@code linkTarget} is {@code null}
     */
    public static Mount symlink(Path at, String linkTarget) {
        return new Mount(Type.SYMLINK, null, at, false, 0, false, false,
                Objects.requireNonNull(linkTarget, "linkTarget"));
    }

    /**
     * For a {@link Type#SYMLINK} whose target is {@code path} or one of its ancestors: the path
     * {@code path} names once the link is followed, relative links resolved from the link's
     * directory.
     */
    Path throughLink(Path path) {
        Path at = target.normalize();
        Path parent = at.getParent() == null ? at.getRoot() : at.getParent();
        return parent.resolve(linkTarget).normalize().resolve(at.relativize(path)).normalize();
    }

    /** This mount with its paths normalized (what a built policy holds and sends). */
    Mount normalized() {
        return new Mount(type, source == null ? null : source.normalize(), target.normalize(),
                readOnly, sizeBytes, idmapped, specialSource, linkTarget);
    }

    @Override
    public String toString() {
        return switch (type) {
            case BIND -> (readOnly ? "bind-ro " : "bind ") + (idmapped ? "idmapped " : "")
                    + (specialSource ? "socket " : "") + source + " -> " + target;
            case TMPFS -> "tmpfs " + target + " (" + sizeBytes + " bytes)";
            case SYMLINK -> "symlink " + target + " -> " + linkTarget;
            case OVERLAY -> "overlay " + source + " -> " + target + " (upper " + sizeBytes
                    + " bytes)";
        };
    }
}
