package dev.stockade.cli;

import dev.stockade.CommitResult;
import dev.stockade.Limits;
import dev.stockade.Mount;
import dev.stockade.Mounts;
import dev.stockade.Network;
import dev.stockade.Outputs;
import dev.stockade.PolicyException;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxSetupException;
import dev.stockade.SandboxedProcess;
import dev.stockade.SeccompProfile;
import dev.stockade.SetupError;
import dev.stockade.SetupStep;
import dev.stockade.WorkspaceMode;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code stockade run [options] -- COMMAND [ARG...]}: turns the options into a
 * {@link SandboxPolicy}, runs the command with the CLI's own stdio, and exits the way a shell
 * would report the command (its status, 128+N for signal N), plus 124 for a timeout and
 * 125/126/127 when the command never started.
 */
@Command(
        name = "run",
        sortOptions = false,
        customSynopsis = "stockade run [OPTION...] [--] COMMAND [ARG...]",
        // One string a paragraph, "" between them: the help wraps each to the width
        // (WordWrappedHelp), the man page makes each a paragraph; the first is the summary the
        // command list and the man page's name line show.
        description = {
            "Runs COMMAND in a new sandbox with this terminal's stdin, stdout and stderr.",
            "",
            "A terminal among them is replaced by a pty of the sandbox's own, relayed to"
                    + " yours (Ctrl-C goes to COMMAND; your terminal's settings come back at the"
                    + " end). The workspace is bound read-write and is the working directory"
                    + " (--chdir). Of the host, the sandbox sees only /usr, /bin, /sbin, /lib*,"
                    + " /etc and /opt, read-only: no /home, /root, /var, /mnt, /media, /srv or"
                    + " /sys (--sys). $HOME is a private, empty tmpfs (--home-ro, --home-overlay"
                    + " put host paths in it); /tmp, /var/tmp and /run are private tmpfs mounts;"
                    + " /etc/passwd and /etc/group list only the sandbox's user.",
            "",
            "In the workspace .git (the whole repository, when there is one), .gitmodules,"
                    + " .envrc, .vscode and .idea are read-only (--protect, --unprotect; a step"
                    + " that commits needs --unprotect .git/).",
            "",
            "There is no network but the sandbox's own loopback, unless --net says otherwise"
                    + " (--net allow: only the --allow-host hosts, through a proxy; see"
                    + " docs/network.md).",
            "",
            "A COMMAND found on your PATH but not in the sandbox's view gets a warning naming"
                    + " --toolchain. The seccomp profile is 'build' unless --profile says"
                    + " otherwise; after the command, one line on stderr per system call a"
                    + " 'report' rule caught and per connection the proxy refused or could not"
                    + " make."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "  N:COMMAND's own exit status",
            "128+N:COMMAND was killed by signal N",
            "  2:bad command line or policy (nothing was started)",
            "124:COMMAND ran past --timeout and was killed",
            "125:the sandbox could not be set up (reason on stderr)",
            "126:COMMAND is not executable",
            "127:COMMAND was not found"
        })
final class RunCommand implements Callable<Integer> {

    /** Time the shutdown hook allows the sandbox to go away beyond the policy's kill grace. */
    private static final Duration SHUTDOWN_MARGIN = Duration.ofSeconds(5);

    @Spec
    CommandSpec spec;

    @Option(names = "--workspace", paramLabel = "DIR",
            description = "Bound read-write at the same path and the working directory "
                    + "(default: the current directory, unless that is your home directory or "
                    + "one of its ancestors, such as /: then --workspace is required). One "
                    + "that holds Stockade's own installation is refused.")
    Path workspace;

    @Option(names = "--chdir", paramLabel = "DIR",
            description = "The working directory inside the sandbox (default: the workspace): "
                    + "a path in the sandbox's view, a relative one from the workspace. It "
                    + "must exist there; else exit 125.")
    Path chdir;

    @Option(names = "--transactional",
            description = "Make the workspace transactional: the command's writes, renames and "
                    + "deletions go to a private tmpfs (--workspace-quota) and reach the "
                    + "workspace only when it exits 0, copied without following any symbolic "
                    + "link (FIFOs, sockets and device nodes are left out, set-id bits "
                    + "dropped); a failed, killed or timed-out command leaves the workspace as "
                    + "it was.")
    boolean transactional;

