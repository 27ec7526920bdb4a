package dev.stockade.internal;

import dev.stockade.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's system directories in the default view: what a build needs to run its tools
 * (programs, libraries, configuration), and nothing of anyone's data. Which of them exist and
 * what they are is decided here, once, when a policy builder is made.
 */
public final class BaseView {
    /**
     * The host paths the default view shows read-only, at the same place. Not here, so not in
     * the view: {@code /home} and {@code /root} (credentials), {@code /var} (other services'
     * data, sockets), {@code /mnt}, {@code /media}, {@code /srv}, {@code /sys} (opt-in).
     */
    public static final List<Path> HOST_DIRECTORIES = List.of(Path.of("/usr"), Path.of("/bin"),
            Path.of("/sbin"), Path.of("/lib"), Path.of("/lib32"), Path.of("/lib64"),
            Path.of("/libx32"), Path.of("/etc"), Path.of("/opt"));

    private BaseView() {}

    /**
     * The mounts for {@link #HOST_DIRECTORIES} on this host, in that order: a directory
     * becomes a read-only bind at the same path, a symbolic link (merged /usr:
     * {@code /bin -> usr/bin}) a symbolic link with the same content; anything else, or
     * nothing, is left out.
     */
    public static List<Mount> hostDirectories() {
        List<Mount> mounts = new ArrayList<>();
        for (Path p : HOST_DIRECTORIES) {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (a.isDirectory()) {
                    mounts.add(Mount.bindReadOnly(p, p));
                } else if (a.isSymbolicLink()) {
                    mounts.add(Mount.symlink(p, Files.readSymbolicLink(p).toString()));
                }
            } catch (IOException e) {
                // Not there (or, unlikely in /, not readable): not shown.
                continue;
            }
        }
        return mounts;
    }
}
