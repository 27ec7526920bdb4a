package dev.stockade;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Who the sandbox user is inside, decided once at {@link SandboxPolicy.Builder#build()}: its
 * name and home ({@link SandboxPolicy#userName()}, {@link SandboxPolicy#home()}), and the
 * caller's real home on the host, under which {@code homeReadOnly}/{@code homeOverlay} paths
 * are found.
 *
 * @param home the private home inside
 * @param userName the name in the synthesized passwd and group files
 * @param hostHome the caller's home on the host as a real path (its normalized
 *     {@code user.home} when that cannot be resolved)
 */
record Identity(Path home, String userName, Path hostHome) {
    /** What {@code useradd} accepts everywhere (POSIX portable names, lower case). */
    private static final Pattern PORTABLE_NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    private static final Path ROOT_HOME = Path.of("/root");

    static Identity of(int uidInside, boolean callerIsRoot) {
        String userHome = System.getProperty("user.home", "");
        String userName = System.getProperty("user.name", "");
        Path hostHome = realOrNormal(userHome);
        if (uidInside == 0) {
            return new Identity(ROOT_HOME, "root", hostHome);
        }
        if (callerIsRoot) {
            return new Identity(SandboxPolicy.ROOT_CALLER_HOME, SandboxPolicy.DEFAULT_USER_NAME,
                    hostHome);
        }
        // The real path: through a link (/home -> usr/home) the private home at the link's path
        // would leave the real one in the view wherever a read-only bind shows it.
        Path home = hostHome != null && fitsPasswd(hostHome.toString()) ? hostHome
                : SandboxPolicy.ROOT_CALLER_HOME;
        String name = PORTABLE_NAME.matcher(userName).matches() ? userName
                : SandboxPolicy.DEFAULT_USER_NAME;
        return new Identity(home, name, hostHome);
    }

    /** An absolute path other than {@code /} (a tmpfs there would replace the whole view). */
    private static boolean usable(String home) {
        if (home.isEmpty() || home.indexOf('\0') >= 0) {
            return false;
        }
        Path p = Path.of(home);
        return p.isAbsolute() && p.normalize().getNameCount() > 0;
    }

    /**
     * Whether {@code home} can be a field of the sandbox's passwd line (IdentityFiles): a
     * {@code :} or a line break would end the field or the line, and what follows would be
     * read as more fields or more users.
     */
    private static boolean fitsPasswd(String home) {
        return home.chars().noneMatch(c -> c == ':' || c == '\n' || c == '\r');
    }

    private static Path realOrNormal(String home) {
        if (!usable(home)) {
            return null;
        }
        Path p = Path.of(home).normalize();
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    /** The host path of {@code relativePath} of the caller's home (checked by PolicyChecks). */
    Path hostPath(String relativePath) {
        return hostHome.resolve(relativePath);
    }

    /** The mounts that put the given paths of the caller's home into the private home. */
    List<Mount> homeMounts(List<String> readOnly, List<String> overlay) {
        List<Mount> mounts = new ArrayList<>();
        for (String rel : readOnly) {
            mounts.add(Mount.bindReadOnly(hostPath(rel), home.resolve(rel)).normalized());
        }
        for (String rel : overlay) {
            mounts.add(Mounts.overlay(hostPath(rel), home.resolve(rel)).normalized());
        }
        return List.copyOf(mounts);
    }
}
