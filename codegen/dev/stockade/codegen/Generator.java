package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Path;

/** One generated artifact (or a few that belong together) and the inputs it is made from. */
interface Generator {
    /**
     * Reads its inputs under {@code root} (the repository) and writes its outputs under
     * {@code out} with {@link GeneratedFile#write}.
     */
    void generate(Path root, Path out) throws IOException;
}
