package dev.stockade.internal.oci;

import static dev.stockade.internal.oci.OciJson.describe;
import static dev.stockade.internal.oci.OciJson.join;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What of an OCI profile applies to a sandboxed process on this machine, as runtimes built on
 * libseccomp decide it: {@code includes}/{@code excludes} by capability (a sandboxed process
 * holds none), by architecture (matched against {@code amd64}; the filter kills every foreign
 * ABI) and by {@code minKernel} (compared with the running kernel); the profile's
 * {@code architectures}/{@code archMap}; and its {@code flags}, which Stockade does not need.
 */
final class OciApplicability {
    /** The native architecture's names: libseccomp's, and Go's (as Docker's arches use). */
    static final String NATIVE_SCMP_ARCH = "SCMP_ARCH_X86_64";
    private static final Set<String> NATIVE_GO_ARCHES = Set.of("amd64", "x86_64");

    static final Set<String> SCMP_ARCHES = Set.of("SCMP_ARCH_NATIVE", "SCMP_ARCH_X86",
            "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
            "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
            "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
            "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB");

    private static final Set<String> FLAGS = Set.of("SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");

    private static final Set<String> FILTER_FIELDS = Set.of("caps", "arches", "minKernel");

    private final OciJson json;
    private final int[] kernel;

    /** @param kernelRelease the running kernel's release ("6.1.0-13-amd64") */
    OciApplicability(OciJson json, String kernelRelease) {
        this.json = json;
        int[] version = parseVersion(kernelRelease);
        this.kernel = version == null ? new int[] {0, 0} : version;
    }

    /**
     * Whether an {@code includes} ({@code include} true) or {@code excludes} filter lets the
     * entry apply to a sandboxed process on this machine.
     */
    boolean applies(JsonNode filter, String at, boolean include) {
        if (filter == null || filter.isNull()) {
            return true;
        }
        if (!filter.isObject()) {
            json.problem(at, "expected an object, found " + describe(filter));
            return false;
        }
        json.unknownFields(filter, at, FILTER_FIELDS);
        List<String> caps = json.strings(filter.get("caps"), join(at, "caps"));
        List<String> arches = json.strings(filter.get("arches"), join(at, "arches"));
        int[] minKernel = null;
        JsonNode kernelNode = filter.get("minKernel");
        if (kernelNode != null && !kernelNode.isNull()) {
            minKernel = kernelNode.isTextual() ? parseVersion(kernelNode.asText()) : null;
            if (minKernel == null) {
                json.problem(join(at, "minKernel"), "expected a kernel version such as \"5.8\","
                        + " found " + describe(kernelNode));
                return false;
            }
        }
        if (caps == null || arches == null) {
            return false;
        }
        boolean newEnough = minKernel == null || compare(kernel, minKernel) >= 0;
        boolean nativeArch = arches.stream().anyMatch(NATIVE_GO_ARCHES::contains);
        if (include) {
            // The sandbox drops every capability, so no capability condition ever holds.
            if (!caps.isEmpty()) {
                json.warn(at, "not applied: needs " + String.join(", ", caps)
                        + ", and a sandboxed process has no capabilities");
                return false;
            }
            if (!arches.isEmpty() && !nativeArch) {
                json.warn(at, "not applied: only for " + String.join(", ", arches)
                        + ", not amd64");
                return false;
            }
            if (!newEnough) {
                json.warn(at, "not applied: needs kernel " + kernelNode.asText() + " or newer");
                return false;
            }
            return true;
        }
        if (nativeArch) {
            json.warn(at, "not applied: excluded on amd64");
            return false;
        }
        if (minKernel != null && newEnough) {
            json.warn(at, "not applied: excluded on kernel " + kernelNode.asText() + " and newer");
            return false;
        }
        return true;
    }

    /**
     * Checks {@code architectures} and {@code archMap}: names must be libseccomp's; a list
     * without the native architecture is a warning (libseccomp always keeps it).
     */
    void architectures(JsonNode seccomp, String at) {
        boolean listsNative = false;
        boolean listsAny = false;
        JsonNode list = seccomp.get("architectures");
        if (list != null && !list.isNull()) {
            List<String> arches = json.strings(list, join(at, "architectures"));
            if (arches != null) {
                for (int i = 0; i < arches.size(); i++) {
                    listsAny = true;
                    listsNative |= checkArch(arches.get(i), join(at, "architectures") + "["
                            + i + "]");
                }
            }
        }
        JsonNode map = seccomp.get("archMap");
        String mapAt = join(at, "archMap");
        if (map != null && !map.isNull()) {
            if (!map.isArray()) {
                json.problem(mapAt, "expected an array, found " + describe(map));
            } else {
                for (int i = 0; i < map.size(); i++) {
                    JsonNode entry = map.get(i);
                    String entryAt = mapAt + "[" + i + "]";
                    if (!entry.isObject()) {
                        json.problem(entryAt, "expected an object, found " + describe(entry));
                        continue;
                    }
                    json.unknownFields(entry, entryAt, Set.of("architecture", "subArchitectures"));
                    JsonNode arch = entry.get("architecture");
                    if (arch == null || !arch.isTextual()) {
                        json.problem(join(entryAt, "architecture"), arch == null ? "missing"
                                : "expected an architecture name, found " + describe(arch));
                    } else {
                        listsAny = true;
                        listsNative |= checkArch(arch.asText(), join(entryAt, "architecture"));
                    }
                    List<String> subs = json.strings(entry.get("subArchitectures"),
                            join(entryAt, "subArchitectures"));
                    if (subs != null) {
                        for (int s = 0; s < subs.size(); s++) {
                            checkArch(subs.get(s), join(entryAt, "subArchitectures") + "[" + s
                                    + "]");
                        }
                    }
                }
            }
        }
        if (listsAny && !listsNative) {
            json.warn(at.isEmpty() ? "architectures" : join(at, "architectures"), "does not list "
                    + NATIVE_SCMP_ARCH + "; the rules apply to this machine's architecture"
                    + " anyway (libseccomp always keeps the native one)");
        }
    }

    /** Whether {@code arch} is the native architecture; a problem when it is not a name. */
    private boolean checkArch(String arch, String at) {
        if (!SCMP_ARCHES.contains(arch)) {
            json.problem(at, "unknown architecture \"" + arch + "\"");
            return false;
        }
        return arch.equals(NATIVE_SCMP_ARCH) || arch.equals("SCMP_ARCH_NATIVE");
    }

    /** Checks {@code flags}: known ones are ignored with a warning, unknown ones are problems. */
    void flags(JsonNode seccomp, String at) {
        JsonNode node = seccomp.get("flags");
        if (node == null || node.isNull()) {
            return;
        }
        List<String> flags = json.strings(node, join(at, "flags"));
        if (flags == null) {
            return;
        }
        for (int i = 0; i < flags.size(); i++) {
            String flagAt = join(at, "flags") + "[" + i + "]";
            if (!FLAGS.contains(flags.get(i))) {
                json.problem(flagAt, "unknown flag \"" + flags.get(i) + "\"");
            } else {
                json.warn(flagAt, flags.get(i) + " ignored: Stockade installs the filter with its"
                        + " own flags (none of these adds a restriction)");
            }
        }
    }

    private static final Pattern VERSION = Pattern.compile("^(\\d{1,6})\\.(\\d{1,6})");

    /** "6.1.0-13-amd64" gives {6, 1}; null when it does not start with major.minor. */
    static int[] parseVersion(String text) {
        Matcher m = VERSION.matcher(text);
        if (!m.find()) {
            return null;
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    private static int compare(int[] a, int[] b) {
        return a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]);
    }

}
