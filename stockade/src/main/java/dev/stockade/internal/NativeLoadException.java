package dev.stockade.internal;

/**
 * The native parts of Stockade (libstockade.so, stockade-helper) cannot be used on this machine
 * or from this jar. The message says what is wrong and what to do about it.
 */
public final class NativeLoadException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public NativeLoadException(String message) {
        super(message);
    }

    public NativeLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
