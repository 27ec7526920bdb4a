package dev.stockade.maven;

import dev.stockade.CollectedOutputs;
import dev.stockade.CommitResult;
import dev.stockade.Outputs;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxSetupException;
import dev.stockade.SandboxedProcess;
import dev.stockade.cli.CollectSummary;
import dev.stockade.cli.CommitSummary;
import dev.stockade.cli.ConnectionSummary;
import dev.stockade.cli.DurationParser;
import dev.stockade.cli.ErrorHandler;
import dev.stockade.cli.LimitMessage;
import dev.stockade.cli.ViolationSummary;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProject;

/**
 * Runs a command in a Stockade sandbox as a step of the build. The build fails when the sandbox
 * cannot be set up (the step and errno), when the command exits non-zero or is killed (its
 * status, the limit it hit or the timeout), and every system call the profile denied and every
 * connection refused is printed after it. The command's output goes to the build log as it
 * comes, stdout at INFO, stderr at WARNING.
 *
 * <p>Thread-safe: each execution builds its own policy and sandbox, so a multi-module build
 * with {@code -T} runs several steps at once.
 */
@Mojo(name = "exec", defaultPhase = LifecyclePhase.GENERATE_SOURCES, threadSafe = true)
public class ExecMojo extends SandboxMojo {

    @Parameter(defaultValue = "${project}", readonly = true, required = true)
    MavenProject project;

    /** The program, looked up in the sandbox's PATH when it has no slash. */
    @Parameter(property = "stockade.executable", required = true)
    String executable;

    /** The program's arguments, in order. */
    @Parameter
    List<String> arguments = new ArrayList<>();

    /**
     * Globs (relative to {@code writableDirectory}, or to the workspace when
     * {@code transactional}) of files to copy into {@code outputDirectory} after the step
     * exits 0: regular files only, never through a symbolic link. For a step given a scratch
     * {@code writableDirectory} of its own, whose results the build takes from elsewhere.
     */
    @Parameter
    List<String> outputs = new ArrayList<>();

    /**
     * Where {@code outputs} are copied to (at their relative paths): required with
     * {@code outputs}, outside the directory the step could write.
     */
    @Parameter
    File outputDirectory;

    /**
     * A directory added to the project's compile source roots after the step exits 0, for a
     * step that generates Java sources.
     */
    @Parameter
    File compileSourceRoot;

