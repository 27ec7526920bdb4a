package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checks of a profile built in code or imported from OCI ({@link SeccompProfile#problems()})
 * are the loader's checks of a text profile, each problem naming its rule: the ones that once
 * were the loader's only, and the wording they now share.
 */
class SeccompProfileChecksTest {
    private static final SeccompRule SOCKET_NOT_UNIX = new SeccompRule("socket",
            SeccompAction.ALLOW, List.of(SeccompCondition.notEqual(0, 1)));

    @Test
    void aComparisonTheKernelTruncatesIsRefused() {
        // == is compiled on the low word (the allowed case).
        assertEquals(List.of(), SeccompProfile.builder().defaultAction(SeccompAction.errno(1))
                .rule(new SeccompRule("socket", SeccompAction.ALLOW,
                        List.of(SeccompCondition.equal(0, 1))))
                .build().problems());
        assertEquals(List.of("seccomp rule 'socket [arg0 != 0x1] -> ALLOW': argument 0 of"
                + " socket is 32-bit, which the kernel truncates, while 'arg0 != 0x1' compares"
                + " all 64 bits: setting the high bits would slip past the rule (compare with =="
                + " or a & mask)"), SeccompProfile.builder()
                        .defaultAction(SeccompAction.errno(1)).rule(SOCKET_NOT_UNIX).build()
                        .problems());
    }

    @Test
    void rulesTheFilterComparesTheSameConflict() throws Exception {
        SeccompRule killOne = new SeccompRule("read", SeccompAction.KILL_PROCESS,
                List.of(SeccompCondition.equal(0, 1)));
        // Different low halves of read's int fd: two rules (the allowed case).
        SeccompProfile two = SeccompProfile.builder().rule(killOne)
                .rule(new SeccompRule("read", SeccompAction.LOG,
                        List.of(SeccompCondition.equal(0, 2))))
                .build();
        assertEquals(List.of(), two.problems());
        two.compile();
        assertEquals(List.of("seccomp rule 'read [arg0 == 0x8000000000000001] -> LOG':"
                + " conflicting rules for read: log here, kill at 'read [arg0 == 0x1] ->"
                + " KILL_PROCESS' with conditions the filter compares the same (the kernel uses"
                + " only the low 32 bits of a 32-bit argument)"),
                SeccompProfile.builder().rule(killOne)
                        .rule(new SeccompRule("read", SeccompAction.LOG,
                                List.of(SeccompCondition.equal(0, 0x8000000000000001L))))
                        .build().problems());
    }

    @Test
    void otherActionsOnOtherArgumentsAreRefused() {
        SeccompRule denyNewUser = new SeccompRule("clone", SeccompAction.errno(1),
                List.of(SeccompCondition.maskedEqual(0, 0x10000000, 0x10000000)));
        // The same argument (the allowed case).
        assertEquals(List.of(), SeccompProfile.builder().rule(denyNewUser)
                .rule(new SeccompRule("clone", SeccompAction.LOG,
                        List.of(SeccompCondition.maskedEqual(0, 0x100, 0x100))))
                .build().problems());
        assertEquals(List.of("seccomp rule 'clone [arg1 == 0x0] -> LOG': another action than"
                + " the rule 'clone [(arg0 & 0x10000000) == 0x10000000] -> ERRNO(EPERM)' on other"
                + " arguments: libseccomp tests higher-numbered arguments first, so a call"
                + " matching both would not take the action the profile's order suggests"
                + " ('clone [(arg0 & 0x10000000) == 0x10000000] -> ERRNO(EPERM)')"),
                SeccompProfile.builder().rule(denyNewUser)
                        .rule(new SeccompRule("clone", SeccompAction.LOG,
                                List.of(SeccompCondition.equal(1, 0))))
                        .build().problems());
    }

    @Test
    void anOciImportKeepsThePitfallsItWarnedAbout() {
        OciImport imported = SeccompProfile.importOci("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                + " \"syscalls\": [{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_NE\"}]}]}",
                "p.json");
        assertEquals(List.of(SOCKET_NOT_UNIX), imported.profile().rules());
        assertEquals(1, imported.warnings().size(), imported.warnings().toString());
        assertTrue(imported.warnings().get(0).startsWith("syscalls[0].names[0]: argument 0 of"
                + " socket is 32-bit"), imported.warnings().toString());
        assertEquals(List.of(), imported.profile().problems());
        assertEquals(List.of(), imported.profile().toBuilder().build().problems());
        // A rule added later is checked in full.
        SeccompRule kill = new SeccompRule("kill", SeccompAction.ALLOW,
                List.of(SeccompCondition.greaterThan(1, 0)));
        List<String> later = imported.profile().with(kill).problems();
        assertEquals(1, later.size(), later.toString());
        assertTrue(later.get(0).startsWith("seccomp rule 'kill [arg1 > 0x0] -> ALLOW': argument"
                + " 1 of kill is 32-bit"), later.toString());
        // A profile with the same rules but not imported is not the same profile.
        SeccompProfile built = SeccompProfile.builder().defaultAction(SeccompAction.errno(1))
                .rule(SOCKET_NOT_UNIX).name("p").build();
        assertEquals(1, built.problems().size(), built.problems().toString());
    }

    @Test
    void rulesThatDoNotCombineNameTheOtherRule() {
        SeccompRule allowIoctl = new SeccompRule("ioctl", SeccompAction.ALLOW, List.of());
        assertEquals(List.of(
                "seccomp rule 'ioctl [arg1 == 0x5412] -> KILL_PROCESS': this rule never applies:"
                        + " the rule without conditions for ioctl at 'ioctl -> ALLOW' (allow)"
                        + " takes every call (libseccomp drops the conditional rules of a system"
                        + " call that has one)",
                "seccomp rule 'read -> KILL_PROCESS': conflicting rules for read: kill here,"
                        + " allow at 'read -> ALLOW'"),
                SeccompProfile.builder().defaultAction(SeccompAction.errno(1))
                        .rule(new SeccompRule("ioctl", SeccompAction.KILL_PROCESS,
                                List.of(SeccompCondition.equal(1, 0x5412))))
                        .rule(allowIoctl)
                        .rule(new SeccompRule("read", SeccompAction.ALLOW, List.of()))
                        .rule(new SeccompRule("read", SeccompAction.KILL_PROCESS, List.of()))
                        .build().problems());
    }

    @Test
    void reportsAndTheListenerHandoff() {
        SeccompRule allowSendmsg = new SeccompRule("sendmsg", SeccompAction.ALLOW, List.of());
        // A report default with sendmsg allowed, one errno per syscall (the allowed case).
        assertEquals(List.of(), SeccompProfile.builder().defaultAction(SeccompAction.report(1))
                .rule(allowSendmsg).build().problems());
        String why = "the command hands the notification listener to the sandbox's pid 1 with"
                + " it after the filter is installed";
        assertEquals(List.of(
                "seccomp default action REPORT(EPERM): with a report default, sendmsg needs a"
                        + " rule without conditions that is not a report (such as 'sendmsg ->"
                        + " allow'): " + why,
                "seccomp rule 'read [arg0 == 0x0] -> REPORT(EACCES)': conflicting report errnos"
                        + " for read: report(EACCES) here, report as the default; one syscall"
                        + " is answered with one errno",
                "seccomp rule 'read [arg0 == 0x1] -> REPORT(ENOENT)': conflicting report errnos"
                        + " for read: report(ENOENT) here, report as the default; one syscall"
                        + " is answered with one errno",
                "seccomp rule 'read [arg0 == 0x1] -> REPORT(ENOENT)': conflicting report errnos"
                        + " for read: report(ENOENT) here, report(EACCES) at 'read [arg0 =="
                        + " 0x0] -> REPORT(EACCES)'; one syscall is answered with one errno"),
                SeccompProfile.builder().defaultAction(SeccompAction.report(1))
                        .report("read", 13, SeccompCondition.equal(0, 0))
                        .report("read", 2, SeccompCondition.equal(0, 1))
                        .build().problems());
    }
}
