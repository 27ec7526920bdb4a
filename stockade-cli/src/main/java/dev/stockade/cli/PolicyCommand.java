package dev.stockade.cli;

import dev.stockade.PolicyException;
import dev.stockade.ProfileSources;
import dev.stockade.SeccompProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code stockade policy check|export|show}: seccomp profiles without running anything. Files
 * may be Stockade text profiles or OCI / Docker seccomp JSON, told apart by content.
 */
@Command(
        name = "policy",
        customSynopsis = {"stockade policy check FILE|NAME",
            "       stockade policy export --oci FILE|NAME [-o OUT]",
            "       stockade policy show NAME"},
        description = "Checks, converts and shows seccomp profiles.",
        subcommands = {PolicyCommand.Check.class, PolicyCommand.Export.class,
            PolicyCommand.Show.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:success",
            "2:bad command line, or the profile has problems (each on stderr)"
        })
final class PolicyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing command: 'check', 'export' or 'show'");
    }

    /** Prints every problem, one a line, and returns the usage exit status. */
    static int problems(PrintWriter err, PolicyException e) {
        for (String problem : e.problems()) {
            err.println("stockade: " + ErrorHandler.oneLine(problem));
        }
        err.flush();
        return Main.EXIT_USAGE;
    }

    @Command(
            name = "check",
            customSynopsis = "stockade policy check FILE|NAME",
            // One string a paragraph, as RunCommand's.
            description = {
                "Checks that a profile loads and compiles.",
                "",
                "Loads FILE (a Stockade text profile, or OCI / Docker seccomp JSON: a file"
                        + " starting with '{') or a shipped profile (build, strict, audit) and"
                        + " compiles it to BPF with libseccomp. Prints 'ok: N rules, default"
                        + " ACTION', after one 'warning:' line for each part of an OCI profile"
                        + " that does not apply here; or every problem, one a line."
            },
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:the profile is valid", "2:it is not (problems on stderr)"})
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE|NAME",
                description = "A profile file, or build, strict or audit.")
        String profile;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            ProfileArgument.Loaded loaded;
            try {
                loaded = ProfileArgument.load(profile);
                // Compiling is the last check: libseccomp may still refuse (a program over the
                // kernel's 4096 instructions), and that must show here, not at the first run.
                loaded.profile().compile();
            } catch (PolicyException e) {
                return problems(err, e);
            } catch (IOException e) {
                err.println("stockade: " + profile + ": "
                        + ErrorHandler.oneLine(e.getMessage()));
                err.flush();
                return Main.EXIT_USAGE;
            }
            for (String warning : loaded.warnings()) {
                out.println("warning: " + warning);
            }
            SeccompProfile checked = loaded.profile();
            int n = checked.rules().size();
            out.println("ok: " + n + (n == 1 ? " rule" : " rules") + ", default "
                    + checked.defaultAction().toText());
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "export",
            customSynopsis = "stockade policy export --oci FILE|NAME [-o OUT]",
            description = {
                "Converts a profile to OCI seccomp JSON.",
                "",
                "Writes a profile (a shipped profile's name, or a file in either format) as"
                        + " OCI seccomp JSON, for runc, crun, podman or Docker. 'report' rules"
                        + " become SCMP_ACT_ERRNO with their errno (report(allow):"
                        + " SCMP_ACT_LOG), marked \"x-stockade\": other runtimes deny the same"
                        + " calls without recording them."
            },
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:written", "2:bad command line or profile"})
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--oci", required = true,
                description = "Write OCI runtime-spec seccomp JSON (the only format for now).")
        boolean oci;

        @Option(names = {"-o", "--output"}, paramLabel = "OUT",
                description = "Write to OUT instead of standard output.")
        Path output;

        @Parameters(paramLabel = "FILE|NAME",
                description = "build, strict, audit, or a profile file.")
        String profile;

        @Override
        public Integer call() throws IOException {
            PrintWriter err = spec.commandLine().getErr();
            String json;
            try {
                ProfileArgument.Loaded loaded = ProfileArgument.load(profile);
                json = loaded.profile().toOci();
            } catch (PolicyException e) {
                return problems(err, e);
            }
            if (output == null) {
                PrintWriter out = spec.commandLine().getOut();
                out.print(json);
                out.flush();
                return 0;
            }
            try {
                Files.writeString(output, json, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot write " + output + ": "
                        + ErrorHandler.oneLine(e.toString()));
            }
            return 0;
        }
    }

    @Command(
            name = "show",
            customSynopsis = "stockade policy show NAME",
            description = "Prints the text of a shipped profile: build, strict or audit.",
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:printed", "2:no such profile"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "build, strict or audit.")
        String name;

        @Override
        public Integer call() {
            List<String> shipped = ProfileSources.shippedNames();
            if (!shipped.contains(name)) {
                throw new ParameterException(spec.commandLine(), "no shipped profile '" + name
                        + "' (there are: " + String.join(", ", shipped) + ")");
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(ProfileSources.shippedText(name));
            out.flush();
            return 0;
        }
    }
}
