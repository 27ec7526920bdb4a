package dev.stockade.internal;

import java.io.IOException;

/**
 * A command or policy cannot be put into a SPEC frame: a string contains NUL, or a value is past
 * one of the protocol's limits ({@link Protocol}). Nothing has been started when this is thrown.
 */
public final class SpecException extends IOException {
    private static final long serialVersionUID = 1L;

    public SpecException(String message) {
        super(message);
    }
}
