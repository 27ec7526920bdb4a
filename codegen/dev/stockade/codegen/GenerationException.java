package dev.stockade.codegen;

/** An input a generator cannot use; the message names the file and line. Fails the build. */
final class GenerationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GenerationException(String message) {
        super(message);
    }
}
