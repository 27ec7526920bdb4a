package dev.stockade;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts a second JVM with this test run's classpath, running a main class of the tests. */
final class ChildJvm {
    private ChildJvm() {}

    static Process start(Class<?> mainClass, String... args) throws IOException {
        return start(Map.of(), mainClass, args);
    }

    /** With {@code env} added to the child's environment. */
    static Process start(Map<String, String> env, Class<?> mainClass, String... args)
            throws IOException {
        return start(env, List.of(), mainClass, args);
    }

    /** With {@code env} added to the child's environment and {@code jvmOptions} (e.g. -Xmx). */
    static Process start(Map<String, String> env, List<String> jvmOptions, Class<?> mainClass,
            String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(jvmOptions, mainClass, args));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** The command line {@link #start} runs, for a caller that runs it under a wrapper. */
    static List<String> command(List<String> jvmOptions, Class<?> mainClass, String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin"
                        + File.separator + "java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        // Where the natives are, when the run points at installed copies.
        for (String name : List.of("stockade.helper", "stockade.library")) {
            String v = System.getProperty(name);
            if (v != null) {
                cmd.add("-D" + name + "=" + v);
            }
        }
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmOptions);
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }
}
