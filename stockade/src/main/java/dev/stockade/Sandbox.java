package dev.stockade;

import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.Platform;
import java.io.IOException;
import java.util.List;

/**
 * Entry point: {@code Sandbox.command("make", "test").policy(policy).start()} runs a command in a
 * new Linux sandbox the way {@code new ProcessBuilder("make", "test").start()} runs it plainly;
 * {@link #probe()} tells what this kernel and user allow.
 */
public final class Sandbox {
    private Sandbox() {}

    /**
     * A builder for a command with the default policy ({@link SandboxPolicy#defaults()}).
     *
     * @param command the program and its arguments (argv[0] is the program, looked up in the
     *     policy's PATH); no element may be {@code null}
     * @return a new builder; nothing is started until {@link SandboxBuilder#start()}
     */
    public static SandboxBuilder command(String... command) {
        return new SandboxBuilder(List.of(command));
    }

    /**
     * A builder for a command with the default policy ({@link SandboxPolicy#defaults()}).
     *
     * @param command the program and its arguments (argv[0] is the program, looked up in the
     *     policy's PATH); copied
     * @return a new builder; nothing is started until {@link SandboxBuilder#start()}
     */
    public static SandboxBuilder command(List<String> command) {
        return new SandboxBuilder(command);
    }

    /**
     * Asks the helper what this kernel and this user allow (user namespaces, seccomp, Landlock,
     * cgroups, ...), each with the reason when something is not available. On a platform
     * Stockade has no natives for ({@link #isSupported()} is {@code false}) the report holds one
     * unavailable feature, {@link ProbeReport#PLATFORM}, and where the natives cannot be loaded
     * one called {@link ProbeReport#NATIVES}, each saying why; neither throws.
     *
     * @return one feature per thing the helper tried, with shorthands for the usual questions
     * @throws IOException when the helper cannot be run or its report cannot be read
     */
    public static ProbeReport probe() throws IOException {
        return ProbeRunner.run();
    }

    /**
     * Whether Stockade can run in this JVM as far as its platform goes: Linux, on an
     * architecture this jar has natives for, or
     * with installed natives named by the system properties {@code stockade.library} and
     * {@code stockade.helper}. Loads nothing and never throws; what the kernel allows is
     * {@link #probe()}'s, which also says why this is {@code false}.
     *
     * @return {@code true} when the platform is supported
     */
    public static boolean isSupported() {
        return Platform.unsupportedReason() == null;
    }

    /**
     * Stockade's version, as in its pom.xml ({@code "1.2.0"}, {@code "1.3.0-SNAPSHOT"}): the
     * version its natives are extracted under, so it names the natives that run. Calling it
     * loads no natives.
     *
     * @return the version string
     */
    public static String version() {
        return NativeLoader.VERSION;
    }
}
