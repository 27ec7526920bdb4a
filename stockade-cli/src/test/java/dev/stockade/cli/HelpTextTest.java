package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.SandboxPolicy;
import dev.stockade.cli.CliProcess.Result;
import dev.stockade.testing.Pure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;

/**
 * The usage help is readable at any width: no line is wider than the width, and no word is
 * split over two lines (the words at a width are exactly the words with no wrapping at all).
 */
@Pure
class HelpTextTest {

    /** Wide enough that nothing wraps: the words as written. */
    private static final int UNWRAPPED = 2000;

    /** Every command's usage help at {@code width}, plain text. */
    private static List<String> helps(int width) {
        CommandLine root = Main.commandLine();
        root.setUsageHelpWidth(width);
        List<String> helps = new ArrayList<>();
        collect(root, helps);
        return helps;
    }

    private static void collect(CommandLine command, List<String> helps) {
        helps.add(command.getUsageMessage(Ansi.OFF));
        command.getSubcommands().values().forEach(sub -> collect(sub, helps));
    }

    private static List<String> words(String text) {
        return Arrays.stream(text.strip().split("\\s+")).toList();
    }

    @Test
    void runHelpAt80ColumnsFitsAndSplitsNoWord() {
        CommandLine run = Main.commandLine().getSubcommands().get("run");
        run.setUsageHelpWidth(80);
        String help = run.getUsageMessage(Ansi.OFF);
        for (String line : help.lines().toList()) {
            assertTrue(line.length() <= 80, "over 80 columns: " + line);
        }
        run.setUsageHelpWidth(UNWRAPPED);
        assertEquals(words(run.getUsageMessage(Ansi.OFF)), words(help));
        // Words picocli's own wrapping cut (after "e." of "e.g.", after "[:" of "[:port]").
        String spaced = help.replaceAll("\\s+", " ");
        assertTrue(spaced.contains("(RLIMIT_FSIZE; e.g. 10m)"), help);
        assertTrue(spaced.contains(" *.example.org[:port], "), help);
    }

    @Test
    void everyHelpAtEveryWidthFitsAndSplitsNoWord() {
        List<String> unwrapped = helps(UNWRAPPED);
        for (int width = Main.MIN_COLUMNS; width <= 160; width++) {
            List<String> wrapped = helps(width);
            assertEquals(unwrapped.size(), wrapped.size());
            for (int i = 0; i < wrapped.size(); i++) {
                for (String line : wrapped.get(i).lines().toList()) {
                    // A word as long as the whole description column could not fit: none is.
                    assertTrue(line.length() <= width, "over " + width + ": " + line);
                }
                assertEquals(words(unwrapped.get(i)), words(wrapped.get(i)), "width " + width);
            }
        }
    }

    /** What the build makes the man pages and the completion from: every command, whole. */
    @Test
    void theCompleteCommandLineHasEveryCommand() {
        CommandLine commandLine = Main.commandLine();
        assertEquals(List.of("run", "probe", "policy", "help"),
                List.copyOf(commandLine.getSubcommands().keySet()));
        assertEquals(List.of("check", "export", "show"), List.copyOf(
                commandLine.getSubcommands().get("policy").getSubcommands().keySet()));
        String completion = AutoComplete.bash("stockade", commandLine);
        for (String word : new String[] {"_picocli_stockade_run()", "_picocli_stockade_policy_export()",
            "--kill-grace", "--unset-env", "--chdir", "(\"none\" \"host\" \"allow\")"}) {
            assertTrue(completion.contains(word), word + " missing from the completion");
        }
    }

    @Test
    void theKillGraceHelpNamesTheLibrarysDefault() {
        String help = Main.commandLine().getSubcommands().get("run").getUsageMessage(Ansi.OFF)
                .replaceAll("\\s+", " ");
        assertTrue(help.contains("default " + DurationParser.format(
                SandboxPolicy.DEFAULT_KILL_GRACE) + ")"), help);
    }

    @Test
    void columnsFromTheEnvironment() {
        assertEquals(100, Main.columns("100"));
        assertEquals(Main.MIN_COLUMNS, Main.columns("20"));
        assertNull(Main.columns(null));
        assertNull(Main.columns(""));
        assertNull(Main.columns("wide"));
        assertNull(Main.columns("-90"));
    }

    /** The CLI as a user runs it, with COLUMNS exported. */
    @Test
    void theHelpTakesItsWidthFromColumns(@TempDir Path dir) throws Exception {
        Result wide = CliProcess.run(dir, Map.of(Main.COLUMNS, "120"), "run", "--help");
        assertEquals(0, wide.exitCode(), wide.toString());
        int widest = wide.stdout().lines().mapToInt(String::length).max().orElse(0);
        assertTrue(widest > 100 && widest <= 120, "widest line " + widest + ":\n" + wide.stdout());

        Result narrow = CliProcess.run(dir, Map.of(Main.COLUMNS, "60"), "help", "run");
        assertEquals(0, narrow.exitCode(), narrow.toString());
        widest = narrow.stdout().lines().mapToInt(String::length).max().orElse(0);
        assertTrue(widest > 55 && widest <= 60, "widest line " + widest + ":\n" + narrow.stdout());
    }
}
