package dev.stockade;

import dev.stockade.internal.Protocol;
import java.io.IOException;

/**
 * The sandbox could not be set up, so the command never ran: a namespace, mount, limit or filter
 * could not be applied, or the command could not be executed. Distinct from the command's own
 * failure, which is a normal non-zero exit.
 *
 * <p>{@link #exitCode()} follows the shell's convention, as the CLI's exit status: 126 when the
 * command is not executable, 127 when it is not found, 125 for every other set-up failure.
 */
public class SandboxSetupException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Any set-up failure other than the two below. */
    public static final int EXIT_SETUP = Protocol.EXIT_SETUP;
    /** The command exists but cannot be executed. */
    public static final int EXIT_NOT_EXECUTABLE = Protocol.EXIT_NOT_EXECUTABLE;
    /** The command was not found. */
    public static final int EXIT_NOT_FOUND = Protocol.EXIT_NOT_FOUND;

    /**
     * The failed step, its errno and detail; the exception's message is its message, or one
     * worded for the case (a command not found, a working directory outside the view).
     */
    private final SetupError error;
    /**
     * The shell-style exit status: {@link #EXIT_SETUP}, {@link #EXIT_NOT_EXECUTABLE} or
     * {@link #EXIT_NOT_FOUND}.
     */
    private final int exitCode;

    /**
     * An exception for a set-up failure, with {@link SetupError#message()} as its message.
     *
     * @param error the failed step, its errno and detail
     * @param exitCode the exit status the failure stands for: {@link #EXIT_SETUP},
     *     {@link #EXIT_NOT_EXECUTABLE} or {@link #EXIT_NOT_FOUND}
     */
    public SandboxSetupException(SetupError error, int exitCode) {
        super(error.message());
        this.error = error;
        this.exitCode = exitCode;
    }

    /**
     * With a message of its own, clearer than {@link SetupError#message()} for this case.
     *
     * @param error the failed step, its errno and detail
     * @param exitCode as in {@link #SandboxSetupException(SetupError, int)}
     * @param message the one-line message
     */
    SandboxSetupException(SetupError error, int exitCode, String message) {
        super(message);
        this.error = error;
        this.exitCode = exitCode;
    }

    /** {@return the step that failed} For example {@link SetupStep#EXECVE}. */
    public SetupStep step() {
        return error.step();
    }

    /** {@return the errno of the failed step; 0 when there is none} */
    public int errno() {
        return error.errno();
    }

    /** {@return what the step worked on (a path, a value), or what went wrong; may be empty} */
    public String detail() {
        return error.detail();
    }

    /**
     * {@return the shell-style exit status: 125, 126 or 127} See the class description.
     */
    public int exitCode() {
        return exitCode;
    }

    /** {@return the step, errno and detail as one value} */
    public SetupError setupError() {
        return error;
    }
}
