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
     * Up to {@code max} known names closest to {@code name} by edit distance, closest first (ties
     * in syscall-number order); only names close enough to be a plausible typo are returned.
     */
    public static List<String> closest(String name, int max) {
        record Candidate(String name, int distance, int order) {}
        int limit = Math.max(2, name.length() / 3);
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < NAMES.size(); i++) {
            String known = NAMES.get(i);
            int d = distance(name, known);
            if (d <= limit || known.contains(name) && name.length() >= 3) {
                candidates.add(new Candidate(known, d, i));
            }
        }
        candidates.sort(Comparator.comparingInt(Candidate::distance)
                .thenComparingInt(Candidate::order));
        List<String> result = new ArrayList<>();
        for (int i = 0; i < candidates.size() && i < max; i++) {
            result.add(candidates.get(i).name());
        }
        return result;
    }

    /** Levenshtein distance, case-insensitive (ASCII names). */
    static int distance(String a, String b) {
        String x = a.toLowerCase(java.util.Locale.ROOT);
        String y = b.toLowerCase(java.util.Locale.ROOT);
        int[] prev = new int[y.length() + 1];
        int[] cur = new int[y.length() + 1];
        for (int j = 0; j <= y.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= x.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= y.length(); j++) {
                int cost = x.charAt(i - 1) == y.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[y.length()];
    }
}
