package dev.stockade.internal;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Puts libstockade.so and stockade-helper where they can be loaded and executed: either the
 * installed copies named by the system properties {@code stockade.library} and
 * {@code stockade.helper}, or copies extracted from the jar into
 * {@code $XDG_CACHE_HOME/stockade/<version>-<hash>/} (default {@code ~/.cache/stockade}).
 *
 * <p>Extraction is safe against other JVMs and class loaders doing the same at once: each file
 * is written under a temporary name in the same directory and renamed into place, so a file
 * under its final name is always complete; an existing file is reused only when its SHA-256
 * matches the jar's. The directories must belong to this user and be writable by nobody else:
 * anyone who can replace the library or the helper runs code as the user of every sandbox.
 *
 * <p>What is checked, and why it holds (see {@link SecurePath}): the cache's own levels
 * ({@code stockade/} and {@code <version>-<hash>/}) are looked at without following links and
 * must be this user's, not writable by group or others; every directory above them, on the
 * real path of XDG_CACHE_HOME (or ~/.cache), from / down, must belong to this user or root and
 * be writable by no one else unless sticky; a cached file is reused only when it is a regular
 * file (not a link) of this user with mode 0700 whose content, read through an O_NOFOLLOW
 * open, has the jar's SHA-256. The library is then loaded by that path, which no other user
 * can change. The helper is opened once ({@link Installation#openHelper}), its SHA-256 is
 * checked on that descriptor, and every spawn executes the descriptor, not the path.
 */
final class NativeInstaller {

    static final String LIBRARY = "libstockade.so";
    static final String HELPER = "stockade-helper";
    static final String LIBRARY_PROPERTY = "stockade.library";
    static final String HELPER_PROPERTY = "stockade.helper";

    private static final int ELF_HEADER_BYTES = 20;
    private static final int O_RDONLY = 0;
    private static final int O_NONBLOCK = 04000;
    /** The helper's descriptor must stay clear of 0..3, which each spawn's dup2s overwrite. */
    private static final int FIRST_KEPT_FD = 4;

    /** Reads a classpath resource; {@code null} when the jar does not have it. */
    @FunctionalInterface
    interface Resources {
        byte[] read(String resource) throws IOException;
    }

    private final Platform platform;
    private final String version;
    private final Path cacheRoot;
    private final Resources resources;
    private final Path libraryOverride;
    private final Path helperOverride;

    /**
     * @param cacheRoot the {@code stockade} cache directory, or {@code null} when this user has
     *     none (then only overrides work)
     * @param libraryOverride an installed libstockade.so, or {@code null} to extract the jar's
     * @param helperOverride an installed stockade-helper, or {@code null} to extract the jar's
     */
    NativeInstaller(Platform platform, String version, Path cacheRoot, Resources resources,
            Path libraryOverride, Path helperOverride) {
        this.platform = platform;
        this.version = version;
        this.cacheRoot = cacheRoot;
        this.resources = resources;
        this.libraryOverride = libraryOverride;
        this.helperOverride = helperOverride;
    }

    /** The installer for this JVM: system properties, environment, and anchor's class loader. */
    static NativeInstaller fromEnvironment(Class<?> anchor, String version) {
        return new NativeInstaller(Platform.current(), version,
                defaultCacheRoot(System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home")),
                resource -> {
                    try (InputStream in = anchor.getResourceAsStream(resource)) {
                        return in == null ? null : in.readAllBytes();
                    }
                },
                overrideProperty(LIBRARY_PROPERTY), overrideProperty(HELPER_PROPERTY));
    }

    /**
     * {@code $XDG_CACHE_HOME/stockade}, or {@code ~/.cache/stockade} when XDG_CACHE_HOME is unset
     * or relative (the XDG spec says to ignore relative values); {@code null} without a home.
     */
    static Path defaultCacheRoot(String xdgCacheHome, String userHome) {
        if (xdgCacheHome != null && !xdgCacheHome.isEmpty() && Path.of(xdgCacheHome).isAbsolute()) {
            return Path.of(xdgCacheHome, "stockade");
        }
        if (userHome != null && !userHome.isEmpty() && Path.of(userHome).isAbsolute()) {
            return Path.of(userHome, ".cache", "stockade");
        }
        return null;
    }

    private static Path overrideProperty(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            return null;
        }
        if (value.isBlank()) {
            throw new NativeLoadException("system property " + name + " is set but empty: set it"
                    + " to the path of an installed file, or remove it to use the jar's copy");
        }
        return Path.of(value).toAbsolutePath();
    }

    /** Where the natives are, ready to load and execute. */
    final class Installation {
        private final Path library;
        private final Path helper;
        private final Path directory;
        private final byte[] libraryBytes;
        private final byte[] helperHash;

        /** @param helperHash the jar's helper's SHA-256, or {@code null} for an installed copy */
        private Installation(Path library, Path helper, Path directory, byte[] libraryBytes,
                byte[] helperHash) {
            this.library = library;
            this.helper = helper;
            this.directory = directory;
            this.libraryBytes = libraryBytes;
            this.helperHash = helperHash;
        }

        Path library() {
            return library;
        }

        Path helper() {
            return helper;
        }

        /**
         * A copy of the library under the name {@code libstockade-<index>.so}, for a class loader
         * that finds the library already loaded by another one (the JVM binds a loaded path to
         * one class loader). Copies with the same index have the same content in every JVM, so
         * the set of copies stays as small as the most class loaders ever used at once.
         */
        Path libraryCopy(int index) {
            byte[] bytes = libraryBytes;
            Path target = directory;
            if (bytes == null) {
                bytes = readInstalled(LIBRARY_PROPERTY, library);
                target = privateDirectory(Map.of(LIBRARY, bytes));
            }
            Path copy = NativeCache.place(target, "libstockade-" + index + ".so", bytes);
            checkMountAllowsExec(copy, LIBRARY_PROPERTY);
            return copy;
        }

        /**
         * Opens the helper for the rest of this JVM's life and checks what was opened: the
         * jar's SHA-256 for an extracted copy (opened O_NOFOLLOW), a regular ELF file for this
         * platform for an installed one. Spawning {@code /proc/self/fd/<fd>} then runs exactly
         * this file, whatever later happens to its name. Needs the library loaded.
         *
         * @return a close-on-exec descriptor numbered 4 or above; the caller keeps it open
         */
        int openHelper() {
            String what = helperHash == null ? HELPER_PROPERTY + "=" + helper : helper.toString();
            int flags = O_RDONLY | O_NONBLOCK | (helperHash != null ? platform.openNoFollow() : 0);
            int fd;
            try {
                // O_NONBLOCK: a FIFO put in the helper's place must not hang the open.
                int opened = NativeBridge.open(helper.toString(), flags, 0);
                try {
                    fd = NativeBridge.duplicate(opened, FIRST_KEPT_FD);
                } finally {
                    DescriptorSet.closeQuietly(opened);
                }
            } catch (NativeBridge.NativeException e) {
                throw new NativeLoadException("cannot open " + what + " (" + e.getMessage()
                        + "): set XDG_CACHE_HOME to a private directory, or set -D"
                        + HELPER_PROPERTY + " to an installed copy", e);
            }
            try {
                checkOpenedHelper(fd, what);
            } catch (RuntimeException | Error e) {
                DescriptorSet.closeQuietly(fd);
                throw e;
            }
            return fd;
        }

        private void checkOpenedHelper(int fd, String what) {
            // stat and open through the /proc magic link reach the open file itself, not a name.
            Path opened = Path.of("/proc/self/fd/" + fd);
            if (!Files.isRegularFile(opened)) {
                throw new NativeLoadException(what + " is not a regular file: point "
                        + HELPER_PROPERTY + " at an installed " + HELPER + ", or remove it");
            }
            byte[] content;
            try (InputStream in = new FileInputStream(
                    NativeBridge.newFileDescriptor(NativeBridge.duplicate(fd, FIRST_KEPT_FD)))) {
                content = in.readAllBytes();
            } catch (IOException e) {
                throw new NativeLoadException(what + " cannot be read: " + e.getMessage(), e);
            }
            if (helperHash == null) {
                checkElf(what, content, HELPER_PROPERTY);
            } else if (!MessageDigest.isEqual(NativeCache.sha256(content), helperHash)) {
                throw new NativeLoadException(what + " changed after it was checked (its"
                        + " SHA-256 is not the jar's): something else is writing the native"
                        + " cache; retry, or set XDG_CACHE_HOME to a directory only this JVM"
                        + " uses");
            }
        }
    }

    Installation install() {
        Map<String, byte[]> extracted = new LinkedHashMap<>();
        if (libraryOverride == null) {
            extracted.put(LIBRARY, resource(LIBRARY));
        }
        if (helperOverride == null) {
            extracted.put(HELPER, resource(HELPER));
        }
        Path directory = extracted.isEmpty() ? null : privateDirectory(extracted);

        Path library = libraryOverride != null ? installed(LIBRARY_PROPERTY, libraryOverride)
                : NativeCache.place(directory, LIBRARY, extracted.get(LIBRARY));
        Path helper = helperOverride != null ? installed(HELPER_PROPERTY, helperOverride)
                : NativeCache.place(directory, HELPER, extracted.get(HELPER));
        checkExecutable(helper, HELPER_PROPERTY);
        checkMountAllowsExec(library, LIBRARY_PROPERTY);
        return new Installation(library, helper, directory, extracted.get(LIBRARY),
                helperOverride == null ? NativeCache.sha256(extracted.get(HELPER)) : null);
    }

    private byte[] resource(String name) {
        String resource = platform.resource(name);
        byte[] bytes;
        try {
            bytes = resources.read(resource);
        } catch (IOException e) {
            throw new NativeLoadException("cannot read " + resource + " from the Stockade jar: "
                    + e.getMessage(), e);
        }
        if (bytes == null) {
            throw new NativeLoadException("the Stockade jar has no " + name + " for "
                    + platform.resourceDirectory() + " (" + resource + " is not on the class path):"
                    + " use a jar built with its natives (mvn package builds them), or set -D"
                    + (name.equals(LIBRARY) ? LIBRARY_PROPERTY : HELPER_PROPERTY)
                    + "=<path> to an installed copy");
        }
        checkElf(name + " in the Stockade jar (" + resource + ")", bytes,
                name.equals(LIBRARY) ? LIBRARY_PROPERTY : HELPER_PROPERTY);
        return bytes;
    }

    /**
     * An installed file named by a system property: it must exist, fit this platform, and be
     * changeable, with every directory above it, only by this user and root. Returned as its
     * real path, which is what the JVM loads and what was checked.
     */
    private Path installed(String property, Path path) {
        if (!Files.isRegularFile(path)) {
            throw new NativeLoadException(property + "=" + path + " does not exist or is not a"
                    + " regular file: point it at an installed " + fileOf(property)
                    + ", or remove it to use the jar's copy");
        }
        Path real;
        String problem;
        try {
            real = path.toRealPath();
            int self = NativeCache.filesystemUid();
            problem = SecurePath.directoryProblem(real.getParent(), self);
            if (problem == null) {
                problem = SecurePath.fileProblem(real, self);
            }
        } catch (IOException e) {
            throw new NativeLoadException(property + "=" + path + " cannot be read: "
                    + e.getMessage(), e);
        }
        if (problem != null) {
            throw new NativeLoadException("refusing " + property + "=" + path + ": " + problem
                    + ", so another user could replace it: install " + fileOf(property)
                    + " where only you and root can change it and its directories");
        }
        byte[] header = new byte[ELF_HEADER_BYTES];
        try (InputStream in = Files.newInputStream(real)) {
            header = Arrays.copyOf(header, in.readNBytes(header, 0, header.length));
        } catch (IOException e) {
            throw new NativeLoadException(property + "=" + path + " cannot be read: "
                    + e.getMessage(), e);
        }
        checkElf(property + "=" + path, header, property);
        return real;
    }

    private static byte[] readInstalled(String property, Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new NativeLoadException(property + "=" + path + " cannot be read: "
                    + e.getMessage(), e);
        }
    }

    private void checkElf(String what, byte[] header, String property) {
        String mismatch = platform.elfMismatch(header);
        if (mismatch != null) {
            throw new NativeLoadException(what + " cannot be used: " + mismatch + ": use the"
                    + " Stockade build for " + platform.resourceDirectory() + ", or set -D"
                    + property + " to a " + fileOf(property) + " built for it");
        }
    }

    private static String fileOf(String property) {
        return property.equals(LIBRARY_PROPERTY) ? LIBRARY : HELPER;
    }

    /**
     * The helper is executed, so it needs the execute permission and a mount without noexec.
     * Java has no statvfs to ask for noexec, but access(X_OK), which {@link Files#isExecutable}
     * uses, fails on such a mount; the mount table then says why.
     */
    private static void checkExecutable(Path file, String property) {
        if (Files.isExecutable(file)) {
            return;
        }
        checkMountAllowsExec(file, property);
        throw new NativeLoadException("cannot execute " + file + ": it is not executable by"
                + " this user: fix its permissions, or set " + property + " to an executable copy");
    }

    /**
     * The library is mapped executable, which a noexec mount forbids (dlopen then fails with a
     * bare "failed to map segment"); its own permission bits do not matter, as with any .so.
     */
    private static void checkMountAllowsExec(Path file, String property) {
        Optional<MountInfo.Mount> mount = MountInfo.containing(file);
        if (mount.isPresent() && mount.get().noexec()) {
            throw new NativeLoadException("cannot execute " + file + ": mount "
                    + mount.get().mountPoint() + " is noexec: set " + property
                    + " or XDG_CACHE_HOME to an executable location");
        }
    }

    /** {@code <cacheRoot>/<version>-<hash>}, created 0700 and checked to be this user's only. */
    private Path privateDirectory(Map<String, byte[]> files) {
        if (cacheRoot == null) {
            throw new NativeLoadException("no directory to extract the Stockade natives to:"
                    + " neither XDG_CACHE_HOME nor user.home is an absolute path; set"
                    + " XDG_CACHE_HOME, or set -D" + LIBRARY_PROPERTY + " and -D" + HELPER_PROPERTY
                    + " to installed copies");
        }
        Path base = cacheRoot.getParent();
        Path root = cacheRoot;
        if (base != null) {
            try {
                if (!Files.isDirectory(base)) {
                    Files.createDirectories(base, NativeCache.OWNER_ONLY_ATTRIBUTE);
                }
                // XDG_CACHE_HOME or ~/.cache may be a link (say, to another disk); what is
                // checked, and used from here on, is where it leads.
                root = base.toRealPath().resolve(cacheRoot.getFileName());
            } catch (IOException e) {
                throw NativeCache.cannotCreate(base, e);
            }
        }
        Path directory = root.resolve(version + "-" + NativeCache.contentHash(files));
        // A noexec mount is the likelier problem and has the clearer fix, so it is named first.
        String first = files.containsKey(HELPER) ? HELPER : LIBRARY;
        checkMountAllowsExec(directory.resolve(first),
                first.equals(HELPER) ? HELPER_PROPERTY : LIBRARY_PROPERTY);
        if (base != null) {
            NativeCache.checkParents(root);
        }
        NativeCache.ensurePrivateDirectory(root);
        NativeCache.ensurePrivateDirectory(directory);
        return directory;
    }
}
