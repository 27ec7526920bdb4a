package dev.stockade.cli;

import dev.stockade.SandboxSetupException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code stockade} command line: {@code stockade run ... -- COMMAND},
 * {@code stockade probe}, {@code stockade policy ...} and {@code stockade help [COMMAND]}.
 * {@link #execute} is the whole program minus {@code System.exit}, so tests run it in-process
 * and get the exit status back; {@link #commandLine()} is the complete command line the build
 * makes the man pages and the bash completion from.
 */
@Command(
        name = "stockade",
        mixinStandardHelpOptions = true,
        scope = ScopeType.INHERIT,
        versionProvider = VersionProvider.class,
        customSynopsis = {"stockade run [OPTION...] [--] COMMAND [ARG...]",
            "       stockade probe [--json]",
            "       stockade policy check FILE|NAME | show NAME",
            "       stockade policy export --oci FILE|NAME [-o OUT]",
            "       stockade help [COMMAND] | [COMMAND] --help | --version"},
        description = "Runs untrusted build steps in a Linux sandbox.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            " 0:success (probe: the default policy can run)",
            " 1:probe: the default policy cannot run on this machine",
            " 2:bad command line, policy or profile (nothing was started)"
        })
public final class Main implements Callable<Integer> {

    /** Bad command line or invalid policy; nothing was started. */
    public static final int EXIT_USAGE = 2;
    /** The command ran past {@code --timeout} (as coreutils' {@code timeout}). */
    public static final int EXIT_TIMEOUT = 124;
    /** The sandbox could not be set up, or stockade itself failed. */
    public static final int EXIT_SETUP = SandboxSetupException.EXIT_SETUP;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing command: 'run', 'probe' or 'policy'");
    }

    /**
     * Runs the CLI and exits with its status.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** The subcommands, in the order the usage help lists them. */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> subcommands = new LinkedHashMap<>();
        subcommands.put("run", RunCommand::new);
        subcommands.put("probe", ProbeCommand::new);
        subcommands.put("policy", PolicyCommand::new);
        return subcommands;
    }

    /** The environment variable that sets the help's width (as for ls, when exported). */
    static final String COLUMNS = "COLUMNS";

    /** picocli's narrowest help (it refuses less): the option column leaves room to wrap in. */
    static final int MIN_COLUMNS = 55;

    /**
     * Runs the command line {@code args} and returns the exit status it would exit with.
     *
     * @param args the command line
     * @param out where the commands' output goes
     * @param err where errors go
     * @return the exit status (0, or the command's, or 2 for bad usage, 125 for a failure of
     *     stockade itself)
     */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        // picocli builds the model of every subcommand it is given, by reflection over its
        // annotations: most of the CLI's start-up. A command line that names a subcommand
        // first parses the same with that one alone (the others could never match: no
        // abbreviations, no case folding); any other gets all of them, for the help and for
        // the error messages that list or suggest them.
        String first = args.length > 0 && SUBCOMMANDS.containsKey(args[0]) ? args[0] : null;
        CommandLine commandLine = commandLine(first);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    /**
     * The complete command line: every subcommand and {@code help}, configured as
     * {@link #execute} runs it. The build's man pages and bash completion are made from it
     * ({@code ShareFiles}), so they describe exactly what runs.
     */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /** The command line with subcommand {@code only} alone, or with all of them for null. */
    private static CommandLine commandLine(String only) {
        CommandLine commandLine = new CommandLine(new Main());
        if (only != null) {
            commandLine.addSubcommand(only, SUBCOMMANDS.get(only).get());
        } else {
            SUBCOMMANDS.forEach((name, subcommand) -> commandLine.addSubcommand(name, subcommand.get()));
            commandLine.addSubcommand("help", new HelpCommand());
        }
        // The settings below reach the subcommands added above (picocli applies a setting to
        // the subcommands present), so they come after them.
        // Arguments are taken literally: picocli would otherwise replace "@PATH" (even after
        // "--") with the content of a file the caller can read, pasting it into the sandbox's
        // argv, or read options from a file the sandbox wrote.
        commandLine.setExpandAtFiles(false);
        // "stockade run ls -l": everything from the command on is the command's, not ours.
        CommandLine run = commandLine.getSubcommands().get("run");
        if (run != null) {
            run.setStopAtPositional(true);
        }
        commandLine.setHelpFactory(new WordWrappedHelp());
        Integer columns = columns(System.getenv(COLUMNS));
        if (columns != null) {
            commandLine.setUsageHelpWidth(columns);
        } else {
            // The terminal's width when stdout is one (picocli asks stty), else 80.
            commandLine.setUsageHelpAutoWidth(true);
        }
        commandLine.setParameterExceptionHandler(new ErrorHandler());
        commandLine.setExecutionExceptionHandler(new ErrorHandler());
        return commandLine;
    }

    /**
     * The help's width from {@code $COLUMNS}: null when unset or not a number, else at least
     * {@link #MIN_COLUMNS}.
     */
    static Integer columns(String value) {
        if (value == null || !value.matches("[0-9]{1,4}")) {
            return null;
        }
        return Math.max(MIN_COLUMNS, Integer.parseInt(value));
    }
}
