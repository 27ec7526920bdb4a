package dev.stockade.internal.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON {@link OciWriter} writes, and that reading it back gives the same profile. */
class OciWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every action kind, every operator, 64-bit values with the top bit set, reasons. */
    private static SeccompProfile everything(SeccompAction defaultAction) {
        return SeccompProfile.builder()
                .name("everything")
                .defaultAction(defaultAction)
                .rule(new SeccompRule("ptrace", SeccompAction.report(1), List.of(),
                        "debuggers read other processes"))
                .rule(new SeccompRule("bpf", SeccompAction.report(1), List.of(),
                        "debuggers read other processes"))
                .rule(new SeccompRule("kcmp", SeccompAction.report(0), List.of()))
                .rule(new SeccompRule("clone3", SeccompAction.errno(38), List.of()))
                .rule(new SeccompRule("mount", SeccompAction.KILL_PROCESS, List.of()))
                .rule(new SeccompRule("umount2", SeccompAction.KILL_THREAD, List.of()))
                .rule(new SeccompRule("swapon", SeccompAction.TRAP, List.of()))
                .rule(new SeccompRule("swapoff", SeccompAction.LOG, List.of()))
                .rule(new SeccompRule("ioctl", SeccompAction.errno(1),
                        List.of(SeccompCondition.maskedEqual(1, 0xffffffffL, 0x5412))))
                .rule(new SeccompRule("mmap", SeccompAction.errno(13),
                        List.of(SeccompCondition.notEqual(0, -1L),
                                SeccompCondition.lessThan(1, Long.MIN_VALUE),
                                SeccompCondition.lessOrEqual(2, 3),
                                SeccompCondition.greaterOrEqual(3, 4),
                                SeccompCondition.greaterThan(4, 5),
                                SeccompCondition.equal(5, 0x8000000000000001L))))
                .rule(new SeccompRule("socket", SeccompAction.ALLOW,
                        List.of(SeccompCondition.equal(0, 1))))
                .build();
    }

    @Test
    void roundTripKeepsEveryRuleInOrder() {
        // Defaults no rule has: a rule with the default action is dropped on import.
        for (SeccompAction defaultAction : List.of(SeccompAction.errno(95),
                SeccompAction.report(95), SeccompAction.errno(SeccompAction.MAX_ERRNO))) {
            SeccompProfile p = everything(defaultAction);
            OciSeccomp.Imported back = OciReader.read(OciTesting.write(p), "export.json", "6.1");
            assertEquals(OciTesting.rules(p), back.profile(), "default " + defaultAction);
            assertEquals(p.rules(), back.profile().rules());
            assertEquals(List.of(), back.warnings());
        }
    }

    @Test
    void writesOciJsonOtherRuntimesRead() throws Exception {
        JsonNode root = JSON.readTree(OciTesting.write(everything(SeccompAction.ALLOW)));
        assertEquals("SCMP_ACT_ALLOW", root.get("defaultAction").asText());
        assertEquals(null, root.get("defaultErrnoRet"));
        assertEquals("[\"SCMP_ARCH_X86_64\"]", root.get("architectures").toString());
        assertEquals("[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[]}]",
                root.get("archMap").toString());
        JsonNode syscalls = root.get("syscalls");
        // ptrace and bpf share action, conditions and reason: one entry
        assertEquals("{\"names\":[\"ptrace\",\"bpf\"],\"action\":\"SCMP_ACT_ERRNO\","
                + "\"errnoRet\":1,\"args\":[],\"comment\":\"debuggers read other processes\","
                + "\"x-stockade\":{\"action\":\"report\"}}", syscalls.get(0).toString());
        assertEquals("{\"names\":[\"kcmp\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[],"
                + "\"x-stockade\":{\"action\":\"report\"}}", syscalls.get(1).toString());
        assertEquals("{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,"
                + "\"args\":[]}", syscalls.get(2).toString());
        assertEquals("SCMP_ACT_KILL_PROCESS", syscalls.get(3).get("action").asText());
        assertEquals("SCMP_ACT_KILL_THREAD", syscalls.get(4).get("action").asText());
        assertEquals("SCMP_ACT_TRAP", syscalls.get(5).get("action").asText());
        assertEquals("SCMP_ACT_LOG", syscalls.get(6).get("action").asText());
        // MASKED_EQ: the mask in value, the datum in valueTwo, as runc hands them to libseccomp
        assertEquals("[{\"index\":1,\"value\":4294967295,\"valueTwo\":21522,"
                + "\"op\":\"SCMP_CMP_MASKED_EQ\"}]", syscalls.get(7).get("args").toString());
        assertEquals("[{\"index\":0,\"value\":18446744073709551615,\"valueTwo\":0,"
                + "\"op\":\"SCMP_CMP_NE\"},{\"index\":1,\"value\":9223372036854775808,"
                + "\"valueTwo\":0,\"op\":\"SCMP_CMP_LT\"},{\"index\":2,\"value\":3,"
                + "\"valueTwo\":0,\"op\":\"SCMP_CMP_LE\"},{\"index\":3,\"value\":4,"
                + "\"valueTwo\":0,\"op\":\"SCMP_CMP_GE\"},{\"index\":4,\"value\":5,"
                + "\"valueTwo\":0,\"op\":\"SCMP_CMP_GT\"},{\"index\":5,"
                + "\"value\":9223372036854775809,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]",
                syscalls.get(8).get("args").toString());
        assertEquals(10, syscalls.size());
    }

    @Test
    void reportAsDefaultIsMarkedAtTheTopLevel() throws Exception {
        JsonNode root = JSON.readTree(OciTesting.write(SeccompProfile.builder()
                .defaultAction(SeccompAction.report(1)).build()));
        assertEquals("SCMP_ACT_ERRNO", root.get("defaultAction").asText());
        assertEquals(1, root.get("defaultErrnoRet").asInt());
        assertEquals("{\"defaultAction\":\"report\"}", root.get("x-stockade").toString());
        JsonNode named = JSON.readTree(OciTesting.write(SeccompProfile.builder().name("mine")
                .defaultAction(SeccompAction.errno(1)).build()));
        assertEquals("{\"name\":\"mine\"}", named.get("x-stockade").toString());
    }

    @Test
    void theNoneProfileHasNoJson() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SeccompProfile.none().toOci());
        assertEquals("the 'none' profile installs no filter, so it has no OCI seccomp JSON"
                + " (leave linux.seccomp out instead)", e.getMessage());
    }

    @Test
    void shippedProfilesRoundTrip() {
        for (String name : List.of("build", "strict", "audit")) {
            SeccompProfile p = SeccompProfile.named(name);
            OciSeccomp.Imported back = OciReader.read(OciTesting.write(p), name + ".json", "6.1");
            assertEquals(OciTesting.rules(p), back.profile(), name);
            assertEquals(p.rules(), back.profile().rules(), name);
            assertEquals(List.of(), back.warnings(), name);
        }
    }
}
