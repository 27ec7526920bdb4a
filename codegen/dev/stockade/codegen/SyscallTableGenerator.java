package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code dev.stockade.internal.SyscallTable}: the x86_64 and i386-only system call names from
 * the build machine's kernel headers, and the calls newer than them ({@link SyscallAbi}).
 */
final class SyscallTableGenerator implements Generator {
    static final String OUTPUT = "dev/stockade/internal/SyscallTable.java";
    private static final String INDENT = "            ";

    @Override
    public void generate(Path root, Path out) throws IOException {
        SyscallAbi abi = SyscallAbi.read(root);
        GeneratedFile.write(out, OUTPUT, source(abi));
    }

    static String source(SyscallAbi abi) {
        List<String> inputs = List.of(
                "<" + SyscallAbi.X86_64_HEADER + "> and <" + SyscallAbi.I386_HEADER
                        + "> (" + abi.headersVersion() + ")",
                SyscallAbi.NEWER);
        List<String> newer = new ArrayList<>();
        for (Map.Entry<String, Integer> e : abi.newer().entrySet()) {
            newer.add("Map.entry(" + JavaText.literal(e.getKey()) + ", " + e.getValue() + ")");
        }
        return JavaText.notice(SyscallTableGenerator.class, inputs) + """
                package dev.stockade.internal;

                import java.util.List;
                import java.util.Map;

                /**
                 * The system call names of the x86_64 Linux ABI, in syscall-number order, from the
                 * build machine's kernel headers (%s), so that validating a policy needs
                 * neither the native library nor the headers at run time. This is the one place
                 * that knows the architecture's syscall table: an aarch64 port adds its own here.
                 * {@link SyscallNames} uses it for validation and "did you mean" hints; the numbers
                 * themselves always come from libseccomp at compile time.
                 */
                final class SyscallTable {
                    private SyscallTable() {}

                    /** x86_64 names, index order = syscall number order (gaps skipped). */
                    static final List<String> X86_64 = List.of(
                %s);

                    /**
                     * Names that exist only in the 32-bit x86 ABI ({@code <%s>} minus
                     * {@code <%s>}, the same headers): a rule naming one is told it is
                     * the wrong architecture, not a typo.
                     */
                    static final List<String> I386_ONLY = List.of(
                %s);

                    /**
                     * x86_64 system calls newer than the kernel headers above and than libseccomp,
                     * with the kernel's numbers (%s).
                     * A filter rule for one of them uses the number directly, which libseccomp
                     * accepts.
                     */
                    static final Map<String, Integer> X86_64_NEWER = Map.ofEntries(
                %s);
                }
                """.formatted(abi.headersVersion().replace("kernel headers ", ""),
                        JavaText.wrapped(literals(List.copyOf(abi.native64().keySet())), INDENT),
                        SyscallAbi.I386_HEADER, SyscallAbi.X86_64_HEADER,
                        JavaText.wrapped(literals(abi.i386Only()), INDENT),
                        SyscallAbi.NEWER, JavaText.wrapped(newer, INDENT));
    }

    private static List<String> literals(List<String> names) {
        return names.stream().map(JavaText::literal).toList();
    }
}
