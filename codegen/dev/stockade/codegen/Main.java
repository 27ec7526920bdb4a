package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Generates the Java sources that mirror facts defined on the C side (the wire protocol in
 * {@code native/include/stockade.h}, the kernel's and libseccomp's tables), so that each fact
 * is written once. Maven runs it in {@code generate-sources} (see pom.xml):
 *
 * <pre>java -cp target/codegen-classes dev.stockade.codegen.Main REPO_ROOT OUTPUT_DIR</pre>
 *
 * OUTPUT_DIR is a source root (target/generated-sources/stockade). A generated file is
 * rewritten only when its text changes, so an unchanged build recompiles nothing.
 */
public final class Main {
    private Main() {}

    /** Every generator of the build, in the order they run. */
    static List<Generator> generators() {
        return List.of(
                new ProtocolGenerator(),
                new SyscallTableGenerator(),
                new SyscallArgumentWidthsGenerator(),
                new ErrnoGenerator(),
                new PolicyConstantsGenerator());
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: Main REPO_ROOT OUTPUT_DIR");
            System.exit(2);
        }
        Path root = Path.of(args[0]);
        Path out = Path.of(args[1]);
        try {
            for (Generator generator : generators()) {
                generator.generate(root, out);
            }
        } catch (GenerationException e) {
            System.err.println("codegen: " + e.getMessage());
            System.exit(1);
        }
    }
}
