package dev.stockade;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Resource limits (rlimits) applied to the sandboxed command; each is applied as both the soft
 * and the hard limit, so the command cannot raise it. An unset limit ({@code -1} in the builder)
 * leaves the value the command inherits. Core dumps are off ({@code coreBytes} 0) unless set.
 *
 * <p>Values are checked by {@link SandboxPolicy.Builder#build()}, together with the rest of the
 * policy: a limit must be positive, and at least what any process needs to start
 * ({@link #MIN_OPEN_FILES} files, {@link #MIN_ADDRESS_SPACE_BYTES} of address space,
 * {@link #MIN_STACK_BYTES} of stack).
 */
public final class Limits {
    /** Value meaning "not set" in the builder. */
    public static final long UNSET = -1;
    /** Every process holds stdin, stdout and stderr. */
    public static final long MIN_OPEN_FILES = 3;
    /** Below this not even a static binary maps its stack and heap. */
    public static final long MIN_ADDRESS_SPACE_BYTES = 16L * 1024 * 1024;
    /** Below this execve itself cannot place the arguments and environment. */
    public static final long MIN_STACK_BYTES = 64L * 1024;

    private static final Limits DEFAULTS = builder().build();

    private final long openFiles;
    private final long processes;
    private final long fileSizeBytes;
    private final long cpuTimeSeconds;
    private final long addressSpaceBytes;
    private final long stackBytes;
    private final long coreBytes;

    private Limits(Builder b) {
        this.openFiles = b.openFiles;
        this.processes = b.processes;
        this.fileSizeBytes = b.fileSizeBytes;
        this.cpuTimeSeconds = b.cpuTimeSeconds;
        this.addressSpaceBytes = b.addressSpaceBytes;
        this.stackBytes = b.stackBytes;
        this.coreBytes = b.coreBytes;
    }

    /** No limits except core dumps off. */
    public static Limits defaults() {
        return DEFAULTS;
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this object's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.openFiles = openFiles;
        b.processes = processes;
        b.fileSizeBytes = fileSizeBytes;
        b.cpuTimeSeconds = cpuTimeSeconds;
        b.addressSpaceBytes = addressSpaceBytes;
        b.stackBytes = stackBytes;
        b.coreBytes = coreBytes;
        return b;
    }

    /** {@code RLIMIT_NOFILE}: the highest fd number plus one the command may open. */
    public OptionalLong openFiles() {
        return opt(openFiles);
    }

    /** {@code RLIMIT_NPROC}: processes (threads included) the command's user may have. */
    public OptionalLong processes() {
        return opt(processes);
    }

    /** {@code RLIMIT_FSIZE}: the largest file the command may write (SIGXFSZ beyond). */
    public OptionalLong fileSizeBytes() {
        return opt(fileSizeBytes);
    }

    /** {@code RLIMIT_CPU}: CPU seconds before the kernel kills the command. */
    public OptionalLong cpuTimeSeconds() {
        return opt(cpuTimeSeconds);
    }

    /** {@code RLIMIT_AS}: the largest address space. */
    public OptionalLong addressSpaceBytes() {
        return opt(addressSpaceBytes);
    }

    /** {@code RLIMIT_STACK}: the largest main-thread stack. */
    public OptionalLong stackBytes() {
        return opt(stackBytes);
    }

    /** {@code RLIMIT_CORE}: the largest core dump; 0 (the default) means none. */
    public OptionalLong coreBytes() {
        return opt(coreBytes);
    }

    private static OptionalLong opt(long v) {
        return v == UNSET ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** Every problem with these values, for {@link SandboxPolicy.Builder#build()}. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        atLeast(problems, "openFiles", openFiles, MIN_OPEN_FILES,
                "every process needs stdin, stdout and stderr");
        atLeast(problems, "processes", processes, 1, "the command itself is a process");
        atLeast(problems, "fileSizeBytes", fileSizeBytes, 1, null);
        atLeast(problems, "cpuTimeSeconds", cpuTimeSeconds, 1, null);
        atLeast(problems, "addressSpaceBytes", addressSpaceBytes, MIN_ADDRESS_SPACE_BYTES,
                "no process starts with less");
        atLeast(problems, "stackBytes", stackBytes, MIN_STACK_BYTES,
                "execve needs room for the arguments and environment");
        if (coreBytes != UNSET && coreBytes < 0) {
            problems.add("limit coreBytes is negative (" + coreBytes
                    + "): use 0 for no core dumps");
        }
        return problems;
    }

    private static void atLeast(List<String> problems, String name, long value, long min,
            String why) {
        if (value == UNSET) {
            return;
        }
        if (value < 0) {
            problems.add("limit " + name + " is negative (" + value + ")");
        } else if (value == 0 && min >= 1) {
            problems.add("limit " + name + " is 0: it must be at least " + min
                    + (why == null ? "" : " (" + why + ")"));
        } else if (value < min) {
            problems.add("limit " + name + " is " + value + ", below the minimum of " + min
                    + (why == null ? "" : " (" + why + ")"));
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Limits l)) {
            return false;
        }
        return openFiles == l.openFiles && processes == l.processes
                && fileSizeBytes == l.fileSizeBytes && cpuTimeSeconds == l.cpuTimeSeconds
                && addressSpaceBytes == l.addressSpaceBytes && stackBytes == l.stackBytes
                && coreBytes == l.coreBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(openFiles, processes, fileSizeBytes, cpuTimeSeconds,
                addressSpaceBytes, stackBytes, coreBytes);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Limits[");
        append(sb, "openFiles", openFiles);
        append(sb, "processes", processes);
        append(sb, "fileSizeBytes", fileSizeBytes);
        append(sb, "cpuTimeSeconds", cpuTimeSeconds);
        append(sb, "addressSpaceBytes", addressSpaceBytes);
        append(sb, "stackBytes", stackBytes);
        append(sb, "coreBytes", coreBytes);
        if (sb.charAt(sb.length() - 1) == ' ') {
            sb.setLength(sb.length() - 1);
        }
        return sb.append(']').toString();
    }

    private static void append(StringBuilder sb, String name, long v) {
        if (v != UNSET) {
            sb.append(name).append('=').append(v).append(' ');
        }
    }

    /**
     * Builds {@link Limits}. Setters take the value or {@link #UNSET}; they accept anything so
     * that {@link SandboxPolicy.Builder#build()} can report every bad value at once.
     */
    public static final class Builder {
        private long openFiles = UNSET;
        private long processes = UNSET;
        private long fileSizeBytes = UNSET;
        private long cpuTimeSeconds = UNSET;
        private long addressSpaceBytes = UNSET;
        private long stackBytes = UNSET;
        private long coreBytes = 0;

        private Builder() {}

        /** {@code RLIMIT_NOFILE}, at least {@link Limits#MIN_OPEN_FILES}; UNSET inherits. */
        public Builder openFiles(long value) {
            this.openFiles = value;
            return this;
        }

        /** {@code RLIMIT_NPROC}, at least 1; {@link Limits#UNSET} inherits. */
        public Builder processes(long value) {
            this.processes = value;
            return this;
        }

        /** {@code RLIMIT_FSIZE} in bytes, at least 1; {@link Limits#UNSET} inherits. */
        public Builder fileSizeBytes(long value) {
            this.fileSizeBytes = value;
            return this;
        }

        /** {@code RLIMIT_CPU} in seconds, at least 1; {@link Limits#UNSET} inherits. */
        public Builder cpuTimeSeconds(long value) {
            this.cpuTimeSeconds = value;
            return this;
        }

        /** {@code RLIMIT_AS} in bytes, at least {@link Limits#MIN_ADDRESS_SPACE_BYTES}. */
        public Builder addressSpaceBytes(long value) {
            this.addressSpaceBytes = value;
            return this;
        }

        /** {@code RLIMIT_STACK} in bytes, at least {@link Limits#MIN_STACK_BYTES}. */
        public Builder stackBytes(long value) {
            this.stackBytes = value;
            return this;
        }

        /** Core dump size; 0 (the default) disables core dumps, {@link #UNSET} inherits. */
        public Builder coreBytes(long value) {
            this.coreBytes = value;
            return this;
        }

        /** The limits; they are checked when a policy is built with them. */
        public Limits build() {
            return new Limits(this);
        }
    }
}
