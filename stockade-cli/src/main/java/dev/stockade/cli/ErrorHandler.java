package dev.stockade.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Errors the way command-line tools report them: one line on stderr prefixed "stockade: ",
 * then a pointer to the help, instead of picocli's usage dump, which buries the one line that
 * matters. An unknown option or command names the ones it is likely a typo of, on that line.
 * Bad input exits {@link Main#EXIT_USAGE}; an unexpected failure inside stockade exits
 * {@link Main#EXIT_SETUP} (stockade itself failed, as coreutils' {@code timeout} uses 125).
 */
public final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine commandLine = ex.getCommandLine();
        PrintWriter err = commandLine.getErr();
        String message = ex instanceof UnmatchedArgumentException unmatched
                ? unmatched(unmatched) : ex.getMessage();
        err.println("stockade: " + oneLine(message));
        err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return Main.EXIT_USAGE;
    }

    /**
     * picocli's message for an unknown option, and "unknown command" for a word where a
     * subcommand belongs, with the names it is one or two edits from. picocli's own suggestions
     * (UnmatchedArgumentException.getSuggestions) are too loose and too strict at once: any
     * option sharing the first two letters, and no command sharing no pair of letters ("rn"
     * is not "run" to it); and they come as a second line.
     */
    static String unmatched(UnmatchedArgumentException ex) {
        String arg = ex.getUnmatched().isEmpty() ? "" : ex.getUnmatched().get(0);
        CommandSpec spec = ex.getCommandLine().getCommandSpec();
        List<String> candidates = new ArrayList<>();
        String message;
        String typed;
        if (arg.startsWith("-")) {
            typed = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            for (OptionSpec option : spec.options()) {
                if (!option.hidden()) {
                    candidates.addAll(List.of(option.names()));
                }
            }
            message = ex.getMessage();
        } else if (!spec.subcommands().isEmpty()) {
            typed = arg;
            spec.subcommands().forEach((name, sub) -> {
                if (!sub.getCommandSpec().usageMessage().hidden()) {
                    candidates.add(name);
                }
            });
            message = "unknown command '" + arg + "'";
        } else {
            return ex.getMessage();
        }
        List<String> close = closest(typed, candidates);
        if (close.isEmpty()) {
            return message;
        }
        return message + "; did you mean '" + String.join("' or '", close) + "'?";
    }

    /**
     * The candidates nearest {@code typed} (leading dashes aside) by edits (insert, delete,
     * replace a character, swap two adjacent ones): those 1 edit away for a name of up to 4
     * characters, 2 for a longer one, or none.
     */
    static List<String> closest(String typed, List<String> candidates) {
        String word = typed.replaceFirst("^-+", "");
        int best = word.length() <= 4 ? 1 : 2;
        List<String> closest = new ArrayList<>();
        for (String candidate : candidates) {
            int distance = distance(word, candidate.replaceFirst("^-+", ""));
            if (distance < best) {
                best = distance;
                closest.clear();
            }
            if (distance == best && !closest.contains(candidate)) {
                closest.add(candidate);
            }
        }
        return closest;
    }

    /** The optimal string alignment distance (Damerau-Levenshtein without repeated edits). */
    private static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2)
                        && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        String message = ex.getMessage() != null ? ex.getMessage() : ex.toString();
        err.println("stockade: " + oneLine(message));
        err.flush();
        return Main.EXIT_SETUP;
    }

    /**
     * Collapses a message onto one line, so a caller can rely on exactly one error line, and
     * writes every other control character as {@code \xNN}: messages carry names a sandboxed
     * step chose (a file it left behind), and an escape sequence must not reach the terminal.
     *
     * @param message any text, or {@code null}
     * @return the text on one line, control characters escaped ({@code "error"} for null)
     */
    public static String oneLine(String message) {
        if (message == null) {
            return "error";
        }
        String line = message.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
        StringBuilder out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
