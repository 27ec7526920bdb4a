package dev.stockade.maven;

import dev.stockade.Limits;
import dev.stockade.cli.CountParser;
import dev.stockade.cli.SizeParser;
import java.util.function.LongConsumer;
import java.util.function.Function;
import org.apache.maven.plugin.MojoExecutionException;

/**
 * The {@code <limits>} element of the plugin's configuration. Each value is written as the
 * CLI's option of the same meaning takes it (sizes {@code 512m}, {@code 1g}; counts and seconds
 * plain whole numbers) and parsed by the same parser; a limit left out keeps
 * {@link Limits#defaults()}. Maven sets the fields by name from the POM.
 */
public class LimitParameters {
    /** Memory of the whole sandbox through a cgroup (CLI {@code --memory}), e.g. {@code 1g}. */
    String memory;
    /** CPU time of the whole sandbox in CPUs (CLI {@code --cpus}), e.g. {@code 1.5}. */
    Double cpus;
    /** The most processes (CLI {@code --processes}). */
    String processes;
    /** The most open files per process (CLI {@code --open-files}). */
    String openFiles;
    /** CPU seconds per process (CLI {@code --cpu-time}). */
    String cpuTime;
    /** The largest file a process may write (CLI {@code --max-file-size}), e.g. {@code 100m}. */
    String maxFileSize;
    /** Address space per process (RLIMIT_AS), e.g. {@code 4g}. */
    String addressSpace;
    /** Stack per process (RLIMIT_STACK), e.g. {@code 8m}. */
    String stack;

    /**
     * These limits over the defaults; their bounds are checked with the rest of the policy by
     * {@code SandboxPolicy.Builder.build()}.
     *
     * @throws MojoExecutionException naming the first value that does not parse
     */
    Limits toLimits() throws MojoExecutionException {
        Limits.Builder limits = Limits.builder();
        set("memory", memory, SizeParser::parse, limits::memoryBytes);
        set("processes", processes, CountParser::parse, limits::processes);
        set("openFiles", openFiles, CountParser::parse, limits::openFiles);
        set("cpuTime", cpuTime, CountParser::parse, limits::cpuTimeSeconds);
        set("maxFileSize", maxFileSize, SizeParser::parse, limits::fileSizeBytes);
        set("addressSpace", addressSpace, SizeParser::parse, limits::addressSpaceBytes);
        set("stack", stack, SizeParser::parse, limits::stackBytes);
        if (cpus != null) {
            limits.cpus(cpus);
        }
        return limits.build();
    }

    private static void set(String name, String value, Function<String, Long> parse,
            LongConsumer into) throws MojoExecutionException {
        if (value != null) {
            into.accept(ConfigurationProblem.parse("limits/" + name, value, parse));
        }
    }
}
