package dev.stockade.maven;

import dev.stockade.ProbeReport;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxSetupException;
import dev.stockade.SandboxedProcess;
import dev.stockade.cli.ErrorHandler;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;

/**
 * Prints what this kernel and user allow ({@link Sandbox#probe()}), then starts the sandbox the
 * configuration describes (the same parameters as {@code stockade:exec}) with {@code true} as its
 * command: the build fails, naming the set-up step and errno, when that sandbox cannot run
 * here. Bound to {@code validate} by default, so a build that cannot sandbox its steps stops
 * before it does anything.
 */
@Mojo(name = "probe", defaultPhase = LifecyclePhase.VALIDATE, threadSafe = true)
public class ProbeMojo extends SandboxMojo {

    @Override
    public void execute() throws MojoExecutionException {
        ProbeReport report;
        try {
            report = Sandbox.probe();
        } catch (IOException | RuntimeException e) {
            throw new MojoExecutionException("stockade: probe failed: "
                    + ErrorHandler.oneLine(e.getMessage()), e);
        }
        for (ProbeReport.Feature f : report.features()) {
            getLog().info(String.format("stockade: %-24s %-3s %s", f.name(),
                    f.available() ? "yes" : "no", ErrorHandler.oneLine(f.detail())));
        }
        if (!report.canRunDefaultPolicy()) {
            throw new MojoExecutionException("stockade: this kernel or user cannot run a sandbox"
                    + " (the features marked 'no' above)");
        }
        SandboxPolicy policy = policy();
        SandboxResult result;
        try (SandboxedProcess process = Sandbox.command("true").policy(policy)
                .directory(workingDirectory()).redirectInput(Redirect.from(new File("/dev/null")))
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start()) {
            result = process.result();
        } catch (SandboxSetupException e) {
            throw new MojoExecutionException("stockade: the configured sandbox cannot run here: "
                    + ErrorHandler.oneLine(e.getMessage()), e);
        } catch (IOException e) {
            throw new MojoExecutionException("stockade: the configured sandbox cannot run here: "
                    + ErrorHandler.oneLine(e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MojoExecutionException("stockade: interrupted while probing", e);
        }
        if (result.setupError().isPresent() || result.exitCode() != 0) {
            throw new MojoExecutionException("stockade: the configured sandbox cannot run here: "
                    + result.setupError().map(err -> ErrorHandler.oneLine(err.message()))
                            .orElse("true exited with status " + result.exitCode()));
        }
        getLog().info("stockade: the configured sandbox runs here");
    }
}
