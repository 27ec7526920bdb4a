package dev.stockade.internal;

import dev.stockade.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The account files the sandbox sees instead of the host's: {@code /etc/passwd} and
 * {@code /etc/group} naming only the sandbox's user and group (and nobody/nogroup, the ids
 * the kernel shows for unmapped owners), so that {@code whoami}, {@code id}, Java's
 * {@code user.home}, git and ssh work and no host account is listed; {@code /etc/shadow} and
 * {@code /etc/gshadow} empty and unreadable. Each is a FILE mount over the host's file, made
 * only where the host file exists in the tree the view shows (the {@code /etc} bind is
 * read-only: a missing mount point could not be made) and the policy mounts nothing there.
 */
public final class IdentityFiles {
    /** passwd and group: world-readable, as on the host. */
    static final int PUBLIC_MODE = 0644;
    /** The shadow files: no one may read them, and they are empty anyway. */
    static final int SECRET_MODE = 0;

    private static final String NOBODY = "nobody:x:" + Protocol.NOBODY_ID + ":"
            + Protocol.NOBODY_ID + ":nobody:/nonexistent:/usr/sbin/nologin\n";
    private static final String NOGROUP = "nogroup:x:" + Protocol.NOBODY_ID + ":\n";

    private IdentityFiles() {}

    /** The passwd file: the sandbox user, and nobody unless the user is nobody's uid. */
    public static String passwd(String name, int uid, int gid, Path home) {
        String self = name + ":x:" + Integer.toUnsignedString(uid) + ":"
                + Integer.toUnsignedString(gid) + ":" + name + ":" + home + ":/bin/sh\n";
        return uid == Protocol.NOBODY_ID ? self : self + NOBODY;
    }

    /** The group file: the sandbox group, and nogroup unless the group is nobody's gid. */
    public static String group(String name, int gid) {
        String self = name + ":x:" + Integer.toUnsignedString(gid) + ":\n";
        return gid == Protocol.NOBODY_ID ? self : self + NOGROUP;
    }

    /**
     * The FILE mounts for {@code policy}, leaving out the paths in {@code taken} (the
     * policy's own mounts).
     */
    static List<SandboxSpec.MountSpec> mounts(SandboxPolicy policy, Set<Path> taken) {
        String passwd = passwd(policy.userName(), policy.uid(), policy.gid(), policy.home());
        String group = group(policy.userName(), policy.gid());
        List<SandboxSpec.MountSpec> mounts = new ArrayList<>();
        add(mounts, policy, taken, "/etc/passwd", passwd, PUBLIC_MODE);
        add(mounts, policy, taken, "/etc/passwd-", passwd, PUBLIC_MODE);
        add(mounts, policy, taken, "/etc/group", group, PUBLIC_MODE);
        add(mounts, policy, taken, "/etc/group-", group, PUBLIC_MODE);
        for (String secret : List.of("/etc/shadow", "/etc/gshadow", "/etc/shadow-",
                "/etc/gshadow-")) {
            add(mounts, policy, taken, secret, "", SECRET_MODE);
        }
        return mounts;
    }

    private static void add(List<SandboxSpec.MountSpec> mounts, SandboxPolicy policy,
            Set<Path> taken, String at, String content, int mode) {
        Path path = Path.of(at);
        if (taken.contains(path)) {
            return;
        }
        Optional<Path> host = policy.hostPath(path);
        if (host.isPresent() && Files.isRegularFile(host.get(), LinkOption.NOFOLLOW_LINKS)) {
            mounts.add(new SandboxSpec.MountSpec(Protocol.MOUNT_FILE, 0, mode, content, at));
        }
    }
}
