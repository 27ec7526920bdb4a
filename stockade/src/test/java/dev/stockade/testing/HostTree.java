package dev.stockade.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A host directory tree as data, for "byte-identical afterwards" assertions: every entry's
 * relative path with its type, permission bits, owner, size and content (SHA-256 of a regular
 * file, target of a symbolic link). Symbolic links are recorded, never followed.
 */
public final class HostTree {
    private HostTree() {}

    /** Relative path (the root is "") to "type mode uid:gid size content". */
    public static Map<String, String> snapshot(Path root) {
        Map<String, String> entries = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                        throws IOException {
                    entries.put(root.relativize(dir).toString(), describe(dir));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                        throws IOException {
                    entries.put(root.relativize(file).toString(), describe(file));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    /** One entry, as {@link #snapshot} records it. */
    public static String describe(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size",
                LinkOption.NOFOLLOW_LINKS);
        String head = Integer.toOctalString((Integer) a.get("mode")) + " " + a.get("uid") + ":"
                + a.get("gid");
        if (Files.isSymbolicLink(p)) {
            return head + " link " + Files.readSymbolicLink(p);
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return head + " " + a.get("size") + " " + sha256(p);
        }
        return head;
    }

    /** SHA-256 of {@code text}'s UTF-8 bytes, as {@link #sha256(Path)} and FsProbe print it. */
    public static String sha256Of(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