    @Option(names = "--workspace-quota", paramLabel = "SIZE", converter = SizeParser.class,
            description = "With --transactional: the most the command may change in the "
                    + "workspace (default " + (SandboxPolicy.DEFAULT_WORKSPACE_QUOTA_BYTES >> 20)
                    + "m); writing past it fails with ENOSPC inside (the disk limit), and a "
                    + "command that fills it is not committed, whatever its exit status.")
    Long workspaceQuota;

    @Option(names = "--ro-bind", paramLabel = "SRC[:DST]", converter = BindSpec.Converter.class,
            description = "Bind host path SRC read-only at DST (default: SRC). Repeatable.")
    List<BindSpec> readOnlyBinds = new ArrayList<>();

    @Option(names = "--ro-bind-idmapped", paramLabel = "SRC[:DST]",
            converter = BindSpec.Converter.class,
            description = "Root callers: as --ro-bind, with host root's files shown as the "
                    + "sandbox user's, so root-owned files are readable (root-only sockets and "
                    + "FIFOs in SRC become reachable too). Repeatable.")
    List<BindSpec> idmappedBinds = new ArrayList<>();

    @Option(names = "--ro-bind-socket", paramLabel = "SRC[:DST]",
            converter = BindSpec.Converter.class,
            description = "Bind a socket or FIFO SRC read-only at DST (a plain --ro-bind "
                    + "refuses them: connect() works through a read-only bind). Repeatable.")
    List<BindSpec> socketBinds = new ArrayList<>();

    @Option(names = "--bind", paramLabel = "SRC[:DST]", converter = BindSpec.Converter.class,
            description = "Bind host path SRC read-write at DST (default: SRC). Repeatable.")
    List<BindSpec> binds = new ArrayList<>();

    @Option(names = "--overlay", paramLabel = "SRC[:DST]", converter = BindSpec.Converter.class,
            description = "Host directory SRC at DST (default: SRC) copy-on-write: the command "
                    + "may change it, the changes go to a private tmpfs of "
                    + (Mounts.DEFAULT_OVERLAY_SIZE_BYTES >> 20) + " MiB and never reach "
                    + "SRC. Repeatable.")
    List<BindSpec> overlays = new ArrayList<>();

    @Option(names = "--toolchain", paramLabel = "PATH",
            description = "Bind the toolchain holding PATH read-only at its place: PATH if it "
                    + "is a directory, else its directory, or that one's parent when it is a "
                    + "bin directory; through a symbolic link also at its real path (e.g. "
                    + "java/current of ~/.sdkman/candidates). Repeatable.")
    List<Path> toolchains = new ArrayList<>();

    @Option(names = "--sys", description = "Show the host's /sys, read-only.")
    boolean sys;

    @Option(names = "--home-ro", paramLabel = "REL",
            description = "Bind REL of your home read-only at the same place in the sandbox's "
                    + "private home (e.g. .m2/repository). Repeatable.")
    List<String> homeReadOnly = new ArrayList<>();

    @Option(names = "--home-overlay", paramLabel = "REL",
            description = "Directory REL of your home in the private home, copy-on-write as "
                    + "--overlay (e.g. .gradle/caches). Repeatable.")
    List<String> homeOverlay = new ArrayList<>();

    @Option(names = "--home-size", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Size of the private home's tmpfs (default "
                    + (SandboxPolicy.DEFAULT_HOME_SIZE_BYTES >> 20) + "m).")
    Long homeSize;

    @Option(names = "--protect", paramLabel = "PATH",
            description = "Keep PATH of the workspace (relative; a trailing / for a directory) "
                    + "read-only, and uncreatable when missing, besides the default ones. "
                    + "Repeatable.")
    List<String> protect = new ArrayList<>();

    @Option(names = "--unprotect", paramLabel = "PATH",
            description = "Let the command change PATH, one of the protected paths. "
                    + "Repeatable.")
    List<String> unprotect = new ArrayList<>();

    @Option(names = "--tmpfs", paramLabel = "DST[:SIZE]", converter = TmpfsSpec.Converter.class,
            description = "A fresh tmpfs at DST of SIZE (e.g. 512k, 64m, 1g; default "
                    + (TmpfsSpec.DEFAULT_SIZE >> 20) + "m, also when it replaces a default "
                    + "one such as /tmp); writing past SIZE fails with ENOSPC. Repeatable.")
    List<TmpfsSpec> tmpfs = new ArrayList<>();

