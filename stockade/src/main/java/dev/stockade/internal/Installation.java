package dev.stockade.internal;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Stockade's own files as this JVM runs them: the jar its classes come from (the CLI's, in the
 * distribution), the natives it loaded (the helper runs on the host, outside any sandbox) and
 * the distribution's directory ({@value #HOME_PROPERTY}, set by {@code bin/stockade}: its
 * launcher and class archives). A sandbox must never be able to change them: a step that
 * rewrote one would have its code run on the host by the next start. So no directory the view
 * binds writable (the workspace, a writable bind) may hold one of them, nor lie inside the
 * distribution's or the natives' directory.
 */
final class Installation {
    /** The distribution's directory, when the CLI runs from one. */
    static final String HOME_PROPERTY = "stockade.home";

    private Installation() {}

    /** Stockade's directories, then its files among which they are: real paths. */
    private record Installed(List<Path> directories, List<Path> files) {}

    /**
     * Looked up once (a failed look-up, the natives not loading, is tried again): where this
     * JVM runs Stockade from does not change while it runs.
     */
    private static volatile Installed installed;

    private static Installed installed() {
        Installed i = installed;
        if (i == null) {
            List<Path> directories = directories();
            i = new Installed(directories, files(directories));
            installed = i;
        }
        return i;
    }

    /**
     * Refuses {@code writable} (the host directory {@code what} names, bound writable) when it
     * holds Stockade's installation or lies inside it.
     *
     * @throws SpecException naming the installed file it would expose
     */
    static void checkNotWritable(Path writable, String what) throws SpecException {
        Path dir = real(writable);
        if (dir == null) {
            return; // missing: the bind fails at its own step
        }
        Installed i = installed();
        for (Path file : i.files()) {
            if (file.startsWith(dir)) {
                throw exposed(what, file);
            }
        }
        for (Path directory : i.directories()) {
            if (dir.startsWith(directory)) {
                throw exposed(what, directory);
            }
        }
    }

    private static SpecException exposed(String what, Path installed) {
        return new SpecException(what + " holds Stockade's own installation (" + installed
                + "): a sandboxed step could change what runs on the host next; install"
                + " Stockade outside it");
    }

    /** {@code directories}, then the jar (or class directory) and the natives it loaded. */
    private static List<Path> files(List<Path> directories) {
        List<Path> files = new ArrayList<>(directories);
        addReal(files, codeSource());
        addReal(files, NativeLoader.helperPath());
        addReal(files, NativeLoader.libraryPath());
        return List.copyOf(files);
    }

    /** Directories wholly Stockade's: the distribution's and the natives'. */
    private static List<Path> directories() {
        List<Path> directories = new ArrayList<>();
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isEmpty()) {
            addReal(directories, Path.of(home));
        }
        addReal(directories, NativeLoader.helperPath().getParent());
        return List.copyOf(directories);
    }

    private static Path codeSource() {
        CodeSource source = Installation.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return null;
        }
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    private static void addReal(List<Path> into, Path p) {
        Path real = p == null ? null : real(p);
        if (real != null) {
            into.add(real);
        }
    }

    /** Through every link (/proc/self/fd/9 is the distribution's jar), or null if missing. */
    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
