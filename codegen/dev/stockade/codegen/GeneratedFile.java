package dev.stockade.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a generated source file. */
final class GeneratedFile {
    private GeneratedFile() {}

    /**
     * Writes {@code text} to {@code out/relative} unless the file already holds exactly that
     * text (so javac and CMake see an unchanged timestamp and rebuild nothing).
     */
    static void write(Path out, String relative, String text) throws IOException {
        Path file = out.resolve(relative);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (Files.isRegularFile(file) && java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
