package dev.stockade.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader with real files: extraction into a fresh cache, reuse and repair, refusal of
 * unsafe directories, concurrent loaders (threads, class loaders, JVMs), overrides, and the
 * diagnoses for a noexec mount, a wrong architecture and a jar without natives.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NativeLoaderTest {

    private static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rwx------");
    private static final long CHILD_TIMEOUT_SECONDS = 120;

    private static Platform platform;
    private static byte[] library;
    private static byte[] helper;

    @BeforeAll
    static void readTheJarsNatives() throws IOException {
        NativeLoader.ensureLoaded(); // for NativeBridge.getuid() in the expectations
        platform = Platform.current();
        library = resource(NativeInstaller.LIBRARY);
        helper = resource(NativeInstaller.HELPER);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = NativeLoader.class.getResourceAsStream(platform.resource(name))) {
            assertNotNull(in, platform.resource(name) + " is not on the test class path");
            return in.readAllBytes();
        }
    }

    private static NativeInstaller installer(Path cacheRoot) {
        return installer(cacheRoot, null, null);
    }

    private static NativeInstaller installer(Path cacheRoot, Path libraryOverride,
            Path helperOverride) {
        return new NativeInstaller(platform, NativeLoader.VERSION, cacheRoot,
                ChildMain::readResource, libraryOverride, helperOverride);
    }

    private static Map<String, byte[]> bothNatives() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(NativeInstaller.LIBRARY, library);
        files.put(NativeInstaller.HELPER, helper);
        return files;
    }

    private static String sha256Hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(NativeCache.sha256(bytes));
    }

    private static Set<PosixFilePermission> mode(Path path) throws IOException {
        return Files.getPosixFilePermissions(path);
    }

    // ---- extraction ----

    @Test
    void extractsIntoPrivateVersionedDirectoryWithCorrectContent(@TempDir Path tmp)
            throws IOException {
        Path base = tmp.resolve("xdg-cache");
        Path root = base.resolve("stockade");
        NativeInstaller.Installation installed = installer(root).install();

        Path directory = installed.library().getParent();
        assertEquals(root, directory.getParent());
        String hash = NativeCache.contentHash(bothNatives());
        assertTrue(hash.matches("[0-9a-f]{16}"), hash);
        assertEquals(NativeLoader.VERSION + "-" + hash, directory.getFileName().toString());
        assertEquals(directory.resolve("libstockade.so"), installed.library());
        assertEquals(directory.resolve("stockade-helper"), installed.helper());

        for (Path created : List.of(base, root, directory)) {
            assertEquals(OWNER_ONLY, mode(created), created.toString());
        }
        assertEquals(OWNER_ONLY, mode(installed.library()));
        assertEquals(OWNER_ONLY, mode(installed.helper()));
        assertEquals(sha256Hex(library), sha256Hex(Files.readAllBytes(installed.library())));
        assertEquals(sha256Hex(helper), sha256Hex(Files.readAllBytes(installed.helper())));
        assertTrue(Files.isExecutable(installed.helper()));
        try (Stream<Path> files = Files.list(directory)) {
            assertEquals(Set.of("libstockade.so", "stockade-helper"),
                    Set.copyOf(files.map(p -> p.getFileName().toString()).toList()),
                    "no temporary files are left behind");
        }
    }

    @Test
    void intactFilesAreReusedNotRewritten(@TempDir Path tmp) throws IOException {
        NativeInstaller.Installation first = installer(tmp.resolve("stockade")).install();
        Object libraryInode = Files.readAttributes(first.library(), "unix:ino").get("ino");
        Object helperInode = Files.readAttributes(first.helper(), "unix:ino").get("ino");

        NativeInstaller.Installation second = installer(tmp.resolve("stockade")).install();
        assertEquals(first.library(), second.library());
        assertEquals(libraryInode, Files.readAttributes(second.library(), "unix:ino").get("ino"));
        assertEquals(helperInode, Files.readAttributes(second.helper(), "unix:ino").get("ino"));
    }

    @Test
    void tamperedOrDamagedFilesAreReplaced(@TempDir Path tmp) throws IOException {
        NativeInstaller.Installation first = installer(tmp.resolve("stockade")).install();
        // Same size, one byte flipped: only the hash can tell.
        byte[] tampered = helper.clone();
        tampered[tampered.length / 2] ^= 0x55;
        Files.write(first.helper(), tampered);
        Files.write(first.library(), new byte[] {0x7f, 'E', 'L', 'F'});
        assertNotEquals(sha256Hex(helper), sha256Hex(Files.readAllBytes(first.helper())));

        NativeInstaller.Installation second = installer(tmp.resolve("stockade")).install();
        assertEquals(first.helper(), second.helper());
        assertEquals(sha256Hex(helper), sha256Hex(Files.readAllBytes(second.helper())));
        assertEquals(sha256Hex(library), sha256Hex(Files.readAllBytes(second.library())));

        // A copy someone made non-executable is replaced too.
        Files.setPosixFilePermissions(second.helper(), PosixFilePermissions.fromString("rw-------"));
        NativeInstaller.Installation third = installer(tmp.resolve("stockade")).install();
        assertEquals(OWNER_ONLY, mode(third.helper()));
    }

    @Test
    void threadsInstallingAtOnceAllGetIntactFiles(@TempDir Path tmp) throws Exception {
        int threads = 8;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<NativeInstaller.Installation>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return installer(tmp.resolve("stockade")).install();
                }));
            }
            Path expectedLibrary = null;
            for (Future<NativeInstaller.Installation> result : results) {
                NativeInstaller.Installation installed = result.get(60, TimeUnit.SECONDS);
                if (expectedLibrary == null) {
                    expectedLibrary = installed.library();
                }
                assertEquals(expectedLibrary, installed.library());
                assertEquals(sha256Hex(library), sha256Hex(Files.readAllBytes(installed.library())));
                assertEquals(sha256Hex(helper), sha256Hex(Files.readAllBytes(installed.helper())));
            }
            try (Stream<Path> files = Files.list(expectedLibrary.getParent())) {
                assertEquals(2, files.count(), "only the two natives, no temporary files");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- loading: NativeLoader itself, class loaders, JVMs ----

    @Test
    void ensureLoadedIsIdempotentAndTheHelperIsExecutable() {
        NativeLoader.ensureLoaded();
        NativeLoader.ensureLoaded();
        Path helperPath = NativeLoader.helperPath();
        assertTrue(helperPath.isAbsolute());
        assertTrue(Files.isExecutable(helperPath), helperPath.toString());
        assertEquals(NativeBridge.getuid(), NativeCache.filesystemUid());
    }

    /** Spawns run the descriptor kept on the verified helper, numbered clear of 0..3. */
    @Test
    void theHelperIsExecutedThroughAKeptDescriptor() throws IOException {
        String executable = NativeLoader.helperExecutable();
        Matcher matcher = Pattern.compile("/proc/self/fd/([0-9]+)").matcher(executable);
        assertTrue(matcher.matches(), executable);
        assertTrue(Integer.parseInt(matcher.group(1)) >= 4, executable);
        assertEquals(executable, NativeLoader.helperExecutable(), "one descriptor, kept");
        assertTrue(Files.isSameFile(Path.of(executable), NativeLoader.helperPath()));
        assertEquals(sha256Hex(helper), sha256Hex(Files.readAllBytes(Path.of(executable))));
    }

    /**
     * The attack of issue 6 item 7: the helper file is replaced between two spawns (here by
     * this user, who can; another user must not even get that far). The next spawn still runs
     * the helper that was verified, and the replacement never runs. In a child JVM with its
     * own cache, so this JVM's natives stay intact.
     */
    @Test
    void replacingTheHelperOnDiskDoesNotChangeWhatSpawns(@TempDir Path tmp) throws Exception {
        Path marker = tmp.resolve("replacement-ran");
        ChildResult result = finish(start(childJava(ChildMain.class.getName(), "swap",
                marker.toString()), Map.of("XDG_CACHE_HOME", tmp.resolve("cache").toString())));
        assertEquals(0, result.exitCode(), result.stdout() + result.stderr());
        assertEquals("before: exit 0: before\n"
                + "replaced: #!/bin/sh\n"
                + "after: exit 0: after\n", result.stdout());
        assertFalse(Files.exists(marker), "the replacement helper ran");
    }

    /**
     * Class loaders that each load their own copy of Stockade (as plugin systems do) in the
     * same JVM, at the same time: the JVM lets only one of them own a library path, so the
     * others must end up with their own copies and still work.
     */
    @Test
    void severalClassLoadersLoadConcurrently() throws Exception {
        NativeLoader.ensureLoaded(); // this class loader holds the plain libstockade.so
        URL classes = NativeLoader.class.getProtectionDomain().getCodeSource().getLocation();
        int loaders = 3;
        CyclicBarrier start = new CyclicBarrier(loaders);
        List<URLClassLoader> created = new ArrayList<>();
        List<CompletableFuture<Path>> loaded = new ArrayList<>();
        try {
            for (int i = 0; i < loaders; i++) {
                URLClassLoader loader = new URLClassLoader(new URL[] {classes},
                        ClassLoader.getPlatformClassLoader());
                created.add(loader);
                loaded.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        Class<?> loaderClass = loader.loadClass(NativeLoader.class.getName());
                        assertNotEquals(NativeLoader.class, loaderClass);
                        start.await();
                        loaderClass.getMethod("ensureLoaded").invoke(null);
                        Method getuid = loader.loadClass(NativeBridge.class.getName())
                                .getMethod("getuid");
                        assertEquals(NativeBridge.getuid(), (Integer) getuid.invoke(null));
                        Method libraryPath = loaderClass.getDeclaredMethod("libraryPath");
                        libraryPath.setAccessible(true);
                        return (Path) libraryPath.invoke(null);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            Set<Path> files = new java.util.HashSet<>();
            files.add(NativeLoader.libraryPath());
            for (CompletableFuture<Path> file : loaded) {
                Path path = file.get(60, TimeUnit.SECONDS);
                assertTrue(files.add(path), "each class loader has its own file: " + path);
                assertEquals(sha256Hex(Files.readAllBytes(NativeLoader.libraryPath())),
                        sha256Hex(Files.readAllBytes(path)), path + " is an identical copy");
                assertTrue(path.getFileName().toString().matches("libstockade-[0-9]+\\.so"),
                        path.toString());
            }
        } finally {
            for (URLClassLoader loader : created) {
                loader.close();
            }
        }
    }

    /** What a child JVM running {@link ChildMain} printed and how it exited. */
    private record ChildResult(int exitCode, String stdout, String stderr) {}

    /**
     * Entry point of the child JVMs: loads the natives and makes one call. Self-contained (the
     * child's class path has no JUnit).
     */
    public static final class ChildMain {
        private ChildMain() {}

        static byte[] readResource(String resource) throws IOException {
            try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
                return in == null ? null : in.readAllBytes();
            }
        }

        public static void main(String[] args) {
            try {
                if (args.length > 0 && args[0].equals("swap")) {
                    swapHelper(Path.of(args[1]));
                    return;
                }
                if (args.length > 0 && args[0].equals("install")) {
                    // An installer for the cache directory args[1], as the noexec test wants.
                    new NativeInstaller(Platform.current(), NativeLoader.VERSION,
                            Path.of(args[1]), ChildMain::readResource, null, null)
                            .install();
                    System.out.println("installed");
                    return;
                }
                NativeLoader.ensureLoaded();
                System.out.println("uid=" + NativeBridge.getuid() + " helper="
                        + NativeLoader.helperPath());
            } catch (NativeLoadException e) {
                System.out.println("NativeLoadException: " + e.getMessage());
                System.exit(3);
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
                System.exit(4);
            }
        }

        /** One sandboxed echo, the helper renamed over by a script, another sandboxed echo. */
        private static void swapHelper(Path marker) throws IOException, InterruptedException {
            System.out.println("before: " + sandboxedEcho("before"));
            Path onDisk = NativeLoader.helperPath();
            Path replacement = onDisk.resolveSibling(".replacement");
            Files.writeString(replacement, "#!/bin/sh\necho replaced > '" + marker + "'\n");
            Files.setPosixFilePermissions(replacement, OWNER_ONLY);
            Files.move(replacement, onDisk, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            System.out.println("replaced: " + Files.readAllLines(onDisk).get(0));
            System.out.println("after: " + sandboxedEcho("after"));
        }

        private static String sandboxedEcho(String word) throws IOException,
                InterruptedException {
            Process process = dev.stockade.Sandbox.command("/bin/echo", word).start();
            String out = new String(process.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8).trim();
            return "exit " + process.waitFor() + ": " + out;
        }
    }

    /**
     * A child JVM with this test's classes and the main classes on its class path. Taken from
     * the classes' locations, not java.class.path: a test launcher may load the tests through a
     * class loader of its own.
     */
    private static List<String> childJava(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("-cp");
        command.add(location(ChildMain.class) + java.io.File.pathSeparator
                + location(NativeLoader.class));
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(List.of(args));
        return command;
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Process start(List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return builder.start();
    }

    private static ChildResult finish(Process process) throws Exception {
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        boolean exited = process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        assertTrue(exited, "child did not exit within " + CHILD_TIMEOUT_SECONDS + " s");
        return new ChildResult(process.exitValue(), out.get(60, TimeUnit.SECONDS),
                err.get(60, TimeUnit.SECONDS));
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                in.transferTo(buffer);
                return buffer.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void severalJvmsExtractIntoAFreshCacheAtOnce(@TempDir Path cache) throws Exception {
        List<Process> jvms = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jvms.add(start(childJava(ChildMain.class.getName()),
                    Map.of("XDG_CACHE_HOME", cache.toString())));
        }
        Path expectedDirectory = cache.resolve("stockade")
                .resolve(NativeLoader.VERSION + "-" + NativeCache.contentHash(bothNatives()));
        for (Process jvm : jvms) {
            ChildResult result = finish(jvm);
            assertEquals(0, result.exitCode(), result.stdout() + result.stderr());
            assertEquals("uid=" + NativeBridge.getuid() + " helper="
                    + expectedDirectory.resolve("stockade-helper") + "\n", result.stdout());
        }
        assertEquals(sha256Hex(library),
                sha256Hex(Files.readAllBytes(expectedDirectory.resolve("libstockade.so"))));
        assertEquals(sha256Hex(helper),
                sha256Hex(Files.readAllBytes(expectedDirectory.resolve("stockade-helper"))));
    }

    @Test
    void systemPropertiesPointAtInstalledCopiesAndNothingIsExtracted(@TempDir Path tmp)
            throws Exception {
        Path installedDir = Files.createDirectory(tmp.resolve("installed"));
        Path installedLibrary = Files.write(installedDir.resolve("libstockade.so"), library);
        Path installedHelper = Files.write(installedDir.resolve("stockade-helper"), helper);
        Files.setPosixFilePermissions(installedHelper, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cache = Files.createDirectory(tmp.resolve("cache"));

        ChildResult result = finish(start(childJava(
                "-D" + NativeInstaller.LIBRARY_PROPERTY + "=" + installedLibrary,
                "-D" + NativeInstaller.HELPER_PROPERTY + "=" + installedHelper,
                ChildMain.class.getName()), Map.of("XDG_CACHE_HOME", cache.toString())));
        assertEquals(0, result.exitCode(), result.stdout() + result.stderr());
        assertEquals("uid=" + NativeBridge.getuid() + " helper=" + installedHelper + "\n",
                result.stdout());
        try (Stream<Path> entries = Files.list(cache)) {
            assertEquals(0, entries.count(), "nothing extracted");
        }

        // Only the helper overridden: the library is extracted, the helper is not.
        NativeInstaller.Installation mixed = installer(tmp.resolve("c2/stockade"), null,
                installedHelper).install();
        assertEquals(installedHelper, mixed.helper());
        assertTrue(mixed.library().startsWith(tmp.resolve("c2/stockade")));
        assertFalse(Files.exists(mixed.library().resolveSibling("stockade-helper")));
    }

    @Test
    void overridesMustExistAndBeRegularFiles(@TempDir Path tmp) throws IOException {
        Path missing = tmp.resolve("missing.so");
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), missing, null).install());
        assertTrue(e.getMessage().startsWith("stockade.library=" + missing
                + " does not exist or is not a regular file"), e.getMessage());

        NativeLoadException dir = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), null, tmp).install());
        assertTrue(dir.getMessage().startsWith("stockade.helper=" + tmp
                + " does not exist or is not a regular file"), dir.getMessage());

        Path notExecutable = Files.write(tmp.resolve("helper"), helper);
        Files.setPosixFilePermissions(notExecutable, PosixFilePermissions.fromString("rw-------"));
        NativeLoadException exec = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), null, notExecutable).install());
        assertTrue(exec.getMessage().startsWith("cannot execute " + notExecutable
                + ": it is not executable by this user"), exec.getMessage());
    }

    @Test
    void systemPropertiesAreRead(@TempDir Path tmp) throws IOException {
        Path installedLibrary = Files.write(tmp.resolve("lib.so"), library);
        Path installedHelper = Files.write(tmp.resolve("helper"), helper);
        Files.setPosixFilePermissions(installedHelper, OWNER_ONLY);
        String oldLibrary = System.getProperty(NativeInstaller.LIBRARY_PROPERTY);
        String oldHelper = System.getProperty(NativeInstaller.HELPER_PROPERTY);
        try {
            System.setProperty(NativeInstaller.LIBRARY_PROPERTY, installedLibrary.toString());
            System.setProperty(NativeInstaller.HELPER_PROPERTY, installedHelper.toString());
            NativeInstaller.Installation installed =
                    NativeInstaller.fromEnvironment(NativeLoader.class, "test").install();
            assertEquals(installedLibrary, installed.library());
            assertEquals(installedHelper, installed.helper());

            System.setProperty(NativeInstaller.HELPER_PROPERTY, " ");
            NativeLoadException blank = assertThrows(NativeLoadException.class,
                    () -> NativeInstaller.fromEnvironment(NativeLoader.class, "test"));
            assertTrue(blank.getMessage().startsWith("system property stockade.helper is set but"
                    + " empty"), blank.getMessage());
        } finally {
            restore(NativeInstaller.LIBRARY_PROPERTY, oldLibrary);
            restore(NativeInstaller.HELPER_PROPERTY, oldHelper);
        }
    }

    private static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }

    // ---- unsafe cache directories ----

    @Test
    void aCacheDirectoryWritableByOthersIsRefused(@TempDir Path tmp) throws IOException {
        for (String permissions : List.of("rwxrwxrwx", "rwxrwx---", "rwx---rwx")) {
            Path root = Files.createDirectories(tmp.resolve(permissions).resolve("stockade"));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString(permissions));
            NativeLoadException e = assertThrows(NativeLoadException.class,
                    () -> installer(root).install());
            String mode = Integer.toOctalString(
                    (Integer) Files.readAttributes(root, "unix:mode").get("mode") & 07777);
            assertEquals("refusing native cache directory " + root + ": it is writable by group"
                    + " or others (mode 0" + mode + "); run chmod 700 " + root + ", or set"
                    + " XDG_CACHE_HOME to a private directory", e.getMessage());
            try (Stream<Path> entries = Files.list(root)) {
                assertEquals(0, entries.count(), "nothing was written into it");
            }
        }
        // Readable by others but writable only by us is fine.
        Path readable = Files.createDirectories(tmp.resolve("readable").resolve("stockade"));
        Files.setPosixFilePermissions(readable, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertTrue(Files.exists(installer(readable).install().helper()));
    }

    @Test
    void aCacheDirectoryOwnedBySomeoneElseIsRefused(@TempDir Path tmp) throws Exception {
        int self = NativeCache.filesystemUid();
        Path root;
        if (self == 0) {
            root = Files.createDirectories(tmp.resolve("other").resolve("stockade"));
            Files.setPosixFilePermissions(root, OWNER_ONLY);
            Files.setAttribute(root, "unix:uid", 65534);
        } else {
            // Not root: we cannot give a directory away, but / belongs to root. Nothing is
            // created there: the refusal comes before any write.
            root = Path.of("/");
            assertEquals(0, Files.readAttributes(root, "unix:uid").get("uid"));
        }
        int owner = (Integer) Files.readAttributes(root, "unix:uid").get("uid");
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(root).install());
        assertEquals("refusing native cache directory " + root + ": it is owned by uid " + owner
                + ", not by this user (uid " + self + "); remove it, or set XDG_CACHE_HOME to a"
                + " directory of your own", e.getMessage());
    }

    /**
     * The cache's own levels are not followed through links, even to a directory of this
     * user: whoever can change the link decides what is loaded.
     */
    @Test
    void aCacheDirectoryThatIsASymbolicLinkIsRefused(@TempDir Path tmp) throws IOException {
        Path real = Files.createDirectories(tmp.resolve("real").resolve("stockade"));
        Files.setPosixFilePermissions(real, OWNER_ONLY);
        NativeInstaller.Installation direct = installer(real).install();
        assertTrue(Files.exists(direct.helper()), "the directory itself is fine");

        Path root = Files.createDirectories(tmp.resolve("linked")).resolve("stockade");
        Files.createSymbolicLink(root, real);
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(root).install());
        assertEquals("refusing native cache directory " + root + ": it is a symbolic link, and"
                + " whoever can change a link decides what gets loaded: remove it, or set"
                + " XDG_CACHE_HOME to a directory of your own", e.getMessage());

        // The version directory too: the stockade directory is real, its entry is a link.
        Path root2 = Files.createDirectories(tmp.resolve("versionlink").resolve("stockade"));
        Files.setPosixFilePermissions(root2, OWNER_ONLY);
        Path version = root2.resolve(direct.library().getParent().getFileName());
        Files.createSymbolicLink(version, direct.library().getParent());
        NativeLoadException v = assertThrows(NativeLoadException.class,
                () -> installer(root2).install());
        assertTrue(v.getMessage().startsWith("refusing native cache directory " + version
                + ": it is a symbolic link"), v.getMessage());
    }

    /** XDG_CACHE_HOME itself may be a link: what is checked and used is where it leads. */
    @Test
    void aLinkedXdgCacheHomeIsFollowedAndItsTargetChecked(@TempDir Path tmp) throws IOException {
        Path target = Files.createDirectory(tmp.resolve("disk"));
        Path base = Files.createSymbolicLink(tmp.resolve("xdg"), target);
        NativeInstaller.Installation installed = installer(base.resolve("stockade")).install();
        assertEquals(target.resolve("stockade"), installed.library().getParent().getParent());

        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxrwxrwx"));
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(base.resolve("stockade")).install());
        assertTrue(e.getMessage().startsWith("refusing native cache directory "
                + target.resolve("stockade") + ": directory " + target + " is writable by group"
                + " or others (mode 0777) and not sticky"), e.getMessage());
    }

    /**
     * Every directory above the cache counts (OpenSSH's secure-path rule): a parent others can
     * write to could have the cache renamed away and replaced. Sticky (like /tmp) is fine.
     */
    @Test
    void aParentDirectoryOthersCanChangeIsRefused(@TempDir Path tmp) throws IOException {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Path root = open.resolve("cache").resolve("stockade");
        chmod("1777", open); // java.nio cannot set the sticky bit
        assertTrue(Files.exists(installer(root).install().helper()), "sticky is fine");

        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(root).install());
        assertEquals("refusing native cache directory " + root + ": directory " + open + " is"
                + " writable by group or others (mode 0777) and not sticky, so another user"
                + " could replace the natives in it: set XDG_CACHE_HOME to a directory that"
                + " only you and root can change, like every directory above it",
                e.getMessage());

        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwx---"));
        NativeLoadException group = assertThrows(NativeLoadException.class,
                () -> installer(root).install());
        assertTrue(group.getMessage().contains("directory " + open + " is writable by group or"
                + " others (mode 0770) and not sticky"), group.getMessage());

        int self = NativeCache.filesystemUid();
        if (self == 0) {
            // Only root can give a directory away; for others the check is the same code.
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setAttribute(open, "unix:uid", 65534);
            NativeLoadException owned = assertThrows(NativeLoadException.class,
                    () -> installer(root).install());
            assertTrue(owned.getMessage().startsWith("refusing native cache directory " + root
                    + ": directory " + open + " is owned by uid 65534, neither this user (uid 0)"
                    + " nor root"), owned.getMessage());
        }
    }

    private static void chmod(String mode, Path path) throws IOException {
        try {
            Process chmod = new ProcessBuilder("chmod", mode, path.toString()).inheritIO().start();
            assertEquals(0, chmod.waitFor(), "chmod " + mode + " " + path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** An installed copy is held to the same rule: its directories and the file itself. */
    @Test
    void anInstalledCopyOthersCanChangeIsRefused(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("opt"));
        Path installedHelper = Files.write(dir.resolve("stockade-helper"), helper);
        Files.setPosixFilePermissions(installedHelper, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(installedHelper,
                installer(tmp.resolve("stockade"), null, installedHelper).install().helper());

        Files.setPosixFilePermissions(installedHelper, PosixFilePermissions.fromString("rwxrwxrwx"));
        NativeLoadException file = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), null, installedHelper).install());
        assertEquals("refusing stockade.helper=" + installedHelper + ": file " + installedHelper
                + " is writable by group or others (mode 0777), so another user could replace"
                + " it: install stockade-helper where only you and root can change it and its"
                + " directories", file.getMessage());

        Files.setPosixFilePermissions(installedHelper, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        NativeLoadException directory = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), null, installedHelper).install());
        assertTrue(directory.getMessage().startsWith("refusing stockade.helper="
                + installedHelper + ": directory " + dir + " is writable by group or others"),
                directory.getMessage());
    }

    @Test
    void theVersionDirectoryIsCheckedToo(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("stockade");
        Path directory = root.resolve(NativeLoader.VERSION + "-"
                + NativeCache.contentHash(bothNatives()));
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(root).install());
        assertTrue(e.getMessage().startsWith("refusing native cache directory " + directory),
                e.getMessage());
    }

    // ---- diagnoses ----

    /**
     * A cache on a noexec mount. The tmpfs is mounted in a throwaway user+mount namespace
     * (unshare), never on the host, and a child JVM in that namespace tries to install there.
     */
    @Test
    void aNoexecCacheLocationIsDiagnosed(@TempDir Path tmp) throws Exception {
        Process probe = start(List.of("unshare", "--user", "--map-root-user", "--mount", "true"),
                Map.of());
        ChildResult canUnshare = finish(probe);
        assumeTrue(canUnshare.exitCode() == 0,
                "no unprivileged user+mount namespaces here: " + canUnshare.stderr());

        Path mountPoint = Files.createDirectory(tmp.resolve("noexec"));
        ChildResult result = finish(start(installOnTmpfs(mountPoint, "noexec,nosuid,nodev"),
                Map.of()));
        assertEquals(3, result.exitCode(), result.stdout() + result.stderr());
        Pattern expected = Pattern.compile("NativeLoadException: cannot execute (\\S+): mount "
                + Pattern.quote(mountPoint.toString()) + " is noexec: set stockade.helper or"
                + " XDG_CACHE_HOME to an executable location\n");
        Matcher matcher = expected.matcher(result.stdout());
        assertTrue(matcher.matches(), result.stdout() + result.stderr());
        assertTrue(matcher.group(1).endsWith("/stockade-helper"), matcher.group(1));

        // The same install on a tmpfs without noexec gets past that: the mount option is the
        // cause. Run by root, it installs. Run by another user, the namespace maps only that
        // user, so / shows as owned by the overflow uid and the parent check refuses it.
        ChildResult allowed = finish(start(installOnTmpfs(mountPoint, "nosuid,nodev"), Map.of()));
        if (NativeCache.filesystemUid() == 0) {
            assertEquals(0, allowed.exitCode(), allowed.stdout() + allowed.stderr());
            assertEquals("installed\n", allowed.stdout());
        } else {
            assertEquals(3, allowed.exitCode(), allowed.stdout() + allowed.stderr());
            assertEquals("NativeLoadException: refusing native cache directory "
                    + mountPoint.resolve("stockade") + ": directory / is owned by uid "
                    + overflowUid() + ", neither this user (uid 0) nor root, so another user"
                    + " could replace the natives in it: set XDG_CACHE_HOME to a directory that"
                    + " only you and root can change, like every directory above it\n",
                    allowed.stdout());
        }
    }

    private static int overflowUid() throws IOException {
        // Not Files.readString: it reads a file of size 0 one byte first, and a sysctl answers
        // a read at a later offset with EOF ("65534" would read as "6").
        return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/overflowuid"))
                .get(0).trim());
    }

    /** A child JVM installing into a fresh tmpfs at mountPoint, in its own namespaces. */
    private static List<String> installOnTmpfs(Path mountPoint, String options) {
        List<String> command = new ArrayList<>(List.of("unshare", "--user", "--map-root-user",
                "--mount", "--propagation", "private", "sh", "-euc",
                "mount -t tmpfs -o " + options + ",mode=0700 stockade-test \"$0\"; exec \"$@\"",
                mountPoint.toString()));
        command.addAll(childJava(ChildMain.class.getName(), "install",
                mountPoint.resolve("stockade").toString()));
        return command;
    }

    @Test
    void aLibraryForAnotherArchitectureIsDiagnosed(@TempDir Path tmp) throws IOException {
        byte[] otherMachine = library.clone();
        int foreign = platform.elfMachine() == 62 ? 183 : 62;
        otherMachine[18] = (byte) foreign;
        otherMachine[19] = 0;
        Path foreignLibrary = Files.write(tmp.resolve("foreign.so"), otherMachine);
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), foreignLibrary, null).install());
        assertEquals("stockade.library=" + foreignLibrary + " cannot be used: it is built for "
                + (foreign == 183 ? "aarch64" : "x86_64") + ", this JVM runs on "
                + platform.architecture() + ": use the Stockade build for "
                + platform.resourceDirectory() + ", or set -Dstockade.library to a libstockade.so"
                + " built for it", e.getMessage());

        byte[] elf32 = library.clone();
        elf32[4] = 1;
        Path thirtyTwo = Files.write(tmp.resolve("elf32.so"), elf32);
        NativeLoadException classMismatch = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), thirtyTwo, null).install());
        assertTrue(classMismatch.getMessage().contains("it is a 32-bit ELF file (wrong ELF"
                + " class)"), classMismatch.getMessage());

        Path script = Files.writeString(tmp.resolve("helper.sh"), "#!/bin/sh\n");
        NativeLoadException notElf = assertThrows(NativeLoadException.class,
                () -> installer(tmp.resolve("stockade"), null, script).install());
        assertTrue(notElf.getMessage().startsWith("stockade.helper=" + script
                + " cannot be used: it is not an ELF file"), notElf.getMessage());
    }

    @Test
    void aJarWithoutNativesIsDiagnosed(@TempDir Path tmp) {
        NativeInstaller withoutNatives = new NativeInstaller(platform, NativeLoader.VERSION,
                tmp.resolve("stockade"), resource -> null, null, null);
        NativeLoadException e = assertThrows(NativeLoadException.class, withoutNatives::install);
        assertEquals("the Stockade jar has no libstockade.so for " + platform.resourceDirectory()
                + " (/META-INF/native/" + platform.resourceDirectory() + "/libstockade.so is not"
                + " on the class path): use a jar built with its natives (mvn package builds"
                + " them), or set -Dstockade.library=<path> to an installed copy", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("stockade")), "nothing created");
    }

    @Test
    void withoutACacheDirectoryOnlyOverridesWork(@TempDir Path tmp) {
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> installer(null).install());
        assertTrue(e.getMessage().startsWith("no directory to extract the Stockade natives to"),
                e.getMessage());
    }

    @Test
    void cacheRootFollowsXdgThenHome() {
        assertEquals(Path.of("/x/cache/stockade"), NativeInstaller.defaultCacheRoot("/x/cache", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/stockade"), NativeInstaller.defaultCacheRoot("", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/stockade"),
                NativeInstaller.defaultCacheRoot("relative/cache", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/stockade"), NativeInstaller.defaultCacheRoot(null, "/home/u"));
        assertNull(NativeInstaller.defaultCacheRoot(null, "?"));
    }

    @Test
    void platformsMapToResourceDirectories() {
        assertEquals("linux-x86_64", Platform.of("Linux", "amd64").resourceDirectory());
        assertEquals("linux-x86_64", Platform.of("Linux", "x86_64").resourceDirectory());
        assertEquals("linux-aarch64", Platform.of("Linux", "aarch64").resourceDirectory());
        assertEquals("/META-INF/native/linux-x86_64/libstockade.so",
                Platform.of("Linux", "amd64").resource("libstockade.so"));
        NativeLoadException mac = assertThrows(NativeLoadException.class,
                () -> Platform.of("Mac OS X", "aarch64"));
        // What the jar holds: this build's natives, for x86_64 only.
        assertEquals(List.of("linux-x86_64"), Platform.shipped());
        assertEquals("Stockade runs on Linux only, and this jar has natives for linux-x86_64"
                + " only; this JVM reports os.name=Mac OS X, os.arch=aarch64: run it on a"
                + " supported platform (sandboxing uses Linux kernel features)",
                mac.getMessage());
        assertThrows(NativeLoadException.class, () -> Platform.of("Linux", "ppc64le"));
        assertThrows(NativeLoadException.class, () -> Platform.of("Linux", "x86"));
    }

    @Test
    void mountTableLookupPicksTheInnermostLatestMount() {
        List<String> table = List.of(
                "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
                "30 22 0:40 / /tmp rw,nosuid - tmpfs tmpfs rw",
                "31 30 0:41 / /tmp/with\\040space rw,noexec - tmpfs tmpfs rw",
                "32 30 0:42 / /tmp/stacked rw,noexec - tmpfs tmpfs rw",
                "33 30 0:43 / /tmp/stacked rw - tmpfs tmpfs rw");
        assertEquals(Path.of("/tmp/with space"), MountInfo.containing(
                Path.of("/tmp/with space/x"), table).orElseThrow().mountPoint());
        assertTrue(MountInfo.containing(Path.of("/tmp/with space/x"), table).orElseThrow().noexec());
        assertFalse(MountInfo.containing(Path.of("/tmp/stacked/x"), table).orElseThrow().noexec());
        assertEquals(Path.of("/tmp"), MountInfo.containing(
                Path.of("/tmp/with"), table).orElseThrow().mountPoint());
        assertEquals(Path.of("/"), MountInfo.containing(Path.of("/usr/bin"), table).orElseThrow()
                .mountPoint());
        assertEquals("a\\b", MountInfo.unescape("a\\134b"));
    }

    /** The version names the cache directory; it must be the build's. */
    @Test
    void versionMatchesThePom() throws IOException {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        Path pom = null;
        for (Path candidate = dir; candidate != null; candidate = candidate.getParent()) {
            if (Files.isRegularFile(candidate.resolve("pom.xml"))) {
                pom = candidate.resolve("pom.xml");
                break;
            }
        }
        assertNotNull(pom, "pom.xml above " + dir);
        String text = Files.readString(pom);
        // The reactor's version: the parent's, in the root pom or a module's <parent>.
        Matcher matcher = Pattern.compile("<artifactId>stockade-parent</artifactId>\\s*"
                + "<version>([^<]+)</version>").matcher(text);
        assertTrue(matcher.find(), "no project version in " + pom);
        assertEquals(matcher.group(1), NativeLoader.VERSION);
    }

    @Test
    void contentHashDependsOnNamesAndContent() {
        Map<String, byte[]> a = new LinkedHashMap<>();
        a.put("x", new byte[] {1, 2});
        a.put("y", new byte[] {3});
        Map<String, byte[]> b = new LinkedHashMap<>();
        b.put("x", new byte[] {1});
        b.put("y", new byte[] {2, 3});
        assertNotEquals(NativeCache.contentHash(a), NativeCache.contentHash(b));
        assertEquals(NativeCache.contentHash(a), NativeCache.contentHash(new LinkedHashMap<>(a)));
        assertArrayEquals(NativeCache.sha256(new byte[0]), NativeCache.sha256(new byte[0]));
    }
}
