package dev.stockade;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Ready-made mounts for widening the default view: copy-on-write host trees
 * ({@link #overlay(Path, Path)}) and toolchains installed outside it ({@link #toolchain(Path)}).
 * Add them with {@link SandboxPolicy.Builder#mount(Mount)} or
 * {@link SandboxPolicy.Builder#mounts(java.util.Collection)}.
 */
public final class Mounts {
    /**
     * The size of an overlay's upper layer unless one is given: what the command may write
     * over the host tree (1 GiB, a full local Maven repository's worth of new artifacts).
     */
    public static final long DEFAULT_OVERLAY_SIZE_BYTES = 1024L * 1024 * 1024;

    private Mounts() {}

    /**
     * An overlay of host directory {@code source} at {@code target} with an upper layer of
     * {@link #DEFAULT_OVERLAY_SIZE_BYTES}: the command sees the host tree, may change it, and
     * none of its changes reach the host (an offline build's use of {@code ~/.m2/repository}
     * without being able to poison it).
     *
     * @param source the host directory, the overlay's read-only lower layer
     * @param target where the overlay appears inside the sandbox
     * @return the overlay mount
     * @throws NullPointerException when {@code source} or {@code target} is {@code null}
     */
    public static Mount overlay(Path source, Path target) {
        return overlay(source, target, DEFAULT_OVERLAY_SIZE_BYTES);
    }

    /**
     * As {@link #overlay(Path, Path)}, with an upper layer of {@code upperSizeBytes}.
     *
     * @param source the host directory, the overlay's read-only lower layer
     * @param target where the overlay appears inside the sandbox
     * @param upperSizeBytes the size limit in bytes of the tmpfs that holds what the command
     *     writes over the host tree
     * @return the overlay mount
     * @throws NullPointerException when {@code source} or {@code target} is {@code null}
     */
    public static Mount overlay(Path source, Path target, long upperSizeBytes) {
        return new Mount(Mount.Type.OVERLAY, Objects.requireNonNull(source, "source"),
                target, false, upperSizeBytes);
    }

    /**
     * The read-only binds that put the toolchain holding {@code path} into the view at the
     * same place: its {@linkplain #toolchainRoot(Path) root}, bound at its real path, and, when
     * the root is reached through a symbolic link (sdkman's {@code candidates/java/current ->
     * 17.0.9-tem}), bound also at the root's own path, so that both the link's users and the
     * tools' own absolute paths work. A path that cannot be resolved gives one bind of the
     * root, which {@link SandboxPolicy.Builder#build()} then reports.
     *
     * @param path a file or directory of the toolchain, such as its {@code bin/java}
     * @return one or two read-only binds, the real root's first
     */
    public static List<Mount> toolchain(Path path) {
        Path root = toolchainRoot(path);
        Path real;
        try {
            real = root.toRealPath();
        } catch (IOException e) {
            return List.of(Mount.bindReadOnly(root, root));
        }
        if (real.equals(root)) {
            return List.of(Mount.bindReadOnly(real, real));
        }
        return List.of(Mount.bindReadOnly(real, real), Mount.bindReadOnly(real, root));
    }

    /**
     * The directory a toolchain containing {@code path} lives in, computed on the normalized
     * absolute path: {@code path} itself when it is a directory; else its directory, or that
     * directory's parent when the directory is named {@code bin} (nvm's
     * {@code versions/node/v20.11.0/bin/node} gives {@code versions/node/v20.11.0}, whose
     * {@code lib} the tool needs too).
     *
     * @param path a file or directory of the toolchain; a relative one is taken against the
     *     working directory
     * @return the toolchain's root, absolute and normalized but with symbolic links unresolved
     */
    public static Path toolchainRoot(Path path) {
        Path p = path.toAbsolutePath().normalize();
        if (Files.isDirectory(p) || p.getParent() == null) {
            return p;
        }
        Path dir = p.getParent();
        if (dir.getFileName() != null && dir.getFileName().toString().equals("bin")
                && dir.getParent() != null) {
            return dir.getParent();
        }
        return dir;
    }
}
