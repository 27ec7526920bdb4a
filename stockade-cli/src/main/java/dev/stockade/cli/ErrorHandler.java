package dev.stockade.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Errors the way command-line tools report them: one line on stderr prefixed "stockade: ",
 * then a pointer to the help, instead of picocli's usage dump, which buries the one line that
 * matters. Bad input exits {@link Main#EXIT_USAGE}; an unexpected failure inside stockade exits
 * {@link Main#EXIT_SETUP} (stockade itself failed, as coreutils' {@code timeout} uses 125).
 */
public final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine commandLine = ex.getCommandLine();
        PrintWriter err = commandLine.getErr();
        err.println("stockade: " + oneLine(ex.getMessage()));
        err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return Main.EXIT_USAGE;
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
