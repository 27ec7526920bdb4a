package dev.stockade.internal.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The plain data SeccompProfile's jobs share, and the pure ones of those jobs: which rules
 * report, the text form, the name check the parser and the validator share.
 */
@Pure
class ProfileRulesTest {

    private static SeccompRule rule(String syscall, SeccompAction action,
            SeccompCondition... conditions) {
        return new SeccompRule(syscall, action, List.of(conditions));
    }

    @Test
    void reportsAndWhatDecidesACall() {
        ProfileRules plain = new ProfileRules(null, SeccompAction.ALLOW,
                List.of(rule("ptrace", SeccompAction.errno(1))));
        assertFalse(plain.hasReports());
        assertTrue(plain.decidedWithoutReport("ptrace"));
        assertFalse(plain.decidedWithoutReport("bpf"), "no rule: the default decides");

        ProfileRules reporting = new ProfileRules("r", SeccompAction.ALLOW, List.of(
                rule("kcmp", SeccompAction.report(1), SeccompCondition.equal(0, 1)),
                rule("bpf", SeccompAction.report(1))));
        assertTrue(reporting.hasReports());
        assertFalse(reporting.decidedWithoutReport("bpf"), "a report rule sends it to pid 1");
        assertFalse(reporting.decidedWithoutReport("kcmp"), "only with conditions");
        assertTrue(new ProfileRules(null, SeccompAction.report(1), List.of()).hasReports());
    }

    @Test
    void withNameKeepsTheRules() {
        ProfileRules p = new ProfileRules(null, SeccompAction.errno(38),
                List.of(rule("ptrace", SeccompAction.KILL_PROCESS)));
        assertEquals(new ProfileRules("x", SeccompAction.errno(38), p.rules()), p.withName("x"));
    }

    @Test
    void textSpellsActionsAsTheLanguageDoes() {
        assertEquals(List.of("allow", "errno(EPERM)", "errno(4000)", "kill", "kill_thread",
                "trap", "log", "report", "report(EACCES)", "report(allow)"),
                List.of(SeccompAction.ALLOW, SeccompAction.errno(1), SeccompAction.errno(4000),
                        SeccompAction.KILL_PROCESS, SeccompAction.KILL_THREAD,
                        SeccompAction.TRAP, SeccompAction.LOG, SeccompAction.report(1),
                        SeccompAction.report(13), SeccompAction.report(0)).stream()
                        .map(ProfileText::show).toList());
        assertEquals("# seccomp profile a?b\ndefault errno(ENOSYS)\n"
                + "ioctl arg1 & 0xffffffff == 0x5412 -> kill  # no TIOCSTI\n"
                + "socket arg0 != 0x1 && arg1 < 0x2 -> allow\n",
                ProfileText.render(new ProfileRules("a\nb", SeccompAction.errno(38), List.of(
                        new SeccompRule("ioctl", SeccompAction.KILL_PROCESS,
                                List.of(SeccompCondition.maskedEqual(1, 0xffffffffL, 0x5412)),
                                "no TIOCSTI"),
                        rule("socket", SeccompAction.ALLOW, SeccompCondition.notEqual(0, 1),
                                SeccompCondition.lessThan(1, 2))))));
    }

    @Test
    void unknownSystemCallsAreExplained() {
        assertEquals(Optional.empty(), ProfileValidator.unknownSyscall("openat"));
        assertEquals(Optional.of("unknown system call 'ptrac' (did you mean ptrace?)"),
                ProfileValidator.unknownSyscall("ptrac"));
        assertEquals(Optional.of("unknown system call 'qqqqqqqqqqqq'"),
                ProfileValidator.unknownSyscall("qqqqqqqqqqqq"));
        assertTrue(ProfileValidator.unknownSyscall("socketcall").orElseThrow()
                .startsWith("system call 'socketcall' does not exist on x86_64"));
    }
}
