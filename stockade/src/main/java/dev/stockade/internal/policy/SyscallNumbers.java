package dev.stockade.internal.policy;

import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SyscallNames;
import java.util.HashMap;
import java.util.Map;

/**
 * Names of syscall numbers on the native architecture, for reports: the inverse of libseccomp's
 * name lookup over {@link SyscallNames#all()}, built once on first use.
 */
public final class SyscallNumbers {
    private SyscallNumbers() {}

    private static final class Table {
        static final Map<Integer, String> BY_NUMBER = build();

        private static Map<Integer, String> build() {
            NativeLoader.ensureLoaded();
            Map<Integer, String> m = new HashMap<>();
            for (String name : SyscallNames.all()) {
                int nr = SyscallNames.number(name);
                if (nr >= 0) {
                    m.putIfAbsent(nr, name);
                }
            }
            return m;
        }
    }

    /** The name of syscall {@code number}, or {@code "syscall_N"} when none is known. */
    public static String name(int number) {
        String name = Table.BY_NUMBER.get(number);
        return name != null ? name : "syscall_" + Integer.toUnsignedString(number);
    }
}