    @Option(names = "--net", paramLabel = "none|host|allow", converter = NetworkConverter.class,
            completionCandidates = NetworkConverter.Modes.class,
            description = "none: a private network with only loopback (default); "
                    + "host: the host's network; allow: the private network plus a proxy "
                    + "(HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, JAVA_TOOL_OPTIONS point at it) that "
                    + "reaches only the --allow-host hosts, resolving names on this side.")
    Network network = Network.NONE;

    @Option(names = "--allow-host", paramLabel = "PATTERN",
            description = "With --net allow: a host the command may reach: host (port 443), "
                    + "host:port, *.example.org[:port], an IPv4 address or [IPv6]:port. "
                    + "Loopback, link-local (169.254.169.254), private and the host's own "
                    + "addresses are reached only through an exact entry, never a wildcard. "
                    + "Repeatable; none: every connection is refused and listed.")
    List<String> allowHosts = new ArrayList<>();

    @Option(names = "--deny-host", paramLabel = "PATTERN",
            description = "With --net allow: a host refused even where an --allow-host "
                    + "pattern matches it (checked first; without a port: every port). "
                    + "Repeatable.")
    List<String> denyHosts = new ArrayList<>();

    @Option(names = "--env", paramLabel = "NAME=VALUE", converter = EnvAssignment.Converter.class,
            description = "Set an environment variable. Repeatable.")
    List<EnvAssignment> env = new ArrayList<>();

    @Option(names = "--pass-env", paramLabel = "NAME",
            description = "Pass the caller's value of NAME, if set. Repeatable.")
    List<String> passEnv = new ArrayList<>();

