package dev.stockade;

import java.util.List;

/**
 * A {@link SandboxPolicy} (or a part of it) is invalid. Thrown by
 * {@link SandboxPolicy.Builder#build()} with every problem found, so a user fixes them all in
 * one go; nothing is started with an invalid policy.
 */
public class PolicyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public PolicyException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    /** For subclasses with their own headline; {@code problems} as {@link #problems()}. */
    protected PolicyException(String message, List<String> problems) {
        super(message);
        this.problems = List.copyOf(problems);
    }

    /** Each problem as one sentence, in the order they were found. */
    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        if (problems.size() == 1) {
            return "invalid sandbox policy: " + problems.get(0);
        }
        StringBuilder sb = new StringBuilder("invalid sandbox policy (")
                .append(problems.size()).append(" problems):");
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        return sb.toString();
    }
}
