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
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The private directory {@link NativeInstaller} extracts the natives into, and how a file is
 * placed there: which directories are trusted (this user's, writable by no one else, never a
 * link), the content hash that names a version's directory, and the atomic, verified write of
 * each file. Why each check is there is in {@link NativeInstaller}'s description.
 */
final class NativeCache {
    private NativeCache() {}

    static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rwx------");
    static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);
    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int PERMISSION_BITS = 07777;
    private static final int DIRECTORY_HASH_HEX_DIGITS = 16;

    /** Everything above the cache root, from / down: see {@link SecurePath}. */
    static void checkParents(Path root) {
        String problem;
        try {
            problem = SecurePath.directoryProblem(root.getParent(), filesystemUid());
        } catch (IOException e) {
            throw cannotCreate(root.getParent(), e);
        }
        if (problem != null) {
            throw new NativeLoadException("refusing native cache directory " + root + ": "
                    + problem + ", so another user could replace the natives in it: set"
                    + " XDG_CACHE_HOME to a directory that only you and root can change, like"
                    + " every directory above it");
        }
    }

    static void ensurePrivateDirectory(Path directory) {
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

    /** The cache's own levels are looked at, and used, without following links. */
    static void checkPrivate(Path directory) {
        if (Files.isSymbolicLink(directory)) {
            throw new NativeLoadException("refusing native cache directory " + directory
                    + ": it is a symbolic link, and whoever can change a link decides what"
                    + " gets loaded: remove it, or set XDG_CACHE_HOME to a directory of your"
                    + " own");
        }
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(directory, "unix:uid,mode",
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw cannotCreate(directory, e);
        }
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
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

    static NativeLoadException cannotCreate(Path directory, IOException e) {
        return new NativeLoadException("cannot create or read the native cache directory "
                + directory + " (" + e + "): set XDG_CACHE_HOME to a writable directory, or set -D"
                + NativeInstaller.LIBRARY_PROPERTY + " and -D" + NativeInstaller.HELPER_PROPERTY + " to installed copies", e);
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
                    + " XDG_CACHE_HOME to a writable directory, or set -D" + NativeInstaller.LIBRARY_PROPERTY
                    + " and -D" + NativeInstaller.HELPER_PROPERTY + " to installed copies", e);
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
                            .equals(OWNER_ONLY)
                    || !Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)
                            .equals(filesystemUid())) {
                return false;
            }
            // O_NOFOLLOW: the hash is of the file just looked at, never of a link's target.
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                return MessageDigest.isEqual(sha256(in.readAllBytes()), wantedHash);
            }
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
