package dev.stockade.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
 */
final class NativeInstaller {

    static final String LIBRARY = "libstockade.so";
    static final String HELPER = "stockade-helper";
    static final String LIBRARY_PROPERTY = "stockade.library";
    static final String HELPER_PROPERTY = "stockade.helper";

    private static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rwx------");
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);
    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int PERMISSION_BITS = 07777;
    private static final int ELF_HEADER_BYTES = 20;
    private static final int DIRECTORY_HASH_HEX_DIGITS = 16;

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

        private Installation(Path library, Path helper, Path directory, byte[] libraryBytes) {
            this.library = library;
            this.helper = helper;
            this.directory = directory;
            this.libraryBytes = libraryBytes;
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
            Path copy = place(target, "libstockade-" + index + ".so", bytes);
            checkMountAllowsExec(copy, LIBRARY_PROPERTY);
            return copy;
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
                : place(directory, LIBRARY, extracted.get(LIBRARY));
        Path helper = helperOverride != null ? installed(HELPER_PROPERTY, helperOverride)
                : place(directory, HELPER, extracted.get(HELPER));
        checkExecutable(helper, HELPER_PROPERTY);
        checkMountAllowsExec(library, LIBRARY_PROPERTY);
        return new Installation(library, helper, directory, extracted.get(LIBRARY));
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

    /** An installed file named by a system property: it must exist and fit this platform. */
    private Path installed(String property, Path path) {
        if (!Files.isRegularFile(path)) {
            throw new NativeLoadException(property + "=" + path + " does not exist or is not a"
                    + " regular file: point it at an installed " + fileOf(property)
                    + ", or remove it to use the jar's copy");
        }
        byte[] header = new byte[ELF_HEADER_BYTES];
        try (InputStream in = Files.newInputStream(path)) {
            header = Arrays.copyOf(header, in.readNBytes(header, 0, header.length));
        } catch (IOException e) {
            throw new NativeLoadException(property + "=" + path + " cannot be read: "
                    + e.getMessage(), e);
        }
        checkElf(property + "=" + path, header, property);
        return path;
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
        try {
            if (base != null && !Files.isDirectory(base)) {
                Files.createDirectories(base, OWNER_ONLY_ATTRIBUTE);
            }
        } catch (IOException e) {
            throw cannotCreate(base, e);
        }
        ensurePrivateDirectory(cacheRoot);
        Path directory = cacheRoot.resolve(version + "-" + contentHash(files));
        ensurePrivateDirectory(directory);
        return directory;
    }

    private static void ensurePrivateDirectory(Path directory) {
        try {
            Files.createDirectory(directory, OWNER_ONLY_ATTRIBUTE);
            // The creation mode went through the umask, which may have taken our own bits.
            Files.setPosixFilePermissions(directory, OWNER_ONLY);
        } catch (FileAlreadyExistsException e) {
            // Made earlier, by us, by another JVM or by someone else: the check below decides.
        } catch (IOException e) {
            throw cannotCreate(directory, e);
        }
        checkPrivate(directory);
    }

    static void checkPrivate(Path directory) {
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(directory, "unix:uid,mode");
        } catch (IOException e) {
            throw cannotCreate(directory, e);
        }
        if (!Files.isDirectory(directory)) {
            throw new NativeLoadException("native cache " + directory + " exists but is not a"
                    + " directory: remove it, or set XDG_CACHE_HOME to another location");
        }
        int owner = (Integer) attributes.get("uid");
        int mode = (Integer) attributes.get("mode") & PERMISSION_BITS;
        int self = filesystemUid();
        if (owner != self) {
            throw new NativeLoadException("refusing native cache directory " + directory
                    + ": it is owned by uid " + owner + ", not by this user (uid " + self
                    + "); remove it, or set XDG_CACHE_HOME to a directory of your own");
        }
        if ((mode & GROUP_OR_OTHER_WRITE) != 0) {
            throw new NativeLoadException("refusing native cache directory " + directory
                    + ": it is writable by group or others (mode 0" + Integer.toOctalString(mode)
                    + "); run chmod 700 " + directory + ", or set XDG_CACHE_HOME to a private"
                    + " directory");
        }
    }

    private static NativeLoadException cannotCreate(Path directory, IOException e) {
        return new NativeLoadException("cannot create or read the native cache directory "
                + directory + " (" + e + "): set XDG_CACHE_HOME to a writable directory, or set -D"
                + LIBRARY_PROPERTY + " and -D" + HELPER_PROPERTY + " to installed copies", e);
    }

    /**
     * Writes {@code bytes} to {@code directory/name} unless an intact copy is there already.
     * The rename is atomic: a concurrent loader sees the old complete file or the new one.
     */
    static Path place(Path directory, String name, byte[] bytes) {
        Path target = directory.resolve(name);
        byte[] wanted = sha256(bytes);
        if (isIntact(target, wanted)) {
            return target;
        }
        Path temporary = null;
        try {
            temporary = Files.createTempFile(directory, "." + name + ".", ".tmp", OWNER_ONLY_ATTRIBUTE);
            Files.write(temporary, bytes);
            Files.setPosixFilePermissions(temporary, OWNER_ONLY);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            temporary = null;
        } catch (IOException e) {
            throw new NativeLoadException("cannot write " + target + " (" + e + "): set"
                    + " XDG_CACHE_HOME to a writable directory, or set -D" + LIBRARY_PROPERTY
                    + " and -D" + HELPER_PROPERTY + " to installed copies", e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // The failure being reported is the one that matters.
                }
            }
        }
        return target;
    }

    private static boolean isIntact(Path file, byte[] wantedHash) {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                    || !Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS)
                            .equals(OWNER_ONLY)) {
                return false;
            }
            return MessageDigest.isEqual(sha256(Files.readAllBytes(file)), wantedHash);
        } catch (IOException e) {
            return false; // unreadable: replace it
        }
    }

    /** SHA-256 over every file's name, length and content, in order; the first 16 hex digits. */
    static String contentHash(Map<String, byte[]> files) {
        MessageDigest digest = newSha256();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            digest.update(file.getKey().getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(ByteBuffer.allocate(Long.BYTES).putLong(file.getValue().length).array());
            digest.update(file.getValue());
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, DIRECTORY_HASH_HEX_DIGITS);
    }

    static byte[] sha256(byte[] bytes) {
        return newSha256().digest(bytes);
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * The uid new files get (the filesystem uid), from /proc/self/status: the native library,
     * which could ask the kernel directly, is what is being installed. The line reads
     * "Uid: real effective saved filesystem".
     */
    static int filesystemUid() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"),
                    StandardCharsets.US_ASCII);
            for (String line : lines) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[3]);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new NativeLoadException("cannot read this process's uid from /proc/self/status ("
                    + e + "): Stockade needs /proc mounted", e);
        }
        throw new NativeLoadException("/proc/self/status has no Uid line: Stockade needs /proc"
                + " mounted");
    }
}
