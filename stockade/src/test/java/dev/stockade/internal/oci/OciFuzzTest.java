package dev.stockade.internal.oci;

import dev.stockade.PolicyException;
import dev.stockade.SeccompProfile;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;

/**
 * Property tests of the OCI reader: whatever the JSON, importing it gives a profile or throws
 * the documented {@link PolicyException} (never another exception, never a hang); a profile
 * that imports without problems compiles, and exporting it and reading it back gives it again.
 */
class OciFuzzTest {

    /** A small profile using every part of the format, mutated by the properties below. */
    private static final String SEED = "{\"defaultAction\": \"SCMP_ACT_ERRNO\","
            + " \"defaultErrnoRet\": 38, \"architectures\": [\"SCMP_ARCH_X86_64\"],"
            + " \"syscalls\": [{\"names\": [\"read\", \"write\", \"_llseek\"],"
            + " \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"socket\"],"
            + " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22, \"args\": [{\"index\": 0,"
            + " \"value\": 16, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]}, {\"names\":"
            + " [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
            + " \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
            + " {\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_NOTIFY\", \"includes\":"
            + " {\"arches\": [\"amd64\"]}, \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
            + " {\"names\": [\"kcmp\"], \"action\": \"SCMP_ACT_ERRNO\","
            + " \"x-stockade\": {\"action\": \"report\"}, \"comment\": \"why\"}]}";

    private static final List<String> FRAGMENTS = List.of("{", "}", "[", "]", ",", ":", "\"",
            "null", "true", "-1", "0", "4095", "4096", "18446744073709551616", "1.5",
            "\"SCMP_ACT_KILL\"", "\"SCMP_ACT_TRACE\"", "\"SCMP_CMP_NE\"", "\"names\"",
            "\"args\"", "\"index\"", "\"value\"", "\"valueTwo\"", "\"includes\"", "\"caps\"",
            "\"minKernel\"", "\"5.10\"", "\"x-stockade\"", "\"report\"", "\"ptrace\"",
            "\"defaultAction\"", "\"errno\"", "\"EPERM\"", "\\u0000", "\uFFFF");

    record Edit(int position, int delete, String insert) {}

    private static void importOrReject(String json) throws Exception {
        OciSeccomp.Imported imported;
        try {
            imported = OciReader.read(json, "fuzz.json", "6.1");
        } catch (PolicyException e) {
            if (e.problems().isEmpty()) {
                throw new AssertionError("a rejection without problems", e);
            }
            return;
        }
        SeccompProfile p = OciTesting.profile(imported.profile());
        if (!p.problems().isEmpty()) {
            return; // what SandboxPolicy.build() reports; nothing runs
        }
        p.compile();
        SeccompProfile back = OciTesting.profile(OciReader.read(OciTesting.write(p), "back.json",
                "6.1").profile());
        if (!back.equals(p)) {
            throw new AssertionError("round trip changed the profile:\n" + json);
        }
    }

    @Property(tries = 3000)
    void mutatedProfiles(@ForAll("edits") List<Edit> edits) throws Exception {
        StringBuilder json = new StringBuilder(SEED);
        for (Edit e : edits) {
            int at = Math.min(e.position(), json.length());
            json.delete(at, Math.min(json.length(), at + e.delete()));
            json.insert(at, e.insert());
        }
        importOrReject(json.toString());
    }

    @Property(tries = 1000)
    void randomText(@ForAll @StringLength(max = 200) String text) throws Exception {
        importOrReject(text);
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<String> insert = Arbitraries.oneOf(Arbitraries.of(FRAGMENTS),
                Arbitraries.strings().ofMaxLength(3), Arbitraries.just(""));
        return Combinators.combine(Arbitraries.integers().between(0, SEED.length()),
                Arbitraries.integers().between(0, 8), insert).as(Edit::new)
                .list().ofMinSize(1).ofMaxSize(6);
    }
}
