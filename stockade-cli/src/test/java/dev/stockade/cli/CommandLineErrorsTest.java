package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Sandbox;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad command lines, run in-process through {@link Main#execute}: exactly one "stockade: ..."
 * line and a pointer to the help on stderr, exit 2, nothing on stdout and nothing started.
 */
class CommandLineErrorsTest {

    record Outcome(int exitCode, String stdout, List<String> stderrLines) {}

    static Outcome execute(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long childrenBefore = ProcessHandle.current().children().count();
        int exitCode = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(childrenBefore, ProcessHandle.current().children().count(),
                "a process was started for: " + String.join(" ", args));
        return new Outcome(exitCode, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8).lines().toList());
    }

    private static void assertUsageError(String expectedLine, String help, String... args) {
        Outcome outcome = execute(args);
        assertEquals(2, outcome.exitCode(), outcome.toString());
        assertEquals(List.of(expectedLine, "Try '" + help + " --help'"), outcome.stderrLines());
        assertEquals("", outcome.stdout());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--frobnicate                | Unknown option: '--frobnicate'",
        "--timeout 10x               | Invalid value for option '--timeout': '10x' is not a duration (expected e.g. 250ms, 30s, 5m, 1h)",
        "--timeout -5s               | Invalid value for option '--timeout': '-5s' is not a duration (expected e.g. 250ms, 30s, 5m, 1h)",
        "--timeout 0s                | Invalid value for option '--timeout': duration '0s' must be greater than 0",
        "--max-file-size 12q         | Invalid value for option '--max-file-size': '12q' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
        "--tmpfs /scratch:huge       | Invalid value for option '--tmpfs' (DST[:SIZE]): 'huge' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
        "--open-files -1             | Invalid value for option '--open-files': '-1' is not a positive whole number",
        "--processes 0               | Invalid value for option '--processes': '0' must be greater than 0",
        "--cpu-time 1.5              | Invalid value for option '--cpu-time': '1.5' is not a positive whole number",
        "--uid -3                    | Invalid value for option '--uid': '-3' is not a user or group id (0 or more)",
        "--bind :/data               | Invalid value for option '--bind' (SRC[:DST]): ':/data' has no source (expected SRC[:DST])",
        "--ro-bind ''                | Invalid value for option '--ro-bind' (SRC[:DST]): '' has no source (expected SRC[:DST])",
        "--env NOVALUE               | Invalid value for option '--env' (NAME=VALUE): 'NOVALUE' is not NAME=VALUE",
        "--net bridge                | Invalid value for option '--net': 'bridge' is not a network mode (expected none, host or allow)",
        "--allow-host web.example    | --allow-host needs --net allow",
        "--net host --deny-host x.example | --deny-host needs --net allow",
        "--net allow --allow-host *:443 | invalid policy: network allow entry \"*:443\" is too wide: it names every host",
        "--net allow --allow-host ''  | invalid policy: network empty allow entry: name a host",
        "--home-size 12q             | Invalid value for option '--home-size': '12q' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
        "--overlay :/data            | Invalid value for option '--overlay' (SRC[:DST]): ':/data' has no source (expected SRC[:DST])",
        "--home-ro ../x              | invalid policy: homeReadOnly '../x' contains '..'",
        "--home-overlay /abs         | invalid policy: homeOverlay '/abs' is not a relative path",
        "--protect /etc/x            | invalid policy: protected path '/etc/x' is not a relative path",
        "--unprotect nope            | invalid policy: unprotect 'nope': not a protected path (they are: .git/, .gitmodules, .envrc, .vscode/, .idea/)",
        "--overlay /nonexistent-ov   | invalid policy: overlay source /nonexistent-ov does not exist",
        "--toolchain /nonexistent-tc/bin/tc | invalid policy: bind source /nonexistent-tc does not exist",
        "--timout 5s                 | Unknown option: '--timout'; did you mean '--timeout'?",
        "--memroy=1g                 | Unknown option: '--memroy=1g'; did you mean '--memory'?",
        "--kill-grace 2x             | Invalid value for option '--kill-grace': '2x' is not a duration (expected e.g. 250ms, 30s, 5m, 1h)",
        "--kill-grace -1s            | Invalid value for option '--kill-grace': '-1s' is not a duration (expected e.g. 250ms, 30s, 5m, 1h)",
        "--address-space 1x          | Invalid value for option '--address-space': '1x' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
        "--address-space 1m          | invalid policy: limit addressSpaceBytes is 1048576, below the minimum of 16777216 (no process starts with less)",
        "--stack lots                | Invalid value for option '--stack': 'lots' is not a size (expected e.g. 4096, 512k, 64m, 1g)",
        "--stack 1k                  | invalid policy: limit stackBytes is 1024, below the minimum of 65536 (execve needs room for the arguments and environment)",
        "--hostname bad_name         | invalid policy: hostname 'bad_name' is not a valid host name (labels of letters, digits and inner '-', separated by '.')",
        "--hostname ''               | invalid policy: hostname is empty",
        "--unset-env A=B             | Invalid value for option '--unset-env' (NAME): 'A=B' is not a variable name (it contains '=' or NUL)",
        "--unset-env ''              | Invalid value for option '--unset-env' (NAME): empty variable name",
    })
    void badOptionValueIsOneLineAndExit2(String options, String message) {
        List<String> args = new java.util.ArrayList<>();
        for (String word : options.split(" ")) {
            args.add(word.equals("''") ? "" : word);
        }
        args.add(0, "run");
        args.add("--");
        args.add("true");
        assertUsageError("stockade: " + message, "stockade run", args.toArray(String[]::new));
    }

    @Test
    void missingCommandAfterDoubleDash() {
        assertUsageError("stockade: Missing required parameter: 'COMMAND'", "stockade run",
                "run", "--timeout", "5s", "--");
    }

    @Test
    void missingValueAtTheEnd() {
        assertUsageError("stockade: Missing required parameter for option '--timeout' (DURATION)",
                "stockade run", "run", "--timeout");
    }

    @Test
    void missingSubcommand() {
        assertUsageError("stockade: missing command: 'run', 'probe' or 'policy'", "stockade");
    }

    @Test
    void unknownSubcommandNamesTheNearOnes() {
        assertUsageError("stockade: unknown command 'rn'; did you mean 'run'?", "stockade", "rn");
        assertUsageError("stockade: unknown command 'rnu'; did you mean 'run'?", "stockade", "rnu");
        assertUsageError("stockade: unknown command 'prboe'; did you mean 'probe'?", "stockade",
                "prboe", "--json");
        assertUsageError("stockade: unknown command 'hlep'; did you mean 'help'?", "stockade",
                "hlep");
        assertUsageError("stockade: unknown command 'chek'; did you mean 'check'?",
                "stockade policy", "policy", "chek", "build");
        assertUsageError("stockade: unknown command 'frobnicate'", "stockade", "frobnicate");
    }

    @Test
    void unknownOptionWithoutANearOneNamesNone() {
        assertUsageError("stockade: Unknown option: '--json-lines'", "stockade probe", "probe",
                "--json-lines");
    }

    @Test
    void suggestionsAreTheNearestAtOneOrTwoEdits() {
        List<String> names = List.of("--memory", "--memory-best-effort", "--cpus", "--env",
                "--pass-env");
        assertEquals(List.of("--memory"), ErrorHandler.closest("--memroy", names));
        assertEquals(List.of("--memory"), ErrorHandler.closest("--meory", names));
        assertEquals(List.of("--env"), ErrorHandler.closest("--en", names));
        assertEquals(List.of("--cpus"), ErrorHandler.closest("-cpu", names));
        // Short names allow one edit only: "--ev" is one from --env, "--cp" two from --cpus.
        assertEquals(List.of(), ErrorHandler.closest("--cp", names));
        assertEquals(List.of(), ErrorHandler.closest("--swap", names));
        assertEquals(List.of("--pass-env"), ErrorHandler.closest("--passenv", names));
    }

    @Test
    void helpOfAnUnknownCommandIsAUsageError() {
        assertUsageError("stockade: Unknown subcommand 'nosuch'.", "stockade", "help", "nosuch");
    }

    @Test
    void unknownProbeOption() {
        assertUsageError("stockade: Unknown option: '--yaml'", "stockade probe", "probe", "--yaml");
    }

    @Test
    void policyProblemsAreReportedTogetherOnOneLine(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        Outcome outcome = execute("run", "--workspace", missing.toString(), "--ro-bind",
                dir + ":relative/target", "--env", "BAD\0NAME=x", "--", "true");
        assertEquals(2, outcome.exitCode(), outcome.toString());
        assertEquals(2, outcome.stderrLines().size(), outcome.toString());
        String line = outcome.stderrLines().get(0);
        assertTrue(line.startsWith("stockade: invalid policy: "), line);
        assertTrue(line.contains(missing.toString()), line);
        assertTrue(line.contains("relative/target"), line);
        assertTrue(line.contains("BAD"), line);
        assertEquals("Try 'stockade run --help'", outcome.stderrLines().get(1));
    }

    @Test
    void unwritableReportIsBadInput(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("no-such-dir").resolve("report.json");
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Outcome outcome = execute("run", "--workspace", workspace.toString(), "--report",
                report.toString(), "--", "true");
        assertEquals(2, outcome.exitCode(), outcome.toString());
        assertEquals(List.of("stockade: cannot write report " + report
                        + ": java.nio.file.NoSuchFileException: " + report.getParent(),
                "Try 'stockade run --help'"), outcome.stderrLines());
        assertTrue(Files.notExists(report));
    }

    @Test
    void helpOnEveryCommandGoesToStdoutWithExit0() {
        for (String[] args : new String[][] {{"--help"}, {"run", "--help"}, {"probe", "--help"}}) {
            Outcome outcome = execute(args);
            assertEquals(0, outcome.exitCode(), String.join(" ", args));
            assertEquals(List.of(), outcome.stderrLines());
            String usage = "Usage: stockade " + (args.length == 2 ? args[0] + " " : "run");
            assertTrue(outcome.stdout().startsWith(usage), outcome.stdout());
        }
        String runHelp = execute("run", "--help").stdout();
        for (String option : new String[] {"--workspace", "--ro-bind", "--bind", "--tmpfs", "--net",
            "--env", "--pass-env", "--timeout", "--open-files", "--processes", "--max-file-size",
            "--cpu-time", "--memory", "--memory-best-effort", "--cpus", "--uid", "--gid", "--report", "124 ", "125 ", "126 ", "127 ", "128+N "}) {
            assertTrue(runHelp.contains(option), option + " missing from:\n" + runHelp);
        }
    }

    @Test
    void helpCommandPrintsWhatHelpOptionsPrint() {
        assertEquals(execute("--help"), execute("help"));
        assertEquals(execute("run", "--help"), execute("help", "run"));
        Outcome help = execute("help", "help");
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.stdout().startsWith("Display help information"), help.stdout());
    }

    @Test
    void versionIsOneLine() {
        Outcome outcome = execute("--version");
        assertEquals(0, outcome.exitCode());
        assertEquals("stockade " + Sandbox.version() + "\n", outcome.stdout());
        assertEquals(List.of(), outcome.stderrLines());
    }
}
