package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code dev.stockade.internal.policy.PolicyConstants}: the named constants a profile may use
 * as argument values. The names are every macro of {@link #HEADERS} in the families of
 * {@link #FAMILY} and every enumerator of {@code <sys/personality.h>} (its flags and
 * {@code PER_*} are an enum, no macros); the values are printed by a C program, so they are the
 * compiler's. A name the compiler cannot turn into an integer constant from these headers
 * ({@code MAP_FAILED}, a pointer; {@code TCGETS2}, which needs a struct they do not declare) is
 * left out and listed in the generated file.
 */
final class PolicyConstantsGenerator implements Generator {
    static final String OUTPUT = "dev/stockade/internal/policy/PolicyConstants.java";

    static final List<String> HEADERS = List.of("sys/socket.h", "fcntl.h", "sys/mman.h",
            "linux/prctl.h", "sys/personality.h", "sys/ioctl.h", "linux/sched.h");
    private static final String ENUM_HEADER = "sys/personality.h";

    /** Clone flags, address families, socket types, open flags, mmap and prctl, tty ioctls. */
    private static final Pattern FAMILY = Pattern.compile(
            "(CLONE_|AF_|SOCK_|O_|PROT_|MAP_|PR_|TIOC|TC|FIO)\\w+");

    /**
     * Family members that are no argument value: limits and bit positions, a struct size, a
     * mask that only means something after a shift, and glibc's O_LARGEFILE, which is 0 on
     * x86_64 while the kernel itself sets 0100000 on every 64-bit open.
     */
    private static final Pattern NOT_A_VALUE = Pattern.compile(
            "\\w+_MAX|\\w+_SHIFT|PR_SET_MM_MAP_SIZE|MAP_HUGE_MASK|O_LARGEFILE");

    private static final Pattern ENUM = Pattern.compile("enum\\s*\\{([^}]*)\\}");
    private static final Pattern ENUMERATOR = Pattern.compile("^\\s*([A-Za-z_]\\w*)");

    @Override
    public void generate(Path root, Path out) throws IOException {
        Set<String> candidates = new TreeSet<>();
        for (String name : HostCompiler.defines(HEADERS).keySet()) {
            if (FAMILY.matcher(name).matches() && !NOT_A_VALUE.matcher(name).matches()) {
                candidates.add(name);
            }
        }
        candidates.addAll(enumerators(HostCompiler.preprocess(List.of(ENUM_HEADER))));
        List<String> names = new ArrayList<>(candidates);
        List<String> rejected = rejected(names);
        names.removeAll(rejected);
        String versions = "glibc " + HostCompiler.version("features.h", "__GLIBC__",
                "__GLIBC_MINOR__") + ", kernel headers " + HostCompiler.version(
                "linux/version.h", "LINUX_VERSION_MAJOR", "LINUX_VERSION_PATCHLEVEL",
                "LINUX_VERSION_SUBLEVEL");
        GeneratedFile.write(out, OUTPUT, source(versions, values(names), rejected));
    }

    private static List<String> enumerators(String preprocessed) {
        List<String> names = new ArrayList<>();
        Matcher block = ENUM.matcher(preprocessed);
        while (block.find()) {
            for (String item : block.group(1).split(",")) {
                Matcher name = ENUMERATOR.matcher(item);
                if (name.find()) {
                    names.add(name.group(1));
                }
            }
        }
        if (names.isEmpty()) {
            throw new GenerationException("<" + ENUM_HEADER + "> declares no enumerators");
        }
        return names;
    }

    /** The names that are no integer constant expression with these headers. */
    private static List<String> rejected(List<String> names) throws IOException {
        String includes = HostCompiler.includes(HEADERS);
        int first = (int) includes.lines().count() + 1;
        StringBuilder program = new StringBuilder(includes);
        for (String name : names) {
            program.append("_Static_assert((unsigned long long)(").append(name)
                    .append(") == 0 || 1, \"").append(name).append("\");\n");
        }
        List<String> rejected = new ArrayList<>();
        for (int line : HostCompiler.rejectedLines(program.toString())) {
            int index = line - first;
            if (index < 0 || index >= names.size()) {
                throw new GenerationException("the headers " + HEADERS
                        + " do not compile on their own (line " + line + ")");
            }
            rejected.add(names.get(index));
        }
        return rejected;
    }

    private static Map<String, Long> values(List<String> names) throws IOException {
        StringBuilder program = new StringBuilder(HostCompiler.includes(HEADERS))
                .append("#include <stdio.h>\n\nint main(void)\n{\n");
        for (String name : names) {
            program.append("    printf(\"%s %llx\\n\", \"").append(name)
                    .append("\", (unsigned long long)(").append(name).append("));\n");
        }
        program.append("    return 0;\n}\n");
        Map<String, Long> values = new TreeMap<>();
        for (String line : HostCompiler.run("the policy constants", program.toString())
                .lines().toList()) {
            String[] fields = line.split(" ");
            values.put(fields[0], Long.parseUnsignedLong(fields[1], 16));
        }
        if (!values.keySet().equals(new TreeSet<>(names))) {
            throw new GenerationException("the policy constants program printed "
                    + values.size() + " values for " + names.size() + " names");
        }
        return values;
    }

    private static String source(String versions, Map<String, Long> values,
            List<String> rejected) {
        StringBuilder puts = new StringBuilder();
        values.forEach((name, value) -> puts.append("        c(").append(JavaText.literal(name))
                .append(", 0x").append(Long.toHexString(value)).append("L);\n"));
        List<String> inputs = List.of(
                JavaText.wrapped(HEADERS.stream().map(h -> "<" + h + ">").toList(), "")
                        + "\n(" + versions + ")",
                "left out, no integer constants with these headers:\n"
                        + JavaText.wrapped(rejected, ""));
        return JavaText.notice(PolicyConstantsGenerator.class, inputs) + """
                package dev.stockade.internal.policy;

                import java.util.ArrayList;
                import java.util.Collections;
                import java.util.HashMap;
                import java.util.List;
                import java.util.Map;
                import java.util.OptionalLong;

                /**
                 * The named constants a profile may use as argument values: the x86_64 Linux values
                 * of the {@code CLONE_*}, {@code AF_*}, {@code SOCK_*}, {@code O_*},
                 * {@code PROT_*}, {@code MAP_*}, {@code PR_*}, {@code PER_*} (and personality
                 * flags) and terminal ioctl request ({@code TIOC*}, {@code TC*}, {@code FIO*})
                 * names, from the build machine's headers (%s),
                 * each printed by a C program so the numbers are the compiler's, not transcribed.
                 * Kept as source so loading a profile needs no headers; an aarch64 port generates
                 * its own values (most are shared; the ioctl numbers are too). Errno names
                 * ({@code EPERM}) are {@link dev.stockade.internal.Errno}'s.
                 */
                public final class PolicyConstants {
                    private PolicyConstants() {}

                    private static final Map<String, Long> VALUES = new HashMap<>();

                    private static void c(String name, long value) {
                        VALUES.put(name, value);
                    }

                    /** The value of {@code name}, if it is a known constant. */
                    public static OptionalLong value(String name) {
                        Long v = VALUES.get(name);
                        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
                    }

                    /** Every constant name, sorted. */
                    public static List<String> names() {
                        List<String> names = new ArrayList<>(VALUES.keySet());
                        Collections.sort(names);
                        return names;
                    }

                    static {
                %s    }
                }
                """.formatted(versions, puts);
    }
}
