package dev.stockade;

import java.util.List;

/**
 * A {@link SandboxPolicy} (or a part of it) is invalid. Thrown by
 * {@link SandboxPolicy.Builder#build()} with every problem found, so a user fixes them all in
 * one go; nothing is started with an invalid policy.
 */
public class PolicyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Each problem as one sentence, in the order they were found. */
    private final List<String> problems;

    /**
     * An exception whose message is the problems, headed {@code "invalid sandbox policy"}.
     *
     * @param problems each problem as one sentence, in the order found; copied
     */
    public PolicyException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    /**
     * For subclasses with their own headline.
     *
     * @param message the exception's whole message, the problems included as the subclass
     *     shows them
     * @param problems each problem as one sentence, as {@link #problems()} returns them
     */
    protected PolicyException(String message, List<String> problems) {
        super(message);
        this.problems = List.copyOf(problems);
    }

    /** {@return each problem as one sentence, in the order they were found} */
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
