package dev.stockade.codegen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The x86_64 system call names the Java side knows, read from their sources: the kernel
 * headers of the build machine ({@code <asm/unistd_64.h>}, {@code <asm/unistd_32.h>}) and the
 * one list of calls newer than those headers and libseccomp, {@value #NEWER}, which
 * {@code native/tools/CMakeLists.txt} also reads for try-syscall. {@code headersVersion} is
 * what the generated files say they were made from ("kernel headers 6.1.187").
 */
record SyscallAbi(Map<String, Integer> native64, List<String> i386Only,
        Map<String, Integer> newer, String headersVersion) {

    /** The newer-than-libseccomp list, relative to the repository. */
    static final String NEWER = "native/tables/x86_64-syscalls-newer.txt";
    static final String X86_64_HEADER = "asm/unistd_64.h";
    static final String I386_HEADER = "asm/unistd_32.h";

    private static final Pattern NR = Pattern.compile("__NR_(\\w+)");
    private static final Pattern NUMBER = Pattern.compile("\\d+");
    private static final Pattern NEWER_LINE = Pattern.compile("([a-z][a-z0-9_]*) (\\d+)");

    /** Reads the headers and {@value #NEWER} under {@code root}. */
    static SyscallAbi read(Path root) throws IOException {
        Map<String, String> machine = HostCompiler.defines(List.of("sys/utsname.h"));
        if (!machine.containsKey("__x86_64__")) {
            throw new GenerationException("the syscall tables are x86_64's and this compiler"
                    + " does not target x86_64 (an aarch64 port adds its own tables)");
        }
        Map<String, Integer> native64 = numbers(X86_64_HEADER);
        List<String> i386Only = new ArrayList<>(numbers(I386_HEADER).keySet());
        i386Only.removeAll(native64.keySet());
        Collections.sort(i386Only);
        Map<String, Integer> newer = newer(root.resolve(NEWER), native64);
        String version = "kernel headers " + HostCompiler.version("linux/version.h",
                "LINUX_VERSION_MAJOR", "LINUX_VERSION_PATCHLEVEL", "LINUX_VERSION_SUBLEVEL");
        return new SyscallAbi(Collections.unmodifiableMap(native64), List.copyOf(i386Only),
                Collections.unmodifiableMap(newer), version);
    }

    /** Every name a rule may use: the header's calls, then the newer ones. */
    List<String> allNames() {
        List<String> all = new ArrayList<>(native64.keySet());
        newer.keySet().stream().filter(n -> !native64.containsKey(n)).forEach(all::add);
        return all;
    }

    /** {@code __NR_name number} of {@code header}, in number order. */
    private static Map<String, Integer> numbers(String header) throws IOException {
        Map<Integer, String> byNumber = new TreeMap<>();
        for (Map.Entry<String, String> macro : HostCompiler.defines(List.of(header)).entrySet()) {
            Matcher name = NR.matcher(macro.getKey());
            if (!name.matches()) {
                continue;
            }
            if (!NUMBER.matcher(macro.getValue()).matches()) {
                throw new GenerationException("<" + header + ">: " + macro.getKey() + " is '"
                        + macro.getValue() + "', not a number");
            }
            String clash = byNumber.put(Integer.parseInt(macro.getValue()), name.group(1));
            if (clash != null) {
                throw new GenerationException("<" + header + ">: " + clash + " and "
                        + name.group(1) + " share number " + macro.getValue());
            }
        }
        Map<String, Integer> byName = new LinkedHashMap<>();
        byNumber.forEach((number, name) -> byName.put(name, number));
        return byName;
    }

    /**
     * The newer list, checked against the headers: a call the headers already have must have
     * the same number there (after a header upgrade the entry is redundant but harmless), and
     * no two calls share a number.
     */
    private static Map<String, Integer> newer(Path file, Map<String, Integer> native64)
            throws IOException {
        Map<String, Integer> newer = new LinkedHashMap<>();
        Map<Integer, String> numbers = new TreeMap<>();
        native64.forEach((name, number) -> numbers.put(number, name));
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String at = NEWER + ":" + (i + 1) + ": ";
            Matcher m = NEWER_LINE.matcher(line);
            if (!m.matches()) {
                throw new GenerationException(at + "expected 'name number', got '" + line + "'");
            }
            String name = m.group(1);
            int number = Integer.parseInt(m.group(2));
            Integer inHeader = native64.get(name);
            if (inHeader != null && inHeader != number) {
                throw new GenerationException(at + name + " is " + number + " here but "
                        + inHeader + " in <" + X86_64_HEADER + ">");
            }
            String other = numbers.get(number);
            if (other != null && !other.equals(name)) {
                throw new GenerationException(at + number + " is already " + other);
            }
            if (newer.put(name, number) != null) {
                throw new GenerationException(at + name + " is listed twice");
            }
            numbers.put(number, name);
        }
        return newer;
    }
}
