package dev.stockade;

import java.util.List;
import java.util.Objects;

/**
 * A seccomp profile file (or text) cannot be loaded: every problem found in it and in the files
 * it includes, each with its place. Thrown by {@link SeccompProfile#load},
 * {@link SeccompProfile#parse} and {@link SeccompProfile#named}, always at load time: nothing is
 * started with a profile that did not load.
 *
 * <p>{@link #problems()} holds each entry formatted as {@code FILE:LINE:COLUMN: message}
 * ({@code FILE: message} for problems of a whole file), the way compilers print them.
 */
public final class PolicySyntaxException extends PolicyException {
    private static final long serialVersionUID = 1L;

    /**
     * One problem.
     *
     * @param source the file (or source name) it is in
     * @param line 1-based line, 0 when the problem concerns the whole file
     * @param column 1-based column, 0 when the problem concerns the whole line or file
     * @param message what is wrong, and what was expected
     */
    public record Entry(String source, int line, int column, String message) {
        /**
         * A problem; {@code source} and {@code message} may not be {@code null}.
         *
         * @param source the file (or source name) it is in
         * @param line 1-based line, or 0
         * @param column 1-based column, or 0
         * @param message what is wrong, and what was expected
         */
        public Entry {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String toString() {
            if (line <= 0) {
                return source + ": " + message;
            }
            return source + ":" + line + (column > 0 ? ":" + column : "") + ": " + message;
        }
    }

    private final transient List<Entry> entries;

    /**
     * An exception whose message names the profile and lists every entry.
     *
     * @param source the profile that was being loaded (the top file)
     * @param entries every problem found, at least one
     * @throws IllegalArgumentException when {@code entries} is empty
     */
    public PolicySyntaxException(String source, List<Entry> entries) {
        super(headline(source, entries), entries.stream().map(Entry::toString).toList());
        this.entries = List.copyOf(entries);
    }

    /**
     * {@return every problem, in file and line order (an included file's where it is
     * included)} The entries are not serialized: in a deserialized exception this is
     * {@code null}, and {@link #problems()} holds them as text.
     */
    public List<Entry> entries() {
        return entries;
    }

    private static String headline(String source, List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a syntax exception needs at least one entry");
        }
        StringBuilder sb = new StringBuilder("invalid seccomp profile ").append(source);
        if (entries.size() == 1) {
            return sb.append(": ").append(entries.get(0)).toString();
        }
        sb.append(" (").append(entries.size()).append(" problems):");
        for (Entry e : entries) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
