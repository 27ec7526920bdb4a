package dev.stockade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.stockade.SandboxResult;
import dev.stockade.SetupError;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The {@code --report} JSON: what happened to one run, with the same exit code the CLI exits
 * with. Field names are part of the CLI's interface; scripts read them.
 *
 * @param exitCode the CLI's exit status for this run
 * @param signal the signal that killed the command, 0 when none
 * @param timedOut whether {@code --timeout} expired
 * @param wallTimeMs wall-clock time of the command
 * @param userCpuMs user CPU time of the command and of the children it waited for
 * @param sysCpuMs system CPU time of the command and of the children it waited for
 * @param maxRssKb the largest resident set of the command or of a child it waited for
 * @param setupError why the command never ran, or {@code null}
 */
record RunReport(int exitCode, int signal, boolean timedOut, long wallTimeMs, long userCpuMs,
        long sysCpuMs, long maxRssKb, ErrorEntry setupError) {

    /** The step that failed, its errno (0 when not a system call failure) and the message. */
    record ErrorEntry(String step, int errno, String message) {
        static ErrorEntry of(SetupError error) {
            return new ErrorEntry(error.step(), error.errno(), error.message());
        }
    }

    static RunReport of(int exitCode, SandboxResult result) {
        ErrorEntry error = result.setupError()
                .map(ErrorEntry::of)
                .orElse(null);
        return new RunReport(exitCode, result.signal(), result.timedOut(),
                result.wallTime().toMillis(), result.userCpu().toMillis(),
                result.systemCpu().toMillis(), result.maxRssKb(), error);
    }

    static RunReport ofSetupError(int exitCode, SetupError error) {
        return new RunReport(exitCode, 0, false, 0, 0, 0, 0, ErrorEntry.of(error));
    }

    /** Where the report goes: opened before the run so a bad path stops the run up front. */
    interface Sink {
        Sink NONE = (report, err) -> { };

        /** Writes {@code report}; a failure is reported on {@code err} (the run already happened). */
        void write(RunReport report, PrintWriter err);

        static Sink open(Path file) throws IOException {
            OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            return (report, err) -> {
                try (OutputStream stream = out) {
                    stream.write(MAPPER.writeValueAsBytes(report));
                    stream.write('\n');
                } catch (IOException e) {
                    err.println("stockade: cannot write report " + file + ": "
                            + ErrorHandler.oneLine(e.toString()));
                }
            };
        }
    }

    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
}
