package dev.stockade.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Writes the distribution's share/ files from the complete command line
 * ({@link Main#commandLine()}), so they describe exactly the stockade that runs: the man
 * pages as AsciiDoc (picocli-codegen's ManPageGenerator: stockade.adoc, stockade-run.adoc,
 * ..., one a command) and the bash completion script (picocli's AutoComplete). Run by the
 * build (src/dist/build-share.sh), not shipped: picocli-codegen is not in the CLI's jar.
 *
 * <p>Usage: {@code ShareFiles ADOC_DIR COMPLETION_FILE}
 */
public final class ShareFiles {

    private ShareFiles() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ShareFiles ADOC_DIR COMPLETION_FILE");
            System.exit(2);
        }
        Path adocDir = Path.of(args[0]);
        Path completion = Path.of(args[1]);
        CommandLine commandLine = Main.commandLine();

        Files.createDirectories(adocDir);
        // No template directory (null): the pages are generated whole, never merged with
        // hand-written ones; the empty verbosity keeps the generator quiet.
        int status = ManPageGenerator.generateManPage(adocDir.toFile(), null, new boolean[0],
                false, commandLine.getCommandSpec());
        if (status != 0) {
            throw new IOException("the man page generator exited " + status);
        }
        List<Path> pages;
        try (Stream<Path> files = Files.list(adocDir)) {
            pages = files.filter(f -> f.toString().endsWith(".adoc")).toList();
        }
        for (Path page : pages) {
            Files.writeString(page, amend(Files.readString(page)));
        }

        Files.createDirectories(completion.toAbsolutePath().getParent());
        Files.writeString(completion, AutoComplete.bash("stockade", commandLine),
                StandardCharsets.UTF_8);
    }

    /**
     * The generator's AsciiDoc, amended where it renders badly:
     * <ul>
     * <li>It copies the help's text as it is, where '*' is markup: the "'out/**', '*.jar'" of
     * --collect became bold. In the text lines (not the generator's own: headings,
     * attributes, comments, list terms ending in "::") each '*' is written as the
     * {asterisk} attribute, which asciidoctor renders as the character.
     * <li>A synopsis of several lines (stockade's) became one paragraph: each line ends in a
     * hard break (" +") instead, without the help's indent.
     * <li>"Exit status:" is the help's heading, colon and all: the page's is "Exit status".
     * </ul>
     */
    static String amend(String adoc) {
        List<String> out = new ArrayList<>();
        boolean synopsis = false;
        for (String line : adoc.lines().toList()) {
            if (line.equals("== Synopsis")) {
                synopsis = true;
            } else if (line.startsWith("// end::")) {
                synopsis = false;
            }
            if (synopsis && !line.isBlank() && !line.startsWith("==")) {
                int last = out.size() - 1;
                if (!out.get(last).isBlank() && !out.get(last).startsWith("==")) {
                    out.set(last, out.get(last) + " +");
                }
                out.add(line.strip().replace("*", "{asterisk}"));
            } else if (line.matches("==\\s+Exit status:")) {
                out.add("== Exit status");
            } else if (line.startsWith("=") || line.startsWith(":") || line.startsWith("//")
                    || line.endsWith("::")) {
                out.add(line);
            } else {
                out.add(line.replace("*", "{asterisk}"));
            }
        }
        return String.join("\n", out) + "\n";
    }
}
