package dev.stockade.internal;

import java.nio.file.Path;

/**
 * Loads libstockade.so into this JVM and finds stockade-helper. Call {@link #ensureLoaded()}
 * before any {@link NativeBridge} method; it is cheap after the first call and safe from any
 * number of threads.
 *
 * <p>The natives come from the jar ({@code /META-INF/native/<os>-<arch>/}), extracted to
 * {@code $XDG_CACHE_HOME/stockade/<version>-<hash>/} (default {@code ~/.cache/stockade}), or
 * from installed copies named by the system properties {@code stockade.library} and
 * {@code stockade.helper}. Every failure is a {@link NativeLoadException} saying what to do.
 *
 * <p>The helper is opened once, checked on that descriptor, and the descriptor is kept for the
 * JVM's life (one per class loader that loads Stockade): spawns execute
 * {@link #helperExecutable()} ({@code /proc/self/fd/N}), so replacing the file on disk later
 * changes nothing. The library cannot be loaded through a descriptor (System.load turns
 * {@code /proc/self/fd/N} back into the file's name and opens that), so its defence is that
 * no other user can change any directory on its path; see {@link NativeInstaller}.
 */
public final class NativeLoader {

    /** Stockade's version; NativeLoaderTest checks it against pom.xml. */
    public static final String VERSION = "0.1.0-SNAPSHOT";

    /** More class loaders than this loading Stockade in one JVM at once is surely a leak. */
    private static final int MAX_LIBRARY_COPIES = 64;

    /**
     * {@code /proc/self/fd/N} for the kept helper descriptor; set last, once the library is
     * loaded and the helper opened: its being non-null is the "loaded" flag.
     */
    private static volatile String helperExecutable;

    /** Where the helper was opened from (for messages: the name may since lead elsewhere). */
    private static volatile Path helper;

    /** The file this class loader's copy of the library was loaded from. */
    private static volatile Path library;

    private NativeLoader() {}

    /** Loads the native library (once per class loader) and extracts the helper. */
    public static void ensureLoaded() {
        if (helperExecutable == null) {
            load();
        }
    }

    /**
     * What to pass to {@link NativeBridge#spawn} to run the verified helper: the path of the
     * descriptor this class loader holds open on it. Loads the natives first if needed.
     */
    public static String helperExecutable() {
        String executable = helperExecutable;
        if (executable == null) {
            load();
            executable = helperExecutable;
        }
        return executable;
    }

    /** The file the helper was opened from, for messages; spawn {@link #helperExecutable()}. */
    public static Path helperPath() {
        ensureLoaded();
        return helper;
    }

    private static synchronized void load() {
        if (helperExecutable != null) {
            return;
        }
        NativeInstaller.Installation installation =
                NativeInstaller.fromEnvironment(NativeLoader.class, VERSION).install();
        library = loadLibrary(installation);
        // Never closed: spawns run this descriptor until the JVM (or class loader) is gone.
        int fd = installation.openHelper();
        helper = installation.helper();
        helperExecutable = "/proc/self/fd/" + fd;
    }

    /** The library file this class loader loaded (for tests and diagnostics). */
    static Path libraryPath() {
        ensureLoaded();
        return library;
    }

    /**
     * System.load binds the library to this class's loader. A path can be bound to only one
     * loader per JVM, so when another loader (an application server, a build tool's plugin
     * loader) already holds it, this loader loads an identical copy under another name.
     */
    private static Path loadLibrary(NativeInstaller.Installation installation) {
        Path file = installation.library();
        for (int copy = 1;; copy++) {
            try {
                System.load(file.toString());
                return file;
            } catch (UnsatisfiedLinkError e) {
                String message = String.valueOf(e.getMessage());
                if (!message.contains("already loaded in another classloader")) {
                    throw explain(file, e);
                }
                if (copy > MAX_LIBRARY_COPIES) {
                    throw new NativeLoadException("libstockade.so is already loaded by "
                            + MAX_LIBRARY_COPIES + " other class loaders in this JVM: load"
                            + " Stockade from one shared class loader", e);
                }
                file = installation.libraryCopy(copy);
            }
        }
    }

    private static NativeLoadException explain(Path library, UnsatisfiedLinkError e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("libseccomp")) {
            return new NativeLoadException("cannot load " + library + ": " + message
                    + ": libstockade.so needs the libseccomp shared library (libseccomp.so.2):"
                    + " install it (Debian/Ubuntu: apt-get install libseccomp2, Fedora: dnf"
                    + " install libseccomp)", e);
        }
        if (message.contains("wrong ELF class") || message.contains("ELF file")
                || message.contains("invalid ELF header")) {
            return new NativeLoadException("cannot load " + library + ": " + message
                    + ": it was built for another platform than this JVM ("
                    + System.getProperty("os.arch") + "): use the Stockade build for this"
                    + " platform, or set -Dstockade.library to a matching libstockade.so", e);
        }
        return new NativeLoadException("cannot load " + library + ": " + message
                + ": set -Dstockade.library to a working libstockade.so, or report this", e);
    }
}
