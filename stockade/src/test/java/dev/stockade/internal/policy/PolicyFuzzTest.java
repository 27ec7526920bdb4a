package dev.stockade.internal.policy;

import dev.stockade.PolicySyntaxException;
import dev.stockade.SeccompProfile;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.StringLength;

/**
 * Property tests of the policy parser: whatever the text, loading it either gives a profile or
 * throws the documented {@link PolicySyntaxException} — never another exception, never a hang
 * (inputs are bounded, so a run takes seconds). A profile that loads also compiles.
 */
class PolicyFuzzTest {

    /** Loads {@code text}; any exception but the documented one fails the property. */
    private static void loadOrReject(String text) throws Exception {
        SeccompProfile p;
        try {
            p = SeccompProfile.parse(text, "fuzz.policy");
        } catch (PolicySyntaxException e) {
            if (e.entries().isEmpty() || e.getMessage() == null) {
                throw new AssertionError("a rejection without entries", e);
            }
            return;
        }
        if (!p.problems().isEmpty()) {
            throw new AssertionError("loaded with problems " + p.problems() + ":\n" + text);
        }
        p.compile();
    }

    @Property(tries = 2000)
    void randomText(@ForAll @StringLength(max = 300) String text) throws Exception {
        loadOrReject(text);
    }

    @Property(tries = 2000)
    void randomAsciiText(@ForAll @StringLength(max = 300)
            @CharRange(from = ' ', to = '~') @Chars({'\n', '\t', '\r'}) String text)
            throws Exception {
        loadOrReject(text);
    }

    @Property(tries = 1500)
    void tokenSoup(@ForAll("tokenLines") List<String> lines) throws Exception {
        loadOrReject(String.join("\n", lines));
    }

    @Property(tries = 1500)
    void wellFormedRulesLoadAndCompile(@ForAll("rules") List<String> rules) throws Exception {
        loadOrReject("default allow\n" + String.join("\n", rules));
    }

    @Property(tries = 1000)
    void mutatedShippedProfiles(@ForAll("shipped") String name,
            @ForAll("mutations") List<Mutation> mutations) throws Exception {
        StringBuilder text = new StringBuilder(SeccompProfile.named(name).toText());
        for (Mutation m : mutations) {
            m.apply(text);
        }
        loadOrReject(text.toString());
    }

    @Provide
    Arbitrary<String> shipped() {
        return Arbitraries.of("build", "strict", "audit");
    }

    private static final List<String> TOKENS = List.of("default", "allow", "kill", "log",
            "trap", "report", "errno", "(", ")", "EPERM", "ENOSYS", "allow", "->", "&&", "&",
            "|", "==", "!=", "<", "<=", ">", ">=", "arg0", "arg1", "arg5", "arg6", "@include",
            "@", "build", "strict", "\"x.policy\"", "\"", "#", "read", "clone", "ioctl",
            "ptrace", "ptrac", "0", "1", "-1", "0x10", "0o7", "0b1", "0755", "0x", "1_0",
            "18446744073709551616", "TIOCSTI", "CLONE_NEWUSER", "AF_UNIX", "NOPE", "4096",
            "kill_thread", "report(allow)", "errno(EPERM)", ";", "\t");

    @Provide
    Arbitrary<List<String>> tokenLines() {
        Arbitrary<String> line = Arbitraries.of(TOKENS).list().ofMaxSize(12)
                .map(ts -> String.join(" ", ts));
        return line.list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<List<String>> rules() {
        Arbitrary<String> syscall = Arbitraries.of("read", "write", "clone", "ioctl", "socket",
                "mmap", "prctl", "personality", "openat");
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.longs().map(v -> Long.toUnsignedString(v)),
                Arbitraries.longs().map(v -> "0x" + Long.toHexString(v)),
                Arbitraries.of("CLONE_NEWUSER", "AF_UNIX|AF_INET", "TIOCSTI", "PROT_EXEC"));
        Arbitrary<String> op = Arbitraries.of("==", "!=", "<", "<=", ">", ">=");
        Arbitrary<String> condition = Combinators.combine(Arbitraries.integers().between(0, 5),
                op, value).as((i, o, v) -> "arg" + i + " " + o + " " + v);
        Arbitrary<String> action = Arbitraries.of("kill", "log", "trap", "errno(EPERM)",
                "report", "errno(EACCES)");
        return Combinators.combine(syscall, condition.optional(), action)
                .as((s, c, a) -> s + c.map(x -> " " + x).orElse("") + " -> " + a)
                .list().ofMaxSize(20);
    }

    /** One edit of a profile's text. */
    record Mutation(int kind, int position, String text) {
        void apply(StringBuilder sb) {
            if (sb.length() == 0) {
                sb.append(text);
                return;
            }
            int at = Math.floorMod(position, sb.length());
            switch (kind) {
                case 0 -> sb.insert(at, text);
                case 1 -> sb.delete(at, Math.min(sb.length(), at + text.length() + 1));
                default -> sb.replace(at, Math.min(sb.length(), at + 1), text);
            }
        }
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<String> text = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(4),
                Arbitraries.of(TOKENS));
        return Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers(), text).as(Mutation::new).list().ofMinSize(1)
                .ofMaxSize(6);
    }
}
