package dev.stockade.cli;

import dev.stockade.Mount;
import dev.stockade.Mounts;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Finds the command's program the way {@code which} does, in the sandbox's view and on the
 * caller's own host, to warn before the start when the view lacks a program the caller has
 * (a JDK under {@code ~/.sdkman}, a Node under {@code ~/.nvm}): the sandbox would answer
 * "not found" without saying that the program exists, just not in its view.
 */
final class CommandLocator {
    /** As the kernel: at most 40 symbolic links on the way to one file. */
    private static final int MAX_LINKS = 40;

    private CommandLocator() {}

    /**
     * The warning line for {@code program} under {@code policy}, or empty when the program is
     * in the view or is not found on the host either (the sandbox then reports it). A bare name
     * is looked up in the policy's {@code PATH} inside and in {@code callerPath} on the host; a
     * name with a {@code /} is that path (relative ones against {@code insideCwd} inside and
     * {@code callerCwd} on the host).
     */
    static Optional<String> warning(SandboxPolicy policy, String program, Path insideCwd,
            Path callerCwd, String callerPath) {
        try {
            if (program.contains("/")) {
                if (executableInView(policy, insideCwd.resolve(program))) {
                    return Optional.empty();
                }
                Path host = callerCwd.resolve(program).normalize();
                return hostExecutable(host) ? Optional.of(program + " is outside the sandbox's"
                        + " view; add it with --toolchain " + Mounts.toolchainRoot(host))
                        : Optional.empty();
            }
            String insidePath = policy.environment().getOrDefault("PATH", "");
            for (String dir : insidePath.split(":")) {
                if (!dir.isEmpty() && Path.of(dir).isAbsolute()
                        && executableInView(policy, Path.of(dir, program))) {
                    return Optional.empty();
                }
            }
            for (String dir : callerPath == null ? new String[0] : callerPath.split(":")) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path host = callerCwd.resolve(dir).resolve(program).normalize();
                if (hostExecutable(host)) {
                    if (executableInView(policy, host)) {
                        return Optional.of(program + " is " + host + ", in the sandbox's view"
                                + " but not on its PATH (" + insidePath + "): give the path,"
                                + " or --env PATH=...");
                    }
                    return Optional.of(program + " is " + host + ", outside the sandbox's view;"
                            + " add it with --toolchain " + Mounts.toolchainRoot(host));
                }
            }
        } catch (InvalidPathException e) {
            // A name no path can hold: the sandbox reports it as not found.
        }
        return Optional.empty();
    }

    private static boolean hostExecutable(Path p) {
        return Files.isRegularFile(p) && Files.isExecutable(p);
    }

    /**
     * Whether {@code inside} names an executable regular file in the view, following symbolic
     * links as the kernel would inside: those the view makes ({@link Mount.Type#SYMLINK}) and
     * those in the host trees it shows, each resolved against the view, not the host.
     */
    static boolean executableInView(SandboxPolicy policy, Path inside) {
        Path p = inside.normalize();
        for (int links = 0; links <= MAX_LINKS; links++) {
            Path next = null;
            int n = p.getNameCount();
            for (int i = 1; i <= n && next == null; i++) {
                Path prefix = p.getRoot().resolve(p.subpath(0, i));
                Path rest = i == n ? Path.of("") : p.subpath(i, n);
                String link = linkAt(policy, prefix);
                if (link != null) {
                    next = prefix.getParent().resolve(link).resolve(rest).normalize();
                } else if (i == n) {
                    Optional<Path> host = policy.hostPath(prefix);
                    return host.isPresent() && hostExecutable(host.get());
                }
            }
            if (next == null) {
                return false;
            }
            p = next;
        }
        return false;
    }

    /**
     * The content of the symbolic link at {@code prefix} in the view (one the view makes, or
     * one in a host tree it shows), or {@code null}; a final component that is a host link is
     * reported too, so that the caller follows it.
     */
    private static String linkAt(SandboxPolicy policy, Path prefix) {
        for (Mount m : policy.mounts()) {
            if (m.type() == Mount.Type.SYMLINK && m.target().equals(prefix)) {
                return m.linkTarget();
            }
        }
        Optional<Path> host = policy.hostPath(prefix);
        if (host.isEmpty()) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(host.get(), BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return a.isSymbolicLink() ? Files.readSymbolicLink(host.get()).toString() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
