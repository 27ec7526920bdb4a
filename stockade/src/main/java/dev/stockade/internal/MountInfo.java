package dev.stockade.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The mount table of this process ({@code /proc/self/mountinfo}), read to explain why a file
 * cannot be executed: Java has no statvfs, and "mount X is noexec" is the answer users need.
 */
final class MountInfo {

    /** One mount: where it is and its per-mount options (noexec, nosuid, ro ...). */
    record Mount(Path mountPoint, List<String> options) {
        boolean noexec() {
            return options.contains("noexec");
        }
    }

    private MountInfo() {}

    /**
     * The mount {@code file} lives on, or empty when the table cannot be read. A file not
     * created yet is on the mount of its nearest existing ancestor.
     */
    static Optional<Mount> containing(Path file) {
        Path real;
        List<String> lines;
        try {
            Path existing = file.toAbsolutePath();
            while (existing.getParent() != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            real = existing.toRealPath();
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.empty();
        }
        return containing(real, lines);
    }

    static Optional<Mount> containing(Path realPath, List<String> mountinfoLines) {
        Mount best = null;
        for (String line : mountinfoLines) {
            Mount mount = parse(line);
            // Later lines are mounted later: on the same mount point they hide earlier ones.
            if (mount != null && realPath.startsWith(mount.mountPoint())
                    && (best == null || mount.mountPoint().getNameCount()
                            >= best.mountPoint().getNameCount())) {
                best = mount;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Fields: id, parent id, major:minor, root, mount point, mount options, ... */
    private static Mount parse(String line) {
        String[] fields = line.split(" ");
        if (fields.length < 6) {
            return null;
        }
        return new Mount(Path.of(unescape(fields[4])), List.of(fields[5].split(",")));
    }

    /** The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        byte[] raw = field.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2])
                    && isOctal(raw[i + 3])) {
                out.write((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
