package dev.stockade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.stockade.CollectedOutputs;
import dev.stockade.CommitResult;
import dev.stockade.Connection;
import dev.stockade.SandboxResult;
import dev.stockade.SetupError;
import dev.stockade.Violation;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * @param collected what {@code --collect} copied and left out, {@code null} without it
 * @param limitHit the limit that ended the command or that it ran into ({@code "MEMORY"},
 *     {@code "CPU_TIME"}, ...), {@code null} when none
 * @param peakMemoryBytes the whole sandbox's peak memory (its cgroup), or the largest resident
 *     set of one process without a cgroup
 * @param peakProcesses the most processes the sandbox held at once, {@code null} when not
 *     measured
 * @param outputBytes what the command wrote to stdout and stderr, when the helper relayed them
 * @param droppedOutputBytes of those, what went past {@code --max-output} and was dropped
 * @param notes what the sandbox applied differently from what was asked, one line each
 * @param commit what a transactional workspace's commit applied, {@code null} without one
 * @param connections what {@code --net allow}'s proxy was asked for, in order of first
 *     occurrence; empty with another network
 */
record RunReport(int exitCode, int signal, boolean timedOut, long wallTimeMs, long userCpuMs,
        long sysCpuMs, long maxRssKb, ErrorEntry setupError, List<ViolationEntry> violations,
        CollectedEntry collected, String limitHit, long peakMemoryBytes, Long peakProcesses,
        long outputBytes, long droppedOutputBytes, List<String> notes, CommitEntry commit,
        List<ConnectionEntry> connections) {

    /**
     * One entry of {@link SandboxResult#connections()}, every component of {@link Connection}.
     *
     * @param verdict {@code "ALLOWED"}, {@code "DENIED"}, {@code "FAILED"} or
     *     {@code "MALFORMED"}
     */
    record ConnectionEntry(String host, int port, String address, String verdict, String rule,
            String reason, long count, long bytesSent, long bytesReceived) {
        static ConnectionEntry of(Connection c) {
            return new ConnectionEntry(c.host(), c.port(), c.address(), c.verdict().name(),
                    c.rule(), c.reason(), c.count(), c.bytesSent(), c.bytesReceived());
        }
    }

    /**
     * A transactional workspace's commit ({@link CommitResult}).
     *
     * @param skipped the entries not carried: path and reason ({@code "FIFO"}, ...)
     * @param failure why the commit stopped, {@code null} when it completed
     * @param notApplied when it stopped, the changes not applied
     */
    record CommitEntry(long filesWritten, long bytesWritten, long directoriesCreated,
            long symlinksCreated, long deleted, List<SkippedEntry> skipped, String failure,
            List<String> notApplied) {
        static CommitEntry of(CommitResult c) {
            return new CommitEntry(c.filesWritten(), c.bytesWritten(), c.directoriesCreated(),
                    c.symlinksCreated(), c.deleted(), c.skipped().stream()
                            .map(s -> new SkippedEntry(s.path(), s.reason().name(), null))
                            .toList(), c.failure().orElse(null), c.notApplied());
        }
    }

    /**
     * The outputs {@code --collect} copied into {@code into}.
     *
     * @param files the files copied (workspace-relative path, bytes)
     * @param skipped the entries left out: path, reason ({@code "SYMLINK"}, ...), detail
     * @param skippedNotListed how many more were left out than {@code skipped} lists
     * @param error why collecting failed as a whole, {@code null} when it did not
     */
    record CollectedEntry(String into, List<CollectedOutputs.Collected> files,
            List<SkippedEntry> skipped, long skippedNotListed, String error) {
        static CollectedEntry of(Path into, CollectedOutputs result) {
            return new CollectedEntry(into.toString(), result.collected(),
                    result.skipped().stream().map(s -> new SkippedEntry(s.path(),
                            s.reason().name(), s.detail())).toList(),
                    result.skippedNotListed(), null);
        }

        static CollectedEntry failed(Path into, String error) {
            return new CollectedEntry(into.toString(), List.of(), List.of(), 0, error);
        }
    }

    /** One entry {@code --collect} left out. */
    record SkippedEntry(String path, String reason, String detail) {}

    /** This report with {@code --collect}'s outcome. */
    RunReport withCollected(CollectedEntry entry) {
        return new RunReport(exitCode, signal, timedOut, wallTimeMs, userCpuMs, sysCpuMs,
                maxRssKb, setupError, violations, entry, limitHit, peakMemoryBytes,
                peakProcesses, outputBytes, droppedOutputBytes, notes, commit, connections);
    }

    /** The step that failed, its errno (0 when not a system call failure) and the message. */
    record ErrorEntry(String step, int errno, String message) {
        static ErrorEntry of(SetupError error) {
            return new ErrorEntry(error.step().stepName(), error.errno(), error.message());
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
                    v.errnoName().orElse(null), v.count(), v.pid(),
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
                result.violations().stream().map(ViolationEntry::of).toList(), null,
                result.limitHit().map(Enum::name).orElse(null), result.peakMemoryBytes(),
                result.peakProcesses().isPresent() ? result.peakProcesses().getAsLong() : null,
                result.outputBytes(), result.droppedOutputBytes(), result.notes(),
                result.commit().map(CommitEntry::of).orElse(null),
                result.connections().stream().map(ConnectionEntry::of).toList());
    }

    static RunReport ofSetupError(int exitCode, SetupError error) {
        return new RunReport(exitCode, 0, false, 0, 0, 0, 0, ErrorEntry.of(error), List.of(),
                null, null, 0, null, 0, 0, List.of(), null, List.of());
    }

    /**
     * Where the report goes. Opened before the run, so a bad path stops the run up front: a new
     * file (O_EXCL, a random name) is created beside the report's path, and after the run the
     * report is written to it and renamed over the path. The rename replaces whatever is at the
     * path, a symbolic link included, and never writes through it.
     */
    interface Sink {
        Sink NONE = (report, err) -> { };

        /** Writes {@code report}; a failure is reported on {@code err} (the run already happened). */
        void write(RunReport report, PrintWriter err);

        /**
         * @param writable the host paths the run may write (workspace, writable binds): the
         *     report may not lie in any of them
         * @throws IllegalArgumentException when the report lies in a writable path
         */
        static Sink open(Path file, List<Path> writable) throws IOException {
            Path target = file.toAbsolutePath().normalize();
            Path parent = target.getParent();
            if (parent == null || target.getFileName() == null) {
                throw new IllegalArgumentException("report " + file + " is not a file path");
            }
            for (Path bind : writable) {
                if (target.startsWith(bind)) {
                    throw inWritableBind(file, bind);
                }
            }
            Path realParent = parent.toRealPath();
            for (Path bind : writable) {
                if (realParent.startsWith(bind.toRealPath())) {
                    throw inWritableBind(file, bind);
                }
            }
            Path destination = realParent.resolve(target.getFileName());
            Path temporary = Files.createTempFile(realParent,
                    "." + target.getFileName() + ".", ".tmp");
            return (report, err) -> {
                try {
                    Files.write(temporary, (Json.MAPPER.writeValueAsString(report) + "\n")
                            .getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                    Files.move(temporary, destination, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    err.println("stockade: cannot write report " + file + ": "
                            + ErrorHandler.oneLine(e.toString()));
                    try {
                        Files.deleteIfExists(temporary);
                    } catch (IOException ignored) {
                        // The failure to write is what the user needs to know.
                    }
                }
            };
        }

        private static IllegalArgumentException inWritableBind(Path file, Path bind) {
            return new IllegalArgumentException("report " + file + " lies in " + bind
                    + ", which the command can write: it could put a symbolic link there;"
                    + " write the report outside the workspace and writable binds");
        }
    }

    /**
     * Jackson, loaded (some 370 classes) only when a report is written: every run builds a
     * RunReport, and a run without --report must not pay for the JSON machinery at start-up.
     */
    private static final class Json {
        static final ObjectMapper MAPPER =
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
