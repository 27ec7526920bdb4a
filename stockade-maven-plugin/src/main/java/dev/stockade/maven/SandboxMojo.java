package dev.stockade.maven;

import dev.stockade.Network;
import dev.stockade.PolicyException;
import dev.stockade.ProfileSources;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import dev.stockade.WorkspaceMode;
import dev.stockade.cli.DurationParser;
import dev.stockade.cli.ErrorHandler;
import dev.stockade.cli.ProfileArgument;
import dev.stockade.cli.SizeParser;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * What {@code stockade:exec} and {@code stockade:probe} share: the sandbox's policy as the POM
 * configures it, and the one place that turns that configuration into a
 * {@link SandboxPolicy} (or one error naming the parameter).
 *
 * <p>The default view is the project's directory read-only with its build directory
 * ({@code target/}) writable: a step can read the sources and write its output, and cannot
 * change the POM, the sources or another module. With {@code transactional} the whole project
 * directory is writable instead, and what the step changed is applied only when it exits 0.
 */
public abstract class SandboxMojo extends AbstractMojo {

    /** The project directory: in the sandbox's view at its own path, read-only. */
    @Parameter(defaultValue = "${project.basedir}", readonly = true, required = true)
    File basedir;

    /**
     * The directory the step sees read-only, at its host path; the default working directory.
     */
    @Parameter(property = "stockade.workspace", defaultValue = "${project.basedir}")
    File workspace;

    /**
     * The one directory the step may write, at its host path; made when missing. Inside the
     * workspace or not. Ignored when {@code transactional} is set.
     */
    @Parameter(property = "stockade.writableDirectory",
            defaultValue = "${project.build.directory}")
    File writableDirectory;

    /**
     * The whole workspace writable, as an overlay whose changes reach the project directory only
     * when the step exits 0 (a failed or killed step leaves it as it was).
     */
    @Parameter(property = "stockade.transactional", defaultValue = "false")
    boolean transactional;

    /** With {@code transactional}: the most the step may change, e.g. {@code 256m}. */
    @Parameter(property = "stockade.workspaceQuota")
    String workspaceQuota;

    /** More host paths in the view, each read-only at its own path (a toolchain, a cache). */
    @Parameter
    List<File> readOnlyPaths = new ArrayList<>();

    /**
     * {@code none} (the default: the sandbox has only its own loopback), {@code allow} (a
     * proxy that reaches only the {@code allowHosts}) or {@code host} (the host's network).
     */
    @Parameter(property = "stockade.network", defaultValue = "none")
    String network;

    /** With {@code network} {@code allow}: the host patterns the step may reach. */
    @Parameter
    List<String> allowHosts = new ArrayList<>();

    /** With {@code network} {@code allow}: patterns refused even when an allow entry matches. */
    @Parameter
    List<String> denyHosts = new ArrayList<>();

    /** Resource limits ({@link LimitParameters}); unset ones keep the defaults. */
    @Parameter
    LimitParameters limits;

    /**
     * The seccomp profile: a shipped profile's name ({@code stockade policy show}) or a file,
     * relative to the project directory (a Stockade text profile or OCI seccomp JSON).
     */
    @Parameter(property = "stockade.profile")
    String profile;

    /** Variables set in the step's environment, over the policy's own (PATH, HOME, LANG...). */
    @Parameter
    Map<String, String> environment = new LinkedHashMap<>();

    /** Names of variables of Maven's own environment passed to the step as they are. */
    @Parameter
    List<String> passEnvironment = new ArrayList<>();

    /** The most the step may run, e.g. {@code 10m}: then it is killed and the build fails. */
    @Parameter(property = "stockade.timeout")
    String timeout;

    /** The sandbox's hostname. */
    @Parameter
    String hostname;

