package dev.stockade;

import dev.stockade.internal.ControlEvent;
import dev.stockade.internal.Errno;
import dev.stockade.internal.Protocol;
import java.io.IOException;
import java.util.List;

/**
 * The {@link SetupError}s of one spawn, from the helper's report or from its failing to give
 * one: the one wording for each, for the launcher (before STARTED) and the process (after it).
 */
final class HelperErrors {
    private HelperErrors() {}

    private static final int ENOENT = Errno.number("ENOENT");

    /** The step the helper reports as failed. */
    static SetupError reported(ControlEvent.Error e) {
        return new SetupError(e.step(), e.errno(), e.detail());
    }

    /**
     * The exception for a command's set-up the helper reports as failed. A program not found
     * ({@code execve}, ENOENT, 127; the detail is argv[0]) says {@code "command not found:
     * NAME (PATH=...)"}, with the PATH the sandbox searched ({@code environment}'s, else the
     * helper's default) for a name without a {@code /}.
     *
     * @param environment the command's environment, as NAME=VALUE strings
     */
    static SandboxSetupException failed(ControlEvent.Error e, List<String> environment) {
        SetupError error = reported(e);
        if (e.step() != SetupStep.EXECVE || e.errno() != ENOENT
                || e.exitCode() != SandboxSetupException.EXIT_NOT_FOUND) {
            return new SandboxSetupException(error, e.exitCode());
        }
        String name = e.detail();
        String path = Protocol.DEFAULT_PATH;
        for (String variable : environment) {
            if (variable.startsWith("PATH=")) {
                path = variable.substring("PATH=".length());
            }
        }
        return new SandboxSetupException(error, e.exitCode(), "command not found: " + name
                + (name.contains("/") ? "" : " (PATH=" + path + ")"));
    }

    /** The helper sent something that is not a frame of the protocol. */
    static SetupError badFrame(IOException e) {
        return protocol("bad frame from the helper: " + e.getMessage());
    }

    /** The helper broke the protocol with well-formed frames. */
    static SetupError protocol(String detail) {
        return new SetupError(SetupStep.PROTOCOL, 0, detail);
    }

    /** Something went wrong with the helper process itself. */
    static SetupError helper(String detail) {
        return new SetupError(SetupStep.HELPER, 0, detail);
    }
}
