package dev.stockade;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One mount a policy adds to the sandbox's filesystem view, after the base view (the host root
 * read-only, a fresh {@code /proc}). Mounts are applied shallowest target first, so a bind inside
 * a tmpfs stays visible; every mount is {@code nosuid,nodev}.
 *
 * @param type what kind of mount
 * @param source the host path to bind ({@link Type#BIND}); {@code null} for {@link Type#TMPFS}
 * @param target where the mount appears inside the sandbox (an absolute path)
 * @param readOnly whether the mount is read-only (a bind made with {@link #bindReadOnly})
 * @param sizeBytes the size limit of a tmpfs; 0 for a bind
 * @param idmapped a root caller's read-only bind that shows host root's files as the sandbox
 *     user's ({@link #idmappingRoot()})
 * @param specialSource whether the source may be a socket or a FIFO ({@link #allowingSocket()})
 */
public record Mount(Type type, Path source, Path target, boolean readOnly, long sizeBytes,
        boolean idmapped, boolean specialSource) {

    /** The kinds of mount. */
    public enum Type {
        /** A recursive bind mount of a host path. */
        BIND,
        /** A fresh, empty, size-limited tmpfs. */
        TMPFS
    }

    /** Checks the shape of the record; whether the paths are usable is checked by the policy. */
    public Mount {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(target, "target");
        if (type == Type.BIND) {
            Objects.requireNonNull(source, "source");
            if (sizeBytes != 0) {
                throw new IllegalArgumentException("a bind mount has no size: " + sizeBytes);
            }
        } else if (source != null) {
            throw new IllegalArgumentException("a tmpfs has no source: " + source);
        } else if (idmapped || specialSource) {
            throw new IllegalArgumentException("a tmpfs is neither idmapped nor special");
        }
    }

    /** A mount without the two opt-ins. */
    public Mount(Type type, Path source, Path target, boolean readOnly, long sizeBytes) {
        this(type, source, target, readOnly, sizeBytes, false, false);
    }

    /**
     * This read-only bind, idmapped: host root's files in it appear as the sandbox user's, so a
     * root caller's command can read root-owned files (a 0700 {@code /root/.m2}). For root
     * callers only ({@link SandboxPolicy.Builder#build()} refuses it otherwise, and for a
     * writable bind: files made through it would be host root's, set-user-ID ones included).
     * Not the default because it also hands the command every root-only socket and FIFO in
     * the tree: a read-only mount does not stop {@code connect()} or a FIFO's writes.
     */
    public Mount idmappingRoot() {
        return new Mount(type, source, target, readOnly, sizeBytes, true, specialSource);
    }

    /**
     * This bind, allowed to have a socket or a FIFO as its source (refused otherwise: a bound
     * daemon socket is a way out of the sandbox, read-only or not, so it must be asked for).
     */
    public Mount allowingSocket() {
        return new Mount(type, source, target, readOnly, sizeBytes, idmapped, true);
    }

    /** Binds host path {@code source} read-write at {@code target}. */
    public static Mount bind(Path source, Path target) {
        return new Mount(Type.BIND, source, target, false, 0);
    }

    /** Binds host path {@code source} read-only at {@code target}. */
    public static Mount bindReadOnly(Path source, Path target) {
        return new Mount(Type.BIND, source, target, true, 0);
    }

    /** A fresh tmpfs of at most {@code sizeBytes} bytes at {@code target}. */
    public static Mount tmpfs(Path target, long sizeBytes) {
        return new Mount(Type.TMPFS, null, target, false, sizeBytes);
    }

    @Override
    public String toString() {
        return switch (type) {
            case BIND -> (readOnly ? "bind-ro " : "bind ") + (idmapped ? "idmapped " : "")
                    + (specialSource ? "socket " : "") + source + " -> " + target;
            case TMPFS -> "tmpfs " + target + " (" + sizeBytes + " bytes)";
        };
    }
}