    /** The policy this configuration asks for; every problem found at once, as one error. */
    SandboxPolicy policy() throws MojoExecutionException {
        SandboxPolicy.Builder policy = SandboxPolicy.builder();
        Path view = workspace.toPath().toAbsolutePath().normalize();
        if (transactional) {
            policy.workspace(view).workspaceMode(WorkspaceMode.TRANSACTIONAL);
            if (workspaceQuota != null) {
                policy.workspaceQuota(ConfigurationProblem.parse("workspaceQuota",
                        workspaceQuota, SizeParser::parse));
            }
        } else {
            if (workspaceQuota != null) {
                throw ConfigurationProblem.of("workspaceQuota", "needs <transactional>true");
            }
            Path writable = writableDirectory.toPath().toAbsolutePath().normalize();
            makeDirectory(writable);
            policy.workspace(writable);
            if (!writable.equals(view)) {
                policy.bindReadOnly(view, view);
            }
        }
        for (File path : readOnlyPaths) {
            Path p = path.toPath().toAbsolutePath().normalize();
            policy.bindReadOnly(p, p);
        }
        policy.network(network());
        if (limits != null) {
            policy.limits(limits.toLimits());
        }
        if (profile != null) {
            policy.seccomp(profile());
        }
        environment.forEach((name, value) -> policy.env(name, value == null ? "" : value));
        passEnvironment.forEach(policy::passEnv);
        if (timeout != null) {
            policy.timeout(ConfigurationProblem.parse("timeout", timeout, DurationParser::parse));
        }
        if (hostname != null) {
            policy.hostname(hostname);
        }
        try {
            return policy.build();
        } catch (PolicyException e) {
            throw new MojoExecutionException("stockade: the sandbox's configuration has "
                    + e.problems().size() + " problem(s): " + String.join("; ", e.problems()));
        }
    }

    /**
     * The directory the step runs in (default: the workspace); it must be in the sandbox's view
     * (the workspace, the writable directory, a read-only path), or the step does not start.
     */
    @Parameter(property = "stockade.workingDirectory")
    File workingDirectory;

    /** The directory the step runs in, at its host path (the same path in the view). */
    Path workingDirectory() {
        File dir = workingDirectory != null ? workingDirectory : workspace;
        return dir.toPath().toAbsolutePath().normalize();
    }

    private Network network() throws MojoExecutionException {
        Network mode = switch (network) {
            case "none" -> Network.NONE;
            case "host" -> Network.HOST;
            case "allow" -> Network.allow(allowHosts.toArray(String[]::new))
                    .deny(denyHosts.toArray(String[]::new));
            default -> throw ConfigurationProblem.of("network",
                    "'" + network + "' is not a network mode (expected none, host or allow)");
        };
        boolean patterns = !allowHosts.isEmpty() || !denyHosts.isEmpty();
        if (mode.mode() != Network.Mode.ALLOW_LIST && patterns) {
            throw ConfigurationProblem.of(allowHosts.isEmpty() ? "denyHosts" : "allowHosts",
                    "needs <network>allow</network>");
        }
        return mode;
    }

    private SeccompProfile profile() throws MojoExecutionException {
        // A shipped profile's name wins over a file of that name, as on the command line
        // (there, ./NAME is the file); any other value is a file of the project.
        String argument = ProfileSources.shippedNames().contains(profile) ? profile
                : basedir.toPath().resolve(profile).toString();
        try {
            ProfileArgument.Loaded loaded = ProfileArgument.load(argument);
            loaded.warnings().forEach(w -> getLog().warn("stockade: profile " + loaded.label()
                    + ": " + ErrorHandler.oneLine(w)));
            return loaded.profile();
        } catch (PolicyException e) {
            throw ConfigurationProblem.of("profile", String.join("; ", e.problems()));
        }
    }

    private static void makeDirectory(Path dir) throws MojoExecutionException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw ConfigurationProblem.of("writableDirectory",
                    "cannot make " + dir + ": " + ErrorHandler.oneLine(e.toString()));
        }
    }
}
