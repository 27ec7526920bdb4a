package dev.stockade.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.OciImport;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import dev.stockade.SandboxedProcess;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.internal.SyscallNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real OCI profile Debian ships with containers-common (podman's and buildah's default),
 * imported, exported, and used to run real commands in a sandbox.
 */
@Timeout(300)
class ContainersProfileTest {
    static final Path CONTAINERS_JSON = Path.of("/usr/share/containers/seccomp.json");

    private static String json;
    private static SeccompProfile profile;

    @TempDir
    Path workspace;

    @BeforeAll
    static void importProfile() throws IOException {
        assumeTrue(Files.isReadable(CONTAINERS_JSON), CONTAINERS_JSON + " is missing:"
                + " scripts/install-build-deps installs it (golang-github-containers-common)");
        json = Files.readString(CONTAINERS_JSON);
        profile = SeccompProfile.importOci(json, CONTAINERS_JSON.toString()).profile();
    }

    /**
     * What the profile says for a process with no capabilities on amd64, read from the JSON
     * here without the importer: each entry not gated on a capability or another arch, each
     * name x86_64 has, in order, minus rules with the default action.
     */
    @Test
    void importKeepsEveryApplicableRuleInOrder() throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        assertEquals("SCMP_ACT_ERRNO", root.get("defaultAction").asText());
        SeccompAction defaultAction = SeccompAction.errno(root.get("defaultErrnoRet").asInt());
        assertEquals(defaultAction, profile.defaultAction());
        List<SeccompRule> expected = new ArrayList<>();
        int capGated = 0;
        for (JsonNode entry : root.get("syscalls")) {
            JsonNode includes = entry.path("includes");
            if (includes.path("caps").size() > 0) {
                capGated++;
                continue;
            }
            if (includes.path("arches").size() > 0
                    && !includes.path("arches").toString().contains("\"amd64\"")) {
                continue;
            }
            assertTrue(entry.path("excludes").path("arches").isMissingNode());
            String action = entry.get("action").asText();
            SeccompAction a = action.equals("SCMP_ACT_ALLOW") ? SeccompAction.ALLOW
                    : SeccompAction.errno(entry.get("errnoRet").asInt());
            assertTrue(action.equals("SCMP_ACT_ALLOW") || action.equals("SCMP_ACT_ERRNO"));
            for (JsonNode name : entry.get("names")) {
                if (!SyscallNames.isKnown(name.asText())) {
                    continue;
                }
                List<SeccompCondition> conditions = new ArrayList<>();
                for (JsonNode arg : entry.path("args")) {
                    assertTrue("SCMP_CMP_EQ".equals(arg.get("op").asText())
                            || "SCMP_CMP_NE".equals(arg.get("op").asText()), arg.toString());
                    int index = arg.get("index").asInt();
                    long value = arg.get("value").asLong();
                    conditions.add(arg.get("op").asText().equals("SCMP_CMP_EQ")
                            ? SeccompCondition.equal(index, value)
                            : SeccompCondition.notEqual(index, value));
                }
                String comment = entry.path("comment").asText("");
                expected.add(new SeccompRule(name.asText(), a, conditions,
                        comment.isEmpty() ? null : comment));
            }
        }
        assertTrue(capGated >= 10, "the profile gates rules on capabilities: " + capGated);
        // libseccomp acts on the first rule without conditions for a system call and ignores
        // rules with other actions for it: the profile allows setns in its big list and also
        // denies it to processes without CAP_SYS_ADMIN; runc allows it.
        Map<String, SeccompRule> unconditional = new LinkedHashMap<>();
        for (SeccompRule r : expected) {
            if (r.conditions().isEmpty()) {
                unconditional.putIfAbsent(r.syscall(), r);
            }
        }
        List<SeccompRule> effective = new ArrayList<>();
        for (SeccompRule r : expected) {
            SeccompRule first = unconditional.get(r.syscall());
            if (first == null || first == r || first.action().equals(r.action())) {
                effective.add(r);
            }
        }
        assertEquals(expected.size() - 1, effective.size(), "only setns's denial is dropped");
        assertEquals(effective, profile.rules());
        assertTrue(profile.rules().contains(new SeccompRule("setns", SeccompAction.ALLOW,
                List.of())));
        // A few facts, spelled out: bpf is denied with EPERM (the CAP_SYS_ADMIN allow does
        // not apply), arch_prctl (amd64 only) is allowed, x86-only names are gone.
        assertTrue(profile.rules().contains(new SeccompRule("bpf", SeccompAction.errno(1),
                List.of())));
        assertTrue(profile.rules().contains(new SeccompRule("arch_prctl", SeccompAction.ALLOW,
                List.of())));
        assertTrue(profile.rules().stream().noneMatch(r -> r.syscall().equals("bpf")
                && r.action().equals(SeccompAction.ALLOW)));
        assertTrue(profile.rules().stream().noneMatch(r -> r.syscall().equals("_llseek")));
        assertEquals("seccomp", profile.name().orElseThrow());
    }

    @Test
    void warningsNameWhatDoesNotApply() {
        OciImport imported = SeccompProfile.importOci(json, "seccomp.json");
        List<String> warnings = imported.warnings();
        assertTrue(warnings.contains(
                "syscalls[1].names[0]: skipped: \"_llseek\" is not a system call on x86_64"),
                warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.endsWith(".includes: not applied: needs"
                + " CAP_SYS_ADMIN, and a sandboxed process has no capabilities")),
                warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.endsWith(".includes: not applied: only"
                + " for ppc64le, not amd64")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.matches("syscalls\\[\\d+\\]\\.names"
                + "\\[\\d+\\]: skipped: syscalls\\[1\\]\\.names\\[\\d+\\] already gives"
                + " \"setns\" ALLOW whatever its arguments, and libseccomp keeps that rule")),
                warnings.toString());
    }

    @Test
    void exportAndImportAgainKeepsEveryRule() {
        String exported = profile.toOci();
        OciImport again = SeccompProfile.importOci(exported, "exported.json");
        assertEquals(profile.defaultAction(), again.profile().defaultAction());
        assertEquals(profile.rules(), again.profile().rules());
        // Only the rules the profile runs as written elsewhere but that do not hold as written
        // (Docker's socket rules: != on 32-bit arguments, and rules on different arguments of
        // one syscall with different actions) are pointed out again; nothing is lost.
        assertTrue(again.warnings().stream().allMatch(w -> w.contains("is 32-bit, which the"
                + " kernel truncates") || w.contains("libseccomp tests higher-numbered arguments"
                + " first")), again.warnings().toString());
        assertEquals(exported, again.profile().toOci());
    }

    @Test
    void publicApiRoundTrip() {
        SeccompProfile fromFile = SeccompProfile.fromOci(CONTAINERS_JSON);
        assertEquals(profile, fromFile);
        assertEquals(fromFile, SeccompProfile.fromOci(fromFile.toOci()));
        for (String name : List.of("build", "strict", "audit")) {
            SeccompProfile shipped = SeccompProfile.named(name);
            assertEquals(shipped, SeccompProfile.fromOci(shipped.toOci()), name);
        }
    }

    @Test
    void compilesWithLibseccomp() throws IOException {
        byte[] program = profile.compile();
        assertTrue(program.length > 0 && program.length % 8 == 0, "BPF of " + program.length
                + " bytes");
    }

    @Test
    void realCommandsRunUnderIt() throws Exception {
        assertEquals(new Out(0, "A\nB\n"), run(profile, "/bin/sh", "-c",
                "printf 'b\\na\\n' | sort | tr a-z A-Z"));
        Out ls = run(profile, "/bin/ls", "/usr/share/containers");
        assertEquals(0, ls.exit(), ls.stdout());
        assertTrue(ls.stdout().lines().toList().contains("seccomp.json"), ls.stdout());
        assertEquals(new Out(0, "{\"x\": 45}\n"), run(profile, "/usr/bin/python3", "-c",
                "import json; print(json.dumps({'x': sum(range(10))}))"));
        Files.writeString(workspace.resolve("hello.c"), "#include <stdio.h>\n"
                + "int main(void) { puts(\"hello from gcc\"); return 0; }\n");
        assertEquals(new Out(0, "hello from gcc\n"), run(profile, "/bin/sh", "-c",
                "gcc -O2 -o hello hello.c && ./hello"));
    }

    /** x86_64 numbers; prints name=errno (0 for success). */
    private static final String PROBES = String.join("\n",
            "import ctypes, os",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def call(nr, *args):",
            "    ctypes.set_errno(0)",
            "    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])",
            "    return 0 if r != -1 else ctypes.get_errno()",
            // add_key(NULL, ...): EFAULT from the kernel; not in the profile: default ENOSYS
            "print('add_key=%d' % call(248, 0, 0, 0, 0, 0))",
            // kcmp(self, self, KCMP_FILE, 0, 0): 0 from the kernel; denied unless CAP_SYS_PTRACE
            "print('kcmp=%d' % call(312, os.getpid(), os.getpid(), 0, 0, 0))",
            // socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) is allowed; NETLINK_AUDIT is EINVAL
            // unless CAP_AUDIT_WRITE (an argument rule)
            "print('netlink_route=%d' % call(41, 16, 3, 0))",
            "print('netlink_audit=%d' % call(41, 16, 3, 9))",
            // personality: the query is allowed, an odd persona only by the kernel
            "print('personality_query=%d' % call(135, 0xffffffff))",
            "print('personality_odd=%d' % call(135, 0x0000000d))");

    @Test
    void deniesExactlyWhatTheProfileSays() throws Exception {
        Map<String, Integer> kernel = new LinkedHashMap<>();
        kernel.put("add_key", 14);
        kernel.put("kcmp", 0);
        kernel.put("netlink_route", 0);
        kernel.put("netlink_audit", 0);
        kernel.put("personality_query", 0);
        kernel.put("personality_odd", 0);
        assertEquals(kernel, probe(SeccompProfile.none()), "without a filter");
        Map<String, Integer> filtered = new LinkedHashMap<>();
        filtered.put("add_key", 38);
        filtered.put("kcmp", 1);
        filtered.put("netlink_route", 0);
        filtered.put("netlink_audit", 22);
        filtered.put("personality_query", 0);
        filtered.put("personality_odd", 38);
        assertEquals(filtered, probe(profile), "under containers-common's profile");
    }

    private Map<String, Integer> probe(SeccompProfile p) throws Exception {
        Out out = run(p, "/usr/bin/python3", "-c", PROBES);
        assertEquals(0, out.exit(), out.stdout());
        Map<String, Integer> result = new LinkedHashMap<>();
        for (String line : out.stdout().lines().toList()) {
            String[] kv = line.split("=");
            result.put(kv[0], Integer.parseInt(kv[1]));
        }
        return result;
    }

    record Out(int exit, String stdout) {}

    private Out run(SeccompProfile p, String... command) throws Exception {
        // The sandbox's user (65534 when the tests run as root) writes into the workspace,
        // through a bind idmapped to its owner for a root caller.
        SandboxPolicy policy = SandboxPolicy.builder().workspace(workspace).seccomp(p).build();
        try (SandboxedProcess process = Sandbox.command(command).policy(policy).start()) {
            process.getOutputStream().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(
                    () -> readAll(process.getErrorStream()));
            String out = readAll(process.getInputStream());
            SandboxResult result = process.onResult().get(120, TimeUnit.SECONDS);
            String stderr = err.get(120, TimeUnit.SECONDS);
            assertEquals("", stderr, "stderr of " + String.join(" ", command));
            return new Out(result.exitCode(), out);
        }
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