    /** Leaves the step out (the build goes on as if it had passed). */
    @Parameter(property = "stockade.skip", defaultValue = "false")
    boolean skip;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("stockade: skipped (stockade.skip)");
            return;
        }
        SandboxPolicy policy = policy();
        Path into = outputDirectory(policy);
        List<String> command = new ArrayList<>();
        command.add(executable);
        arguments.stream().map(a -> Objects.requireNonNullElse(a, "")).forEach(command::add);
        getLog().info("stockade: " + String.join(" ", command) + " (" + describe(policy) + ")");

        SandboxResult result = run(command, policy);
        report(result, policy);
        failUnlessPassed(result, policy);
        if (into != null) {
            collectOutputs(policy, into);
        }
        if (compileSourceRoot != null) {
            project.addCompileSourceRoot(compileSourceRoot.getAbsolutePath());
        }
    }

    private SandboxResult run(List<String> command, SandboxPolicy policy)
            throws MojoExecutionException {
        SandboxedProcess process;
        try {
            process = Sandbox.command(command)
                    .policy(policy)
                    .directory(workingDirectory())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .onOutputLine(line -> getLog().info(ErrorHandler.oneLine(line)))
                    .onErrorLine(line -> getLog().warn(ErrorHandler.oneLine(line)))
                    .start();
        } catch (SandboxSetupException e) {
            throw new MojoExecutionException("stockade: " + executable + ": "
                    + ErrorHandler.oneLine(e.getMessage()), e);
        } catch (IOException | RuntimeException e) {
            throw new MojoExecutionException("stockade: " + executable + ": the sandbox could not"
                    + " start: " + ErrorHandler.oneLine(e.getMessage()), e);
        }
        try (process) {
            // Every line has been logged when the result is there (the sandbox's pid namespace).
            return process.result();
        } catch (InterruptedException e) {
            // The build is being stopped: close() above ends the step, then Maven stops.
            Thread.currentThread().interrupt();
            throw new MojoExecutionException("stockade: " + executable + ": interrupted; the"
                    + " sandbox was killed", e);
        }
    }

    private void report(SandboxResult result, SandboxPolicy policy) {
        result.notes().forEach(n -> getLog().warn("stockade: note: " + ErrorHandler.oneLine(n)));
        result.violations().forEach(v -> getLog().warn(ViolationSummary.line(v)));
        result.connections().stream().map(ConnectionSummary::line).filter(Objects::nonNull)
                .forEach(getLog()::warn);
        result.commit().ifPresent(c -> c.skipped().stream().map(CommitSummary::line)
                .forEach(getLog()::warn));
        getLog().info("stockade: " + executable + ": " + status(result) + " in "
                + DurationParser.format(result.wallTime()));
        LimitMessage.line(result, policy).ifPresent(getLog()::warn);
    }

    private void failUnlessPassed(SandboxResult result, SandboxPolicy policy)
            throws MojoExecutionException, MojoFailureException {
        if (result.setupError().isPresent()) {
            throw new MojoExecutionException("stockade: " + executable + ": "
                    + ErrorHandler.oneLine(result.setupError().get().message()));
        }
        String why = result.timedOut()
                ? "timed out after " + DurationParser.format(policy.timeout().orElseThrow())
                : LimitMessage.describe(result, policy).orElse(status(result));
        if (result.timedOut() || result.exitCode() != 0) {
            throw new MojoFailureException("stockade: " + executable + " failed: " + why
                    + (result.violations().isEmpty() ? "" : " (system calls the profile denied"
                            + " are listed above)"));
        }
        Optional<String> notApplied = result.commit().flatMap(CommitResult::failure);
        if (notApplied.isPresent()) {
            throw new MojoExecutionException("stockade: " + executable + ": the workspace changes"
                    + " were not all applied: " + ErrorHandler.oneLine(notApplied.get()));
        }
    }

    /**
     * Where the outputs go, checked before the step runs: {@code null} without outputs.
     */
    private Path outputDirectory(SandboxPolicy policy) throws MojoExecutionException {
        if (outputs.isEmpty()) {
            return null;
        }
        if (outputDirectory == null) {
            throw ConfigurationProblem.of("outputDirectory", "needed with <outputs>: where"
                    + " the step's files are copied to");
        }
        Path into = outputDirectory.toPath().toAbsolutePath().normalize();
        Path writable = policy.workspace().orElseThrow();
        if (into.startsWith(writable) || writable.startsWith(into)) {
            throw ConfigurationProblem.of("outputDirectory", into + " and the directory the"
                    + " step writes (" + writable + ") lie in each other: give a writable"
                    + " directory of the step's own (<writableDirectory>) and an output"
                    + " directory outside it");
        }
        return into;
    }

    private void collectOutputs(SandboxPolicy policy, Path into) throws MojoExecutionException {
        CollectedOutputs collected;
        try {
            collected = Outputs.matching(outputs).collect(policy.workspace().orElseThrow(), into);
        } catch (IllegalArgumentException e) {
            throw ConfigurationProblem.of("outputs", e.getMessage());
        } catch (IOException e) {
            throw new MojoExecutionException("stockade: collecting the outputs into "
                    + into + ": " + ErrorHandler.oneLine(e.getMessage()), e);
        }
        collected.skipped().stream().map(CollectSummary::skippedLine).forEach(getLog()::warn);
        getLog().info(CollectSummary.line(collected, into));
    }

    private static String status(SandboxResult result) {
        if (result.signal() != 0) {
            return "killed by signal " + result.signal();
        }
        return "exit status " + result.exitCode();
    }

    private String describe(SandboxPolicy policy) {
        Path shown = workspace.toPath().toAbsolutePath().normalize();
        String view = transactional ? shown + " transactional" : shown + " read-only, "
                + policy.workspace().orElseThrow() + " writable";
        return view + ", network " + network;
    }
}
