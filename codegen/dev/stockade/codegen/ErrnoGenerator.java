package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dev.stockade.internal.Errno}: every errno number the build machine's C library names,
 * with its name ({@code strerrorname_np}) and its message ({@code strerror}, C locale), printed
 * by a small C program so that the Java side's messages read exactly like the C tools'.
 */
final class ErrnoGenerator implements Generator {
    static final String OUTPUT = "dev/stockade/internal/Errno.java";

    /** The kernel's MAX_ERRNO: error returns are -1 .. -4095. */
    private static final int MAX_ERRNO = 4095;

    private static final String PROGRAM = """
            #include <stdio.h>
            #include <string.h>

            /* "number<TAB>name<TAB>message" for each number glibc has a name for. */
            int main(void)
            {
                for (int e = 1; e <= %d; e++) {
                    const char *name = strerrorname_np(e);
                    if (name != NULL) {
                        printf("%%d\\t%%s\\t%%s\\n", e, name, strerror(e));
                    }
                }
                return 0;
            }
            """.formatted(MAX_ERRNO);

    private record Entry(int number, String name, String message) {}

    @Override
    public void generate(Path root, Path out) throws IOException {
        String glibc = "glibc " + HostCompiler.version("features.h", "__GLIBC__",
                "__GLIBC_MINOR__");
        List<Entry> entries = new ArrayList<>();
        for (String line : HostCompiler.run("the errno table", PROGRAM).lines().toList()) {
            String[] fields = line.split("\t", 3);
            if (fields.length != 3) {
                throw new GenerationException("errno table: unexpected line '" + line + "'");
            }
            entries.add(new Entry(Integer.parseInt(fields[0]), fields[1], fields[2]));
        }
        if (entries.isEmpty()) {
            throw new GenerationException("errno table: the C library names no errno");
        }
        GeneratedFile.write(out, OUTPUT, source(glibc, entries));
    }

    private static String source(String glibc, List<Entry> entries) {
        int size = entries.get(entries.size() - 1).number() + 1;
        StringBuilder puts = new StringBuilder();
        for (Entry e : entries) {
            puts.append("        put(").append(e.number()).append(", ")
                    .append(JavaText.literal(e.name())).append(", ")
                    .append(JavaText.literal(e.message())).append(");\n");
        }
        return JavaText.notice(ErrnoGenerator.class, List.of("strerrorname_np and strerror of "
                + glibc + " on the build machine")) + """
                package dev.stockade.internal;

                /**
                 * Linux errno names and their glibc {@code strerror} texts, so messages built on
                 * the Java side read like the C tools'
                 * ({@code "No such file or directory (errno 2)"}). From %s on the build
                 * machine; the numbers are the generic Linux ones, shared by x86_64 and aarch64.
                 */
                public final class Errno {
                    private Errno() {}

                    private static final String[] NAMES = new String[%d];
                    private static final String[] MESSAGES = new String[%d];

                    static {
                %s    }

                    private static void put(int number, String name, String message) {
                        NAMES[number] = name;
                        MESSAGES[number] = message;
                    }

                    /** The symbolic name ({@code "ENOENT"}), or {@code "errno N"} when unknown. */
                    public static String name(int number) {
                        if (number > 0 && number < NAMES.length && NAMES[number] != null) {
                            return NAMES[number];
                        }
                        return "errno " + number;
                    }

                    /**
                     * The strerror text ({@code "No such file or directory"}), or
                     * {@code "Unknown error N"}.
                     */
                    public static String message(int number) {
                        if (number > 0 && number < MESSAGES.length && MESSAGES[number] != null) {
                            return MESSAGES[number];
                        }
                        return "Unknown error " + number;
                    }

                    /** The errno number of a name ({@code "EPERM"} gives 1), or -1 when unknown. */
                    public static int number(String name) {
                        for (int i = 1; i < NAMES.length; i++) {
                            if (name.equals(NAMES[i])) {
                                return i;
                            }
                        }
                        return -1;
                    }
                }
                """.formatted(glibc, size, size, puts);
    }
}