    @Option(names = "--unset-env", paramLabel = "NAME", converter = UnsetEnvName.class,
            description = "Remove NAME from the command's environment, a default one (PATH, "
                    + "HOME, LANG, TERM) too; it wins over --env and --pass-env of NAME. "
                    + "Repeatable.")
    List<String> unsetEnv = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationParser.class,
            description = "Kill the sandbox after DURATION (e.g. 250ms, 30s, 5m, 1h); exit 124.")
    Duration timeout;

    // "2s" is SandboxPolicy.DEFAULT_KILL_GRACE, a Duration, which an annotation cannot
    // name: HelpTextTest checks the two agree.
    @Option(names = "--kill-grace", paramLabel = "DURATION",
            converter = DurationParser.OrZero.class,
            description = "Time between SIGTERM and SIGKILL when the sandbox is stopped (at "
                    + "--timeout, Ctrl-C; default 2s); 0 for SIGKILL at once.")
    Duration killGrace;

    @Option(names = "--setup-timeout", paramLabel = "DURATION", converter = DurationParser.class,
            description = "Give up when the sandbox is not set up within DURATION (a bind "
                    + "source on a hung FUSE or NFS mount; default "
                    + SandboxPolicy.DEFAULT_SETUP_TIMEOUT_SECONDS + "s): exit 125 naming the step.")
    Duration setupTimeout;

    @Option(names = "--max-output", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Deliver at most SIZE bytes of the command's stdout and stderr "
                    + "together (e.g. 1m); what comes after is read and dropped, so the "
                    + "command is not blocked.")
    Long maxOutput;

    @Option(names = "--kill-at-max-output",
            description = "With --max-output: kill the sandbox at the first byte past SIZE "
                    + "instead of dropping the rest.")
    boolean killAtMaxOutput;

    @Option(names = "--open-files", paramLabel = "N", converter = CountParser.class,
            description = "At most N open files per process (RLIMIT_NOFILE; default "
                    + Limits.DEFAULT_OPEN_FILES_SOFT + " soft, " + Limits.DEFAULT_OPEN_FILES
                    + " hard).")
    Long openFiles;

    @Option(names = "--processes", paramLabel = "N", converter = CountParser.class,
            description = "At most N processes (default " + Limits.DEFAULT_PROCESSES + "): the"
                    + " sandbox's pids.max when it has cgroups (--memory or --cpus), else"
                    + " RLIMIT_NPROC for the sandbox's user.")
    Long processes;

    @Option(names = "--memory", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Memory of the whole sandbox (e.g. 512m), through a cgroup of its own;"
                    + " no swap. Where no cgroup is usable the start fails (run as root, or under"
                    + " systemd-run --user --scope -p Delegate=yes), unless"
                    + " --memory-best-effort.")
    Long memory;

    @Option(names = "--memory-best-effort",
            description = "Without a usable cgroup, bound --memory per process instead"
                    + " (RLIMIT_DATA) and say so.")
    boolean memoryBestEffort;

    @Option(names = "--cpus", paramLabel = "FRACTION",
            description = "CPU time of the whole sandbox in CPUs (e.g. 0.5: half of one CPU),"
                    + " through a cgroup of its own (cpu.max).")
    Double cpus;

    @Option(names = "--max-file-size", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Largest file a process may write (RLIMIT_FSIZE; e.g. 10m).")
    Long maxFileSize;

    @Option(names = "--cpu-time", paramLabel = "SECONDS", converter = CountParser.class,
            description = "CPU seconds per process (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL "
                    + Limits.CPU_TIME_KILL_AFTER_SECONDS + "s later.")
    Long cpuTime;

    @Option(names = "--memory-per-process", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Private memory each process may commit (RLIMIT_DATA; e.g. 512m). "
                    + "Works for JVMs and node, unlike an address-space limit; a bound per "
                    + "process, not of the whole sandbox.")
    Long memoryPerProcess;

    @Option(names = "--address-space", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Virtual memory per process (RLIMIT_AS; at least "
                    + (Limits.MIN_ADDRESS_SPACE_BYTES >> 20) + "m). A JVM or node does not "
                    + "start under 1 or 2 GiB of it: --memory-per-process is the bound for "
                    + "them.")
    Long addressSpace;

    @Option(names = "--stack", paramLabel = "SIZE", converter = SizeParser.class,
            description = "Stack size per process (RLIMIT_STACK; at least "
                    + (Limits.MIN_STACK_BYTES >> 10) + "k; default: inherited).")
    Long stack;

    @Option(names = "--uid", paramLabel = "N", converter = IdParser.class,
            description = "User id inside the sandbox (default: yours; "
                    + SandboxPolicy.ROOT_CALLER_DEFAULT_ID + " when you are root).")
    Integer uid;

    @Option(names = "--gid", paramLabel = "N", converter = IdParser.class,
            description = "Group id inside the sandbox (default: yours; "
                    + SandboxPolicy.ROOT_CALLER_DEFAULT_ID + " when you are root).")
    Integer gid;

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "The hostname inside the sandbox (default "
                    + SandboxPolicy.DEFAULT_HOSTNAME + "): labels of letters, digits and "
                    + "inner '-', separated by '.'.")
    String hostname;

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "The seccomp profile: build (default), strict, audit, none (no "
                    + "filter at all: unsafe, for finding out whether the filter is what "
                    + "breaks a step), or a file: a Stockade text profile or OCI / Docker "
                    + "seccomp JSON (told apart by content; ./build for a file named build).")
    String profile = "build";

    @Option(names = "--allow-setid",
            description = "Let the command create set-user-ID/set-group-ID files (unsafe: "
                    + "such a file left in the workspace stays set-id on the host; by default "
                    + "the set-id guard refuses them with EPERM under every profile).")
    boolean allowSetId;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Write a JSON report (exit code, signal, timeout, times, memory, "
                    + "set-up error, the system calls report rules caught, the connections "
                    + "--net allow's proxy was asked for) to FILE: written "
                    + "to a new file and renamed over FILE, never through a symbolic link; "
                    + "FILE must not lie in the workspace or another writable bind.")
    Path report;

    @Mixin
    CollectOptions collect = new CollectOptions();

    @Parameters(paramLabel = "COMMAND", arity = "1..*",
            description = "The command and its arguments (put them after --).")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        SandboxPolicy policy = policy();
        Outputs outputs = collect.outputs(spec.commandLine(), writableBindSources(policy));
        RunReport.Sink reportSink = openReport(policy);
        PrintWriter err = spec.commandLine().getErr();
        Path cwd = Path.of("").toAbsolutePath();
        Path directory = workingDirectory(policy);
        CommandLocator.warning(policy, command.get(0),
                directory != null ? directory : policy.workspace().orElse(cwd), cwd,
                System.getenv("PATH")).ifPresent(w -> err.println("stockade: warning: " + w));

        SandboxedProcess process;
        try {
            process = Sandbox.command(command)
                    .policy(policy)
                    .directory(directory)
                    .redirectInput(Redirect.INHERIT)
                    .redirectOutput(Redirect.INHERIT)
                    .redirectError(Redirect.INHERIT)
                    .start();
        } catch (SandboxSetupException e) {
            err.println("stockade: " + ErrorHandler.oneLine(e.getMessage()));
            reportSink.write(RunReport.ofSetupError(e.exitCode(), e.setupError()), err);
            return e.exitCode();
        } catch (IOException | IllegalStateException e) {
            // IllegalStateException: the natives could not be loaded (NativeLoadException).
            err.println("stockade: " + ErrorHandler.oneLine(e.getMessage()));
            reportSink.write(RunReport.ofSetupError(Main.EXIT_SETUP,
                    new SetupError(SetupStep.START, 0, String.valueOf(e.getMessage()))), err);
            return Main.EXIT_SETUP;
        }

        Thread stopOnShutdown = new Thread(() -> stop(process, policy), "stockade-shutdown");
        Runtime.getRuntime().addShutdownHook(stopOnShutdown);
        SandboxResult result;
        try {
            result = process.result();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            err.println("stockade: interrupted while waiting for the command; the sandbox was killed");
            return Main.EXIT_SETUP;
        } finally {
            removeShutdownHook(stopOnShutdown);
        }

        int exitCode = exitCode(result, err);
        LimitMessage.line(result, policy).ifPresent(err::println);
        result.notes().forEach(n -> err.println("stockade: note: " + ErrorHandler.oneLine(n)));
        exitCode = commitExitCode(exitCode, result, err);
        ViolationSummary.print(result.violations(), err);
        ConnectionSummary.print(result.connections(), err);
        RunReport.CollectedEntry collected = outputs == null ? null
                : collect.collect(outputs, policy, err);
        if (collected != null && collected.error() != null && exitCode == 0) {
            exitCode = Main.EXIT_SETUP;
        }
        reportSink.write(RunReport.of(exitCode, result).withCollected(collected), err);
        return exitCode;
    }

    /** The {@code --chdir} directory in the sandbox's view, or null for the default. */
    private Path workingDirectory(SandboxPolicy policy) {
        if (chdir == null) {
            return null;
        }
        if (chdir.isAbsolute()) {
            return chdir.normalize();
        }
        // The workspace is at its host path inside; without one (never from the CLI) the
        // sandbox's default working directory is /.
        return policy.workspace().orElse(Path.of("/")).resolve(chdir).normalize();
    }

    /** The exit status for {@code result}; says why on stderr when the command did not finish. */
    private int exitCode(SandboxResult result, PrintWriter err) {
        if (result.timedOut()) {
            err.println("stockade: timed out after " + DurationParser.format(timeout));
            return Main.EXIT_TIMEOUT;
        }
        if (result.setupError().isPresent()) {
            err.println("stockade: " + ErrorHandler.oneLine(result.setupError().get().message()));
            return Main.EXIT_SETUP;
        }
        return result.exitCode();
    }

    /**
     * A transactional workspace's commit: what it left out, one line each (at most the result's
     * list), and a commit that stopped, which fails the run (the command's changes are not all
     * in the workspace).
     */
    private static int commitExitCode(int exitCode, SandboxResult result, PrintWriter err) {
        if (result.commit().isEmpty()) {
            return exitCode;
        }
        CommitResult c = result.commit().get();
        c.skipped().stream().map(CommitSummary::line).forEach(err::println);
        if (c.failure().isPresent()) {
            err.println("stockade: the workspace changes were not all applied: "
                    + ErrorHandler.oneLine(c.failure().get()) + " (" + c.notApplied().size()
                    + (c.notApplied().size() >= CommitResult.MAX_LISTED ? " or more" : "")
                    + " not applied)");
            return exitCode == 0 ? Main.EXIT_SETUP : exitCode;
        }
        return exitCode;
    }

    /**
     * {@code --net} with the {@code --allow-host} and {@code --deny-host} patterns; the patterns
     * themselves are checked by {@link SandboxPolicy.Builder#build()} with the other settings.
     */
    private Network network() {
        if (network.mode() != Network.Mode.ALLOW_LIST) {
            if (!allowHosts.isEmpty() || !denyHosts.isEmpty()) {
                throw new ParameterException(spec.commandLine(), (allowHosts.isEmpty()
                        ? "--deny-host" : "--allow-host") + " needs --net allow");
            }
            return network;
        }
        return Network.allow(allowHosts.toArray(String[]::new))
                .deny(denyHosts.toArray(String[]::new));
    }

    /** Every option as one policy; policy problems are bad input, all reported on one line. */
    private SandboxPolicy policy() {
        Path cwd = Path.of("").toAbsolutePath();
        if (workspace == null) {
            refuseHomeAsDefaultWorkspace(cwd);
        }
        Path workspacePath = (workspace == null ? cwd : cwd.resolve(workspace)).normalize();
        if (workspaceQuota != null && !transactional) {
            throw new ParameterException(spec.commandLine(), "--workspace-quota needs"
                    + " --transactional: a direct workspace is the host directory itself, whose"
                    + " writes cannot be bounded");
        }
        SandboxPolicy.Builder builder = SandboxPolicy.builder()
                .workspace(workspacePath)
                .network(network())
                .seccomp(seccompProfile())
                .allowSetIdFiles(allowSetId);
        // A mount the user asks for at a default mount's place (--tmpfs /tmp:2g) replaces it
        // instead of clashing with it; two of the user's own mounts on one target still clash.
        for (BindSpec bind : readOnlyBinds) {
            builder.removeMount(bind.target());
        }
        for (BindSpec bind : binds) {
            builder.removeMount(bind.target());
        }
        for (BindSpec bind : idmappedBinds) {
            builder.removeMount(bind.target());
        }
        for (BindSpec bind : socketBinds) {
            builder.removeMount(bind.target());
        }
        for (TmpfsSpec mount : tmpfs) {
            builder.removeMount(mount.target());
        }
        for (BindSpec overlay : overlays) {
            builder.removeMount(overlay.target());
        }
        for (BindSpec bind : readOnlyBinds) {
            builder.bindReadOnly(bind.source(), bind.target());
        }
        for (BindSpec bind : binds) {
            builder.bind(bind.source(), bind.target());
        }
        for (BindSpec bind : idmappedBinds) {
            builder.mount(Mount.bindReadOnly(bind.source(), bind.target()).idmappingRoot());
        }
        for (BindSpec bind : socketBinds) {
            builder.mount(Mount.bindReadOnly(bind.source(), bind.target()).allowingSocket());
        }
        for (TmpfsSpec mount : tmpfs) {
            builder.tmpfs(mount.target(), mount.sizeBytes());
        }
        for (BindSpec overlay : overlays) {
            builder.mount(Mounts.overlay(overlay.source(), overlay.target()));
        }
        for (Path toolchain : toolchains) {
            builder.mounts(Mounts.toolchain(cwd.resolve(toolchain)));
        }
        if (sys) {
            builder.sys(true);
        }
        homeReadOnly.forEach(builder::homeReadOnly);
        homeOverlay.forEach(builder::homeOverlay);
        if (homeSize != null) {
            builder.homeSize(homeSize);
        }
        builder.protect(protect.toArray(String[]::new));
        builder.unprotect(unprotect.toArray(String[]::new));
        for (EnvAssignment assignment : env) {
            builder.env(assignment.name(), assignment.value());
        }
        for (String name : passEnv) {
            builder.passEnv(name);
        }
        unsetEnv.forEach(builder::unsetEnv);
        if (timeout != null) {
            builder.timeout(timeout);
        }
        if (setupTimeout != null) {
            builder.setupTimeout(setupTimeout);
        }
        if (killGrace != null) {
            builder.killGrace(killGrace);
        }
        if (hostname != null) {
            builder.hostname(hostname);
        }
        if (maxOutput != null) {
            builder.maxOutputBytes(maxOutput);
        }
        builder.killAtMaxOutput(killAtMaxOutput);
        builder.limits(limits());
        if (transactional) {
            builder.workspaceMode(WorkspaceMode.TRANSACTIONAL);
        }
        if (workspaceQuota != null) {
            builder.workspaceQuota(workspaceQuota);
        }
        if (uid != null) {
            builder.uid(uid);
        }
        if (gid != null) {
            builder.gid(gid);
        }
        try {
            return builder.build();
        } catch (PolicyException e) {
            throw new ParameterException(spec.commandLine(),
                    "invalid policy: " + String.join("; ", e.problems()));
        }
    }

    /** The {@code --profile}: problems in it are bad input, all of them on one line. */
    private SeccompProfile seccompProfile() {
        if (profile.equals("none")) {
            spec.commandLine().getErr().println("stockade: warning: --profile none: no seccomp"
                    + " filter, the command may make any system call");
            return SeccompProfile.none();
        }
        if (profile.equals("audit")) {
            spec.commandLine().getErr().println("stockade: warning: --profile audit denies no"
                    + " system call; it records what build would deny, for trying a step");
        }
        try {
            ProfileArgument.Loaded loaded = ProfileArgument.load(profile);
            return loaded.profile();
        } catch (PolicyException e) {
            throw new ParameterException(spec.commandLine(),
                    "invalid profile: " + String.join("; ", e.problems()));
        }
    }

    private Limits limits() {
        Limits.Builder limits = Limits.builder();
        if (openFiles != null) {
            limits.openFiles(openFiles);
        }
        if (processes != null) {
            limits.processes(processes);
        }
        if (memory != null) {
            limits.memoryBytes(memory).memoryBestEffort(memoryBestEffort);
        }
        if (cpus != null) {
            limits.cpus(cpus);
        }
        if (maxFileSize != null) {
            limits.fileSizeBytes(maxFileSize);
        }
        if (cpuTime != null) {
            limits.cpuTimeSeconds(cpuTime);
        }
        if (memoryPerProcess != null) {
            limits.memoryPerProcessBytes(memoryPerProcess);
        }
        if (addressSpace != null) {
            limits.addressSpaceBytes(addressSpace);
        }
        if (stack != null) {
            limits.stackBytes(stack);
        }
        return limits.build();
    }

    /**
     * The default workspace is the current directory, and the workspace is writable: run from
     * the home directory (or from /, /home, any directory that contains the home) it would hand
     * the command the caller's whole home, ~/.ssh and ~/.bashrc included. Only an explicit
     * --workspace may do that.
     */
    private void refuseHomeAsDefaultWorkspace(Path cwd) {
        for (String home : new String[] {System.getenv("HOME"), System.getProperty("user.home")}) {
            if (home == null || home.isEmpty() || !Path.of(home).isAbsolute()) {
                continue;
            }
            Path homeDir = realOrNormal(Path.of(home));
            Path current = realOrNormal(cwd);
            if (homeDir.startsWith(current)) {
                throw new ParameterException(spec.commandLine(), "the current directory "
                        + current + (homeDir.equals(current) ? " is your home directory"
                                : " contains your home directory " + homeDir)
                        + ": it would be the sandbox's writable workspace; cd to the project"
                        + " directory, or give --workspace DIR (--workspace " + current
                        + " if you really mean it)");
            }
        }
    }

    private static Path realOrNormal(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path.toAbsolutePath().normalize();
        }
    }

    /**
     * Opens the report file before anything starts, so a bad path is bad input, not lost work.
     * A report inside a writable bind of this run is refused: the command could plant a
     * symbolic link (or anything else) there and have the CLI write where it points.
     */
    private RunReport.Sink openReport(SandboxPolicy policy) {
        if (report == null) {
            return RunReport.Sink.NONE;
        }
        try {
            return RunReport.Sink.open(report, writableBindSources(policy));
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(),
                    "cannot write report " + report + ": " + ErrorHandler.oneLine(e.toString()));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The host directories (and files) the command may write: the workspace, --bind sources. */
    private static List<Path> writableBindSources(SandboxPolicy policy) {
        List<Path> writable = new ArrayList<>();
        policy.workspace().ifPresent(writable::add);
        for (Mount m : policy.mounts()) {
            if (m.type() == Mount.Type.BIND && !m.readOnly()) {
                writable.add(m.source());
            }
        }
        return writable;
    }

    /**
     * Ctrl-C or SIGTERM reached the CLI: stop the sandbox the way {@code destroy()} does
     * (SIGTERM, SIGKILL after the kill grace) and wait for it, so the JVM does not exit while
     * processes it started still run.
     */
    private static void stop(SandboxedProcess process, SandboxPolicy policy) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            Duration wait = policy.killGrace().plus(SHUTDOWN_MARGIN);
            if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(SHUTDOWN_MARGIN.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void removeShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting and the hook is running: it stops the sandbox.
        }
    }
}
