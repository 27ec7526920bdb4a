package dev.stockade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.stockade.SandboxResult;
import dev.stockade.SetupError;
import dev.stockade.Violation;
import dev.stockade.internal.Errno;
import java.io.IOException;
import java.math.BigInteger;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

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
 * @param violations the system calls {@code report} rules caught, in order of first occurrence
 */
record RunReport(int exitCode, int signal, boolean timedOut, long wallTimeMs, long userCpuMs,
        long sysCpuMs, long maxRssKb, ErrorEntry setupError, List<ViolationEntry> violations) {

    /** The step that failed, its errno (0 when not a system call failure) and the message. */
    record ErrorEntry(String step, int errno, String message) {
        static ErrorEntry of(SetupError error) {
            return new ErrorEntry(error.step(), error.errno(), error.message());
        }
    }

    /**
     * One system call a report rule caught.
     *
     * @param errno what the calls got, 0 when they were let through (audit)
     * @param errnoName its symbolic name ({@code "EPERM"}), {@code null} for 0
     * @param arguments the six argument registers of the first call, as unsigned numbers
     */
    record ViolationEntry(String syscall, int number, int errno, String errnoName, long count,
            int pid, List<BigInteger> arguments, String reason, String profile) {
        static ViolationEntry of(Violation v) {
            return new ViolationEntry(v.syscall(), v.number(), v.errno(),
                    v.errno() == 0 ? null : Errno.name(v.errno()), v.count(), v.pid(),
                    v.arguments().stream()
                            .map(a -> new BigInteger(Long.toUnsignedString(a))).toList(),
                    v.reason(), v.profile());
        }
    }

    static RunReport of(int exitCode, SandboxResult result) {
        ErrorEntry error = result.setupError()
                .map(ErrorEntry::of)
                .orElse(null);
        return new RunReport(exitCode, result.signal(), result.timedOut(),
                result.wallTime().toMillis(), result.userCpu().toMillis(),
                result.systemCpu().toMillis(), result.maxRssKb(), error,
                result.violations().stream().map(ViolationEntry::of).toList());
    }

    static RunReport ofSetupError(int exitCode, SetupError error) {
        return new RunReport(exitCode, 0, false, 0, 0, 0, 0, ErrorEntry.of(error), List.of());
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
