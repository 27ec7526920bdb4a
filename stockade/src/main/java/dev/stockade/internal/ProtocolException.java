package dev.stockade.internal;

import java.io.IOException;

/** The helper sent a frame that breaks the protocol (unknown type, bad length, bad field). */
public final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
