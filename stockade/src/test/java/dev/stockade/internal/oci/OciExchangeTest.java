package dev.stockade.internal.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import dev.stockade.OciImport;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.internal.policy.ProfileRules;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The seam between the OCI reader and writer and {@link SeccompProfile}: the reader and writer
 * exchange plain {@link ProfileRules}; {@code SeccompProfile.importOci}, {@code fromOci} and
 * {@code toOci} convert.
 */
@Pure
class OciExchangeTest {

    private static final String JSON = "{\"defaultAction\": \"SCMP_ACT_ERRNO\","
            + " \"defaultErrnoRet\": 38, \"syscalls\": [{\"names\": [\"_llseek\", \"read\"],"
            + " \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"socket\"],"
            + " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 97, \"comment\": \"no inet\","
            + " \"args\": [{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}]}";

    private static final List<SeccompRule> RULES = List.of(
            new SeccompRule("read", SeccompAction.ALLOW, List.of()),
            new SeccompRule("socket", SeccompAction.errno(97),
                    List.of(SeccompCondition.equal(0, 2)), "no inet"));

    private static final List<String> WARNINGS = List.of("syscalls[0].names[0]: skipped:"
            + " \"_llseek\" is not a system call on x86_64");

    @Test
    void theReaderGivesPlainData() {
        OciSeccomp.Imported read = OciReader.read(JSON, "p.json", "6.1");
        assertEquals(new ProfileRules(null, SeccompAction.errno(38), RULES), read.profile());
        assertEquals(WARNINGS, read.warnings());
    }

    @Test
    void theWriterTakesPlainDataAndTheReaderGivesItBack() {
        ProfileRules rules = new ProfileRules("mine", SeccompAction.report(1), List.of(
                new SeccompRule("sendmsg", SeccompAction.ALLOW, List.of()),
                new SeccompRule("ptrace", SeccompAction.KILL_PROCESS, List.of(), "no")));
        String json = OciWriter.write(rules);
        assertTrue(json.contains("\"name\" : \"mine\""), json);
        OciSeccomp.Imported back = OciReader.read(json, "back.json", "6.1");
        assertEquals(rules, back.profile());
        assertEquals(List.of(), back.warnings());
    }

    @Test
    void aSourceNamesOnlyAProfileWithoutAName() {
        assertEquals("seccomp", OciSeccomp.read(JSON, "/etc/x/seccomp.json").profile().name());
        assertEquals(null, OciSeccomp.read(JSON, null).profile().name());
        String named = OciWriter.write(new ProfileRules("kept", SeccompAction.ALLOW, List.of()));
        assertEquals("kept", OciSeccomp.read(named, "/etc/x/other.json").profile().name());
    }

    @Test
    void seccompProfileConvertsBothWays() {
        OciImport imported = SeccompProfile.importOci(JSON, "/etc/x/ci.json");
        SeccompProfile expected = SeccompProfile.builder().name("ci")
                .defaultAction(SeccompAction.errno(38)).rule(RULES.get(0)).rule(RULES.get(1))
                .build();
        assertEquals(expected, imported.profile());
        assertEquals(WARNINGS, imported.warnings());
        assertEquals(expected.toBuilder().name(null).build(), SeccompProfile.fromOci(JSON));
        assertEquals(OciWriter.write(new ProfileRules("ci", SeccompAction.errno(38), RULES)),
                imported.profile().toOci());
        assertTrue(imported.profile().installsFilter());
        assertFalse(imported.profile().hasReports());
    }
}
