package dev.stockade.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether anyone but this user and root can change what a path names: the check OpenSSH makes
 * of authorized_keys, made here of the directories the natives are loaded from.
 *
 * <p>The JVM loads a library by path (System.load resolves even {@code /proc/self/fd/N} to the
 * file's name and opens that), so what was verified is what gets loaded only if no other user
 * can replace an entry on the way. Checking from {@code /} down is free of races with other
 * users: once a directory is known to be changeable only by this user and root, the entry
 * below it stays the one just looked at, and so on down. A directory others may write to is
 * acceptable only when it is sticky (like /tmp): then only the owner of an entry, which must be
 * this user or root, can rename or remove it.
 */
final class SecurePath {

    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int STICKY = 01000;
    private static final int PERMISSION_BITS = 07777;
    private static final int ROOT = 0;

    private SecurePath() {}

    /**
     * What lets another user change {@code directory} or any directory above it, or
     * {@code null} when nothing does. {@code directory} must be absolute and free of symbolic
     * links and "..": a link met on the way is reported, since whoever can change the directory
     * holding it decides where it leads.
     */
    static String directoryProblem(Path directory, int self) throws IOException {
        Path current = directory.getRoot();
        String problem = check(current, self, true);
        for (Path name : directory) {
            if (problem != null) {
                break;
            }
            current = current.resolve(name);
            problem = check(current, self, true);
        }
        return problem;
    }

    /**
     * What lets another user change {@code file} itself (its content is changed in place), or
     * {@code null}: its owner must be this user or root and it must be writable by no one else.
     */
    static String fileProblem(Path file, int self) throws IOException {
        return check(file, self, false);
    }

    private static String check(Path path, int self, boolean directory) throws IOException {
        if (Files.isSymbolicLink(path)) {
            return path + " is a symbolic link";
        }
        Map<String, Object> attributes = Files.readAttributes(path, "unix:uid,mode",
                LinkOption.NOFOLLOW_LINKS);
        int owner = (Integer) attributes.get("uid");
        int mode = (Integer) attributes.get("mode") & PERMISSION_BITS;
        String what = directory ? "directory " : "file ";
        if (directory && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            return path + " is not a directory";
        }
        if (owner != self && owner != ROOT) {
            return what + path + " is owned by uid " + owner + ", neither this user (uid " + self
                    + ") nor root";
        }
        if ((mode & GROUP_OR_OTHER_WRITE) != 0 && !(directory && (mode & STICKY) != 0)) {
            return what + path + " is writable by group or others (mode 0"
                    + Integer.toOctalString(mode) + ")" + (directory ? " and not sticky" : "");
        }
        return null;
    }
}
