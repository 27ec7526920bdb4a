package dev.stockade.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which system call names exist on the native architecture, and the closest ones to a misspelt
 * name (for a policy's "did you mean"). The table is {@link SyscallTable}; the numbers used in a
 * filter come from {@link #number}.
 */
public final class SyscallNames {
    private SyscallNames() {}

    private static final List<String> NAMES = names();
    private static final Set<String> KNOWN = new HashSet<>(NAMES);

    private static List<String> names() {
        List<String> all = new ArrayList<>(SyscallTable.X86_64);
        SyscallTable.X86_64_NEWER.keySet().stream().filter(n -> !all.contains(n)).sorted(
                Comparator.comparing(SyscallTable.X86_64_NEWER::get)).forEach(all::add);
        return List.copyOf(all);
    }

    /** Whether {@code name} is a system call of the native architecture. */
    public static boolean isKnown(String name) {
        return KNOWN.contains(name);
    }

    private static final Set<String> OTHER_ARCHITECTURE = new HashSet<>(SyscallTable.I386_ONLY);

    /**
     * Why {@code name}, unknown here, is not a plain typo: "does not exist on x86_64 (a 32-bit
     * x86 system call)", or {@code null} when it is no system call of another architecture.
     */
    public static String otherArchitecture(String name) {
        return OTHER_ARCHITECTURE.contains(name)
                ? "does not exist on x86_64 (it is a 32-bit x86 system call, and that ABI is"
                        + " killed by the filter)"
                : null;
    }

    /**
     * The number of system call {@code name} on the native architecture: libseccomp's, or for a
     * call newer than libseccomp, the kernel's ({@link SyscallTable#X86_64_NEWER}); -1 when
     * there is no such call. Needs the native library.
     */
    public static int number(String name) {
        int nr = NativeBridge.resolveSyscall(name);
        if (nr < 0) {
            nr = SyscallTable.X86_64_NEWER.getOrDefault(name, -1);
        }
        return nr;
    }

    /** Every known name, in syscall-number order. */
    public static List<String> all() {
        return NAMES;
    }

    /**
     * How far a misspelt system call may be from a known one: names are short and share parts
     * ({@code pidfd_open}, {@code pidfd_getfd}), so a third of the length, and any name that
     * contains what was typed.
     */
    static final EditDistance.Tolerance TYPO = new EditDistance.Tolerance(3, true);

    /**
     * Up to {@code max} known names closest to {@code name} by edit distance, closest first (ties
     * in syscall-number order); only names close enough to be a plausible typo are returned.
     */
    public static List<String> closest(String name, int max) {
        return EditDistance.closest(name, NAMES, max, TYPO);
    }
}
