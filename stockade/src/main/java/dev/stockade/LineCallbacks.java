package dev.stockade;

import java.util.function.Consumer;

/**
 * The line consumers of a start ({@link SandboxBuilder#onOutputLine},
 * {@link SandboxBuilder#onErrorLine}), passed down to the {@link SandboxedProcess} so that its
 * reaper knows of them before the command can end; either may be null.
 */
record LineCallbacks(Consumer<String> output, Consumer<String> error) {
    static final LineCallbacks NONE = new LineCallbacks(null, null);
}
