package dev.stockade;

import dev.stockade.internal.Errno;
import java.util.Objects;

/**
 * Why a sandbox could not be set up, or why it ended without the helper's report: the step that
 * failed (one of the helper's, for example {@link SetupStep#BIND}, {@link SetupStep#UID_MAP},
 * {@link SetupStep#EXECVE}; or {@link SetupStep#HELPER} when the helper died without a report),
 * its errno (0 when there is none), and a detail (often the path or value concerned; may be
 * empty).
 *
 * @param step the failed step
 * @param errno the errno, 0 when none applies
 * @param detail what the step worked on, or what went wrong; may be empty
 */
public record SetupError(SetupStep step, int errno, String detail) {

    /**
     * A set-up error.
     *
     * @param step the failed step
     * @param errno the errno, 0 when none applies
     * @param detail what the step worked on, or what went wrong; empty rather than {@code null}
     */
    public SetupError {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(detail, "detail");
    }

    /**
     * One line such as {@code "sandbox set-up failed at step 'bind': No such file or directory
     * (errno 2): /nonexistent"}.
     *
     * @return the step's name, then the errno's text and number when there is one, then the
     *     detail when there is one
     */
    public String message() {
        StringBuilder sb = new StringBuilder("sandbox set-up failed at step '")
                .append(step.stepName())
                .append('\'');
        if (errno != 0) {
            sb.append(": ").append(Errno.message(errno)).append(" (errno ").append(errno)
                    .append(')');
        }
        if (!detail.isEmpty()) {
            sb.append(": ").append(detail);
        }
        return sb.toString();
    }
}
