package dev.stockade;

import dev.stockade.internal.ControlEvent;
import java.io.IOException;

/**
 * The {@link SetupError}s of one spawn, from the helper's report or from its failing to give
 * one: the one wording for each, for the launcher (before STARTED) and the process (after it).
 */
final class HelperErrors {
    private HelperErrors() {}

    /** The step the helper reports as failed. */
    static SetupError reported(ControlEvent.Error e) {
        return new SetupError(e.step(), e.errno(), e.detail());
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
