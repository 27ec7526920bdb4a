package dev.stockade.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The platform the natives are built for: the resource directory under
 * {@code /META-INF/native/} and the ELF machine number. Architecture specifics live here only.
 */
public record Platform(String resourceDirectory, String architecture, int elfMachine) {

    private static final int EM_X86_64 = 62;
    private static final int EM_AARCH64 = 183;
    private static final int ELF_HEADER_SIZE = 20;

    /** The platforms whose system-call ABI this code knows, by resource directory. */
    private static final List<String> KNOWN = List.of("linux-x86_64", "linux-aarch64");

    /**
     * The platform of this JVM; {@link NativeLoadException} when Stockade does not know it
     * (see {@link #of}).
     */
    public static Platform current() {
        return of(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /**
     * The platform of this JVM when Stockade knows its system-call ABI, else Linux x86_64's:
     * for constants that must not fail a class's initialization on another OS (no native call
     * runs there: the natives do not load).
     */
    static Platform currentOrDefault() {
        Platform p = known(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        return p != null ? p : known("Linux", "x86_64");
    }

    /**
     * The platform for {@code os.name} and {@code os.arch}, whether or not this jar has natives
     * for it (installed ones may be named by system properties).
     *
     * @throws NativeLoadException when Stockade does not know that OS and architecture
     */
    static Platform of(String osName, String osArch) {
        Platform p = known(osName, osArch);
        if (p == null) {
            throw new NativeLoadException(unsupported(osName, osArch, shipped()));
        }
        return p;
    }

    private static Platform known(String osName, String osArch) {
        if (osName.equalsIgnoreCase("Linux")) {
            switch (osArch.toLowerCase(Locale.ROOT)) {
                case "amd64", "x86_64":
                    return new Platform("linux-x86_64", "x86_64", EM_X86_64);
                case "aarch64", "arm64":
                    return new Platform("linux-aarch64", "aarch64", EM_AARCH64);
                default:
                    break;
            }
        }
        return null;
    }

    /**
     * Why Stockade cannot run in this JVM, or {@code null} when it can as far as the platform
     * goes (the kernel's features are the probe's): the OS and architecture must be known and
     * this jar must hold natives for them, or system properties must name installed ones
     * ({@code stockade.library} and {@code stockade.helper}). Never throws, loads nothing.
     */
    public static String unsupportedReason() {
        String osName = System.getProperty("os.name", "");
        String osArch = System.getProperty("os.arch", "");
        Platform p = known(osName, osArch);
        List<String> shipped = shipped();
        if (p == null) {
            return unsupported(osName, osArch, shipped);
        }
        boolean installed = System.getProperty(NativeInstaller.LIBRARY_PROPERTY) != null
                && System.getProperty(NativeInstaller.HELPER_PROPERTY) != null;
        if (!shipped.contains(p.resourceDirectory()) && !installed) {
            return "this Stockade jar has " + natives(shipped) + "; this JVM runs on "
                    + p.resourceDirectory() + " (os.name=" + osName + ", os.arch=" + osArch
                    + "): use a Stockade build with natives for it, or set -D"
                    + NativeInstaller.LIBRARY_PROPERTY + " and -D"
                    + NativeInstaller.HELPER_PROPERTY + " to installed copies";
        }
        return null;
    }

    private static String unsupported(String osName, String osArch, List<String> shipped) {
        return "Stockade runs on Linux only, and this jar has " + natives(shipped)
                + "; this JVM reports os.name=" + osName + ", os.arch=" + osArch
                + ": run it on a supported platform (sandboxing uses Linux kernel features)";
    }

    private static String natives(List<String> shipped) {
        return shipped.isEmpty() ? "no natives"
                : "natives for " + String.join(" and ", shipped) + " only";
    }

    /** The known platforms this jar (this class's loader) holds the natives of. */
    static List<String> shipped() {
        List<String> shipped = new ArrayList<>();
        for (String dir : KNOWN) {
            if (Platform.class.getResource("/META-INF/native/" + dir + "/libstockade.so") != null
                    && Platform.class.getResource("/META-INF/native/" + dir + "/stockade-helper")
                    != null) {
                shipped.add(dir);
            }
        }
        return shipped;
    }

    /**
     * Linux's O_NOFOLLOW, one of the few open flags whose value differs by architecture
     * (asm-generic 0400000; arm64 0100000).
     */
    int openNoFollow() {
        return elfMachine == EM_AARCH64 ? 0100000 : 0400000;
    }

    /** Linux's O_DIRECTORY, the other one (asm-generic 0200000; arm64 040000). */
    int openDirectory() {
        return elfMachine == EM_AARCH64 ? 040000 : 0200000;
    }

    /** The classpath resource of a native file, e.g. {@code /META-INF/native/linux-x86_64/x}. */
    String resource(String fileName) {
        return "/META-INF/native/" + resourceDirectory + "/" + fileName;
    }

    /**
     * Why an executable or shared object with these leading bytes cannot run on this platform,
     * or {@code null} when it is a 64-bit little-endian ELF file for this machine.
     */
    String elfMismatch(byte[] header) {
        if (header.length < ELF_HEADER_SIZE || header[0] != 0x7f || header[1] != 'E'
                || header[2] != 'L' || header[3] != 'F') {
            return "it is not an ELF file";
        }
        if (header[4] != 2) {
            return "it is a 32-bit ELF file (wrong ELF class), this JVM is 64-bit " + architecture;
        }
        if (header[5] != 1) {
            return "it is a big-endian ELF file, this JVM is little-endian " + architecture;
        }
        int machine = (header[18] & 0xff) | (header[19] & 0xff) << 8;
        if (machine != elfMachine) {
            return "it is built for " + machineName(machine) + ", this JVM runs on " + architecture;
        }
        return null;
    }

    private static String machineName(int machine) {
        return switch (machine) {
            case EM_X86_64 -> "x86_64";
            case EM_AARCH64 -> "aarch64";
            case 3 -> "i386";
            case 40 -> "arm";
            case 243 -> "riscv";
            default -> "ELF machine " + machine;
        };
    }
}
