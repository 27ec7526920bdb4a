package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code dev.stockade.internal.SyscallArgumentWidths}: which arguments of each x86_64 system
 * call the kernel truncates to 32 bits (or fewer), from the committed tracepoint types in
 * {@value #ARGUMENTS} (refreshed by {@code scripts/refresh-syscall-arguments}: a build cannot
 * read tracefs) and the known names of {@link SyscallAbi}.
 */
final class SyscallArgumentWidthsGenerator implements Generator {
    static final String OUTPUT = "dev/stockade/internal/SyscallArgumentWidths.java";
    static final String ARGUMENTS = "native/tables/x86_64-syscall-arguments.txt";

    /**
     * x86_64 names whose kernel entry point, and so tracepoint, has another name
     * (arch/x86/entry/syscalls/syscall_64.tbl).
     */
    private static final Map<String, String> ENTRY_POINTS = Map.of(
            "fstat", "newfstat", "lstat", "newlstat", "stat", "newstat", "uname", "newuname",
            "sendfile", "sendfile64", "umount2", "umount");

    /**
     * Argument types of 32 bits or fewer on x86_64 (kernel include/linux/types.h and
     * include/uapi/asm-generic/posix_types.h), which the kernel's syscall wrappers truncate
     * the 64-bit register to; an {@code enum} type is one of them too.
     */
    private static final Set<String> NARROW = Set.of(
            "int", "unsigned int", "unsigned", "u32", "__u32", "__s32", "pid_t", "uid_t", "gid_t",
            "umode_t", "clockid_t", "timer_t", "mqd_t", "key_t", "key_serial_t", "qid_t", "rwf_t");

    /** Argument types the kernel uses at full register width, besides pointers. */
    private static final Set<String> WIDE = Set.of(
            "long", "unsigned long", "size_t", "off_t", "loff_t", "u64", "__u64", "aio_context_t",
            "cap_user_header_t", "cap_user_data_t");

    @Override
    public void generate(Path root, Path out) throws IOException {
        SyscallAbi abi = SyscallAbi.read(root);
        Map<String, List<String>> types = read(root.resolve(ARGUMENTS));
        GeneratedFile.write(out, OUTPUT, source(masks(abi, types)));
    }

    /** "name: type, type" lines, by entry point name. */
    private static Map<String, List<String>> read(Path file) throws IOException {
        Map<String, List<String>> types = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new GenerationException(ARGUMENTS + ":" + (i + 1)
                        + ": expected 'name: type, type, ...', got '" + line + "'");
            }
            String rest = line.substring(colon + 1).strip();
            types.put(line.substring(0, colon), rest.isEmpty() ? List.of()
                    : List.of(rest.split(", ")));
        }
        return types;
    }

    /** Known syscall name to its 32-bit argument mask (bit i: argument i), non-zero only. */
    static Map<String, Integer> masks(SyscallAbi abi, Map<String, List<String>> types) {
        for (Map.Entry<String, String> alias : ENTRY_POINTS.entrySet()) {
            if (!types.containsKey(alias.getValue())) {
                throw new GenerationException(ARGUMENTS + " has no " + alias.getValue()
                        + " (the entry point of " + alias.getKey() + ")");
            }
        }
        Map<String, Integer> masks = new TreeMap<>();
        for (String name : abi.allNames()) {
            List<String> arguments = types.get(ENTRY_POINTS.getOrDefault(name, name));
            if (arguments == null) {
                continue; // no tracepoint on the kernel the file came from
            }
            int mask = 0;
            for (int i = 0; i < arguments.size(); i++) {
                if (isNarrow(name, arguments.get(i))) {
                    mask |= 1 << i;
                }
            }
            if (mask != 0) {
                masks.put(name, mask);
            }
        }
        return masks;
    }

    private static boolean isNarrow(String syscall, String declared) {
        if (declared.contains("*")) {
            return false;
        }
        String type = declared.startsWith("const ") ? declared.substring(6) : declared;
        if (type.startsWith("enum ") || NARROW.contains(type)) {
            return true;
        }
        if (WIDE.contains(type)) {
            return false;
        }
        throw new GenerationException(ARGUMENTS + ": " + syscall + " takes a '" + declared
                + "', a type of unknown width: add it to NARROW or WIDE in "
                + SyscallArgumentWidthsGenerator.class.getSimpleName());
    }

    static String source(Map<String, Integer> masks) {
        List<String> entries = new ArrayList<>();
        masks.forEach((name, mask) -> entries.add(
                "            Map.entry(" + JavaText.literal(name) + ", "
                        + String.format("0x%02x", mask) + ")"));
        return JavaText.notice(SyscallArgumentWidthsGenerator.class, List.of(ARGUMENTS,
                "the known syscall names (" + SyscallTableGenerator.OUTPUT + ")")) + """
                package dev.stockade.internal;

                import java.util.Map;

                /**
                 * Which arguments of each x86_64 system call are 32-bit ({@code int},
                 * {@code unsigned int}, {@code pid_t}, {@code umode_t}, an {@code enum}, ...): the
                 * kernel truncates those registers to their low 32 bits before using them, while a
                 * seccomp filter sees the whole 64-bit register. A filter comparing such an
                 * argument must therefore look at the low 32 bits only, or a caller could set the
                 * high bits to slip past a rule. Made from the kernel's syscall tracepoint formats,
                 * kept in %s, beside
                 * {@link SyscallTable}, the other architecture-specific table.
                 */
                public final class SyscallArgumentWidths {
                    private SyscallArgumentWidths() {}

                    /** Syscall name -> bit i set when argument i is 32-bit. */
                    private static final Map<String, Integer> X86_64 = Map.ofEntries(
                %s);

                    /** Whether argument {@code index} (0..5) of {@code syscall} is 32-bit. */
                    public static boolean is32Bit(String syscall, int index) {
                        Integer mask = X86_64.get(syscall);
                        return mask != null && index >= 0 && index < 6
                                && (mask & (1 << index)) != 0;
                    }
                }
                """.formatted(ARGUMENTS, String.join(",\n", entries));
    }
}
