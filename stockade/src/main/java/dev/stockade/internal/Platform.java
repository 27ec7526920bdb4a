package dev.stockade.internal;

import java.util.Locale;

/**
 * The platform the natives are built for: the resource directory under
 * {@code /META-INF/native/} and the ELF machine number. Architecture specifics live here only.
 */
public record Platform(String resourceDirectory, String architecture, int elfMachine) {

    private static final int EM_X86_64 = 62;
    private static final int EM_AARCH64 = 183;
    private static final int ELF_HEADER_SIZE = 20;

    /** The platform of this JVM; {@link NativeLoadException} when Stockade has no natives for it. */
    public static Platform current() {
        return of(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    static Platform of(String osName, String osArch) {
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
        throw new NativeLoadException("Stockade runs on Linux x86_64 and aarch64 only; this JVM"
                + " reports os.name=" + osName + ", os.arch=" + osArch
                + ": run it on a supported platform (sandboxing uses Linux kernel features)");
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
