package dev.stockade.cli;

import dev.stockade.CollectedOutputs;
import dev.stockade.CollectedOutputs.Skipped;
import dev.stockade.Outputs;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --collect GLOB --into DIR} of {@code stockade run}: after the command, the files the
 * globs match in the workspace are copied into DIR with {@link Outputs}; every entry left out
 * is named on stderr with its reason, then one summary line.
 */
final class CollectOptions {

    @Option(names = "--collect", paramLabel = "GLOB",
            description = "After COMMAND, copy the workspace's regular files matching GLOB "
                    + "(glob syntax on workspace-relative paths: 'out/**', '*.jar') into "
                    + "--into DIR at the same relative path. Symbolic links (never followed), "
                    + "FIFOs, sockets, devices, mount points and files over the bounds ("
                    + Outputs.DEFAULT_MAX_FILES + " files, " + Outputs.DEFAULT_MAX_BYTES
                    + " bytes) are not copied: one 'not collected' line on stderr each. "
                    + "Repeatable; needs --into.")
    List<String> globs = new ArrayList<>();

    @Option(names = "--into", paramLabel = "DIR",
            description = "Where --collect copies to (created if missing; an existing file "
                    + "there is never replaced). Must lie outside the workspace and every "
                    + "writable bind. When copying fails, the exit status is 125 instead of 0.")
    Path into;

    /**
     * The collection to make after the command, or {@code null} without --collect; checked
     * before anything starts, so a bad glob or destination is bad input.
     *
     * @param writable the host paths the command can write (workspace, writable binds)
     */
    Outputs outputs(CommandLine commandLine, List<Path> writable) {
        if (globs.isEmpty() != (into == null)) {
            throw new ParameterException(commandLine, into == null
                    ? "--collect needs --into DIR: where to copy what GLOB matches"
                    : "--into needs --collect GLOB: what to copy into " + into);
        }
        if (into == null) {
            return null;
        }
        Path destination = into.toAbsolutePath().normalize();
        Path real = realOfExisting(destination);
        for (Path bind : writable) {
            Path realBind = realOfExisting(bind.toAbsolutePath().normalize());
            if (destination.startsWith(bind) || bind.startsWith(destination)
                    || real.startsWith(realBind) || realBind.startsWith(real)) {
                throw new ParameterException(commandLine, "--into " + into + " overlaps " + bind
                        + ", which the command can write: it could plant links there;"
                        + " collect into a directory outside the workspace and writable binds");
            }
        }
        try {
            return Outputs.matching(globs);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, e.getMessage());
        }
    }

    /** {@code path} with its longest existing ancestor replaced by that ancestor's real path. */
    private static Path realOfExisting(Path path) {
        Path existing = path;
        while (existing.getParent() != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(path));
        } catch (IOException e) {
            return path;
        }
    }

    /**
     * Copies the outputs of the finished command; prints what was left out and a summary.
     *
     * @return what the report says of it
     */
    RunReport.CollectedEntry collect(Outputs outputs, SandboxPolicy policy, PrintWriter err) {
        Path workspace = policy.workspace().orElseThrow();
        CollectedOutputs result;
        try {
            result = outputs.collect(workspace, into);
        } catch (IOException | IllegalArgumentException e) {
            String message = ErrorHandler.oneLine(String.valueOf(e.getMessage()));
            err.println("stockade: cannot collect outputs into " + into + ": " + message);
            return RunReport.CollectedEntry.failed(into, message);
        }
        for (Skipped skipped : result.skipped()) {
            err.println(CollectSummary.skippedLine(skipped));
        }
        err.println(CollectSummary.line(result, into));
        return RunReport.CollectedEntry.of(into, result);
    }
}
