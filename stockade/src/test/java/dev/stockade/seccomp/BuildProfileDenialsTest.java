package dev.stockade.seccomp;

import org.junit.jupiter.api.Tag;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompProfile;
import dev.stockade.SeccompRule;
import dev.stockade.Violation;
import dev.stockade.seccomp.TrySyscall.Call;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Every rule of the shipped {@code build} profile, taken from the profile itself (so a new rule
 * gets a test without anyone writing one): {@code try-syscall} makes the call inside a sandbox,
 * first without a filter (the kernel's own answer), then under {@code build}, and the test
 * asserts the rule's exact outcome — its errno, SIGSYS for a kill, and for a {@code report}
 * rule one {@link Violation} with count 1 and the call's arguments.
 *
 * <p>Where the kernel's own answer inside the sandbox is the same as the rule's (no
 * capabilities, so {@code reboot} fails with EPERM anyway), the unfiltered run cannot show
 * the filter at work; then a copy of {@code build} whose rule answers a marker errno shows that
 * this rule matched this call, and for a {@code report} rule the Violation entry shows it.
 */
@Tag(SandboxTesting.ISOLATION)
@Timeout(300)
class BuildProfileDenialsTest {
    /** An errno no system call returns by itself: proves which rule answered. */
    private static final int MARKER_ERRNO = 4000;

    private static final long CLONE_THREAD = 0x10000L;

    /**
     * Arguments for conditional rules, chosen so the call fails (or does nothing) when it gets
     * through even without the filter; the rule's conditions are laid over them. An
     * unconditional rule's call gets try-syscall's own harmless defaults (its {@code defaults}
     * table: PTRACE_PEEKUSR on pid 0, acct(""), ...); a syscall not listed here gets zeros.
     */
    private static final Map<String, long[]> BASE_ARGUMENTS = Map.of(
            // CLONE_THREAD without CLONE_SIGHAND: EINVAL before any child exists, whatever
            // namespace flag the rule adds.
            "clone", new long[] {CLONE_THREAD, 0, 0, 0, 0, 0},
            // The current-persona query changes nothing.
            "personality", new long[] {0xffffffffL, 0, 0, 0, 0, 0});

    private static SeccompProfile build;
    private static boolean userNotification;

    @BeforeAll
    static void load() throws Exception {
        build = SeccompProfile.named("build");
        userNotification = Sandbox.probe().seccompUserNotification();
    }

    @Test
    void theBuildProfileIsTheDefault() {
        assertEquals(SeccompProfile.named("build"), SeccompProfile.defaults());
        assertEquals(SeccompProfile.defaults(), SandboxPolicy.defaults().seccomp());
        assertEquals(SeccompAction.ALLOW, build.defaultAction());
        assertFalse(deniedRules(build).isEmpty());
    }

    /** The machine the suite runs on has user notification; the report entries need it. */
    @Test
    void thisKernelHasUserNotification() {
        assertTrue(userNotification, "Sandbox.probe() says no seccomp user notification");
    }

    /** The marker copy used as proof below answers with the marker (checked on io_uring). */
    @Test
    void aMarkerCopyOfARuleAnswersTheMarker() throws Exception {
        SeccompRule rule = build.rules().stream()
                .filter(r -> r.action().kind() == SeccompAction.Kind.ERRNO
                        && r.conditions().isEmpty())
                .findFirst().orElseThrow();
        Call marked = TrySyscall.call(TrySyscall.policy(withMarker(build, rule)),
                rule.syscall());
        assertErrno(MARKER_ERRNO, marked);
    }

    @TestFactory
    Stream<DynamicTest> everyDenialOfTheBuildProfile() {
        return deniedRules(build).stream().map(rule -> DynamicTest.dynamicTest(
                rule.toString(), () -> checkRule(rule)));
    }

    /**
     * The {@code audit} profile lets every call {@code build} denies run, and records it: the
     * call gets the kernel's own answer (the same as without a filter; the arguments are the
     * harmless ones above) and, where audit has a {@code report(allow)} rule for it (all but
     * clone3, see audit.policy), one Violation with errno 0.
     */
    @TestFactory
    Stream<DynamicTest> theAuditProfileRecordsEveryBuildDenialAndLetsItRun() {
        SeccompProfile audit = SeccompProfile.named("audit");
        return deniedRules(build).stream().map(rule -> DynamicTest.dynamicTest(
                rule.toString(), () -> checkAudit(audit, rule)));
    }

    private void checkAudit(SeccompProfile audit, SeccompRule rule) throws Exception {
        String name = rule.syscall();
        boolean explicit = !rule.conditions().isEmpty() || BASE_ARGUMENTS.containsKey(name);
        long[] args = explicit ? argumentsFor(rule) : new long[6];
        String[] cmd = explicit ? concat(name, TrySyscall.hexArgs(args)) : new String[] {name};
        SeccompAction action = actionOrDefault(audit, name, args);
        assertTrue(action.equals(SeccompAction.ALLOW) || action.equals(SeccompAction.report(0)),
                () -> "audit does not let " + rule + " run: " + action);
        // Without the set-id guard, which denies io_uring_setup under every profile.
        Call kernel = TrySyscall.call(TrySyscall.policyWithoutGuard(SeccompProfile.none()), cmd);
        Call audited = TrySyscall.call(TrySyscall.policyWithoutGuard(audit), cmd);
        assertEquals(kernel.outcome(), audited.outcome(), () -> audited.output().toString());
        List<Violation> violations = audited.output().result().violations();
        if (!userNotification || action.equals(SeccompAction.ALLOW)) {
            assertEquals(List.of(), violations, "nothing is recorded");
            return;
        }
        assertEquals(1, violations.size(), () -> "violations " + violations);
        Violation v = violations.get(0);
        assertEquals(name, v.syscall());
        assertEquals(0, v.errno());
        assertFalse(v.denied());
        assertEquals(1, v.count());
        assertEquals("audit", v.profile());
    }

    /** The rules whose action differs from the default (each gets a test). */
    static List<SeccompRule> deniedRules(SeccompProfile profile) {
        List<SeccompRule> denied = new ArrayList<>();
        for (SeccompRule r : profile.rules()) {
            if (!r.action().equals(profile.defaultAction())
                    && r.action().kind() != SeccompAction.Kind.LOG
                    && !(r.action().kind() == SeccompAction.Kind.REPORT
                            && r.action().errno() == 0)) {
                denied.add(r);
            }
        }
        return denied;
    }

    private void checkRule(SeccompRule rule) throws Exception {
        String name = rule.syscall();
        // Explicit arguments where the rule looks at them; else the tool's harmless defaults.
        boolean explicit = !rule.conditions().isEmpty() || BASE_ARGUMENTS.containsKey(name);
        long[] args = explicit ? argumentsFor(rule) : null;
        String[] cmd = explicit ? concat(name, TrySyscall.hexArgs(args)) : new String[] {name};
        SeccompAction action = actionFor(build, name, explicit ? args : new long[6]);

        // The allowed case: the same call inside a sandbox without a filter reaches the kernel.
        Call kernel = TrySyscall.call(TrySyscall.policy(SeccompProfile.none()), cmd);
        assertFalse(kernel.killed(), () -> "without a filter: " + kernel.output());
        assertEquals(name, kernel.name());

        Call filtered = TrySyscall.call(TrySyscall.policy(build), cmd);
        List<Violation> violations = filtered.output().result().violations();
        switch (action.kind()) {
            case ERRNO -> {
                assertErrno(action.errno(), filtered);
                assertEquals(List.of(), violations, "an errno rule records nothing");
            }
            case REPORT -> {
                int errno = action.errno();
                assertErrno(errno, filtered);
                if (userNotification) {
                    assertEquals(1, violations.size(), () -> "violations " + violations);
                    Violation v = violations.get(0);
                    assertEquals(name, v.syscall());
                    assertEquals(errno, v.errno());
                    assertEquals(1, v.count());
                    assertTrue(v.pid() > 0, () -> "pid " + v.pid());
                    assertEquals(6, v.arguments().size());
                    if (explicit) {
                        for (int i = 0; i < 6; i++) {
                            assertEquals(args[i], (long) v.arguments().get(i), "argument " + i);
                        }
                    }
                    assertEquals("build", v.profile());
                    assertEquals(rule.reason(), v.reason());
                } else {
                    assertEquals(List.of(), violations, "report degrades to errno");
                }
            }
            case KILL_PROCESS, KILL_THREAD, TRAP -> assertEquals(SandboxTesting.SIGSYS,
                    filtered.signal(), () -> "expected SIGSYS:\n" + filtered.output());
            default -> fail("no check for action " + action + " of " + rule);
        }

        if (kernel.outcome().equals(filtered.outcome())) {
            // Inside a sandbox without capabilities the kernel says the same: show that it was
            // this rule that answered.
            if (action.kind() == SeccompAction.Kind.REPORT && userNotification) {
                System.out.printf("%s: the kernel's own answer (%s) is the rule's; the Violation"
                        + " entry shows the filter answered%n", rule, kernel.outcome());
                return;
            }
            System.out.printf("%s: the kernel's own answer (%s) is the rule's; a marker errno"
                    + " shows the rule answered%n", rule, kernel.outcome());
            Call marked = TrySyscall.call(TrySyscall.policy(withMarker(build, rule)), cmd);
            assertErrno(MARKER_ERRNO, marked);
        } else {
            assertNotEquals(kernel.outcome(), filtered.outcome());
        }
    }

    private static void assertErrno(int errno, Call call) {
        assertFalse(call.killed(), () -> "killed:\n" + call.output());
        assertEquals(-1, call.ret(), () -> "the call was not denied:\n" + call.output());
        assertEquals(errno, call.errno(), () -> call.output().toString());
    }

    /**
     * Harmless arguments with this rule's conditions laid over them, checked against the rule.
     */
    static long[] argumentsFor(SeccompRule rule) {
        long[] args = BASE_ARGUMENTS.getOrDefault(rule.syscall(), new long[6]).clone();
        for (SeccompCondition c : rule.conditions()) {
            long a = args[c.argument()];
            if (c.matches(a)) {
                continue;
            }
            args[c.argument()] = switch (c.operator()) {
                case EQ, LE, GE -> c.value();
                case NE -> c.value() ^ 1;
                case LT -> c.value() - 1;
                case GT -> c.value() + 1;
                case MASKED_EQ -> (a & ~c.mask()) | c.value();
            };
        }
        assertTrue(rule.matches(args), () -> "no arguments found for " + rule + ": "
                + Arrays.toString(args));
        return args;
    }

    /** The one action the profile takes for these arguments (several rules may match). */
    static SeccompAction actionFor(SeccompProfile profile, String syscall, long[] args) {
        Map<SeccompAction, SeccompRule> actions = new LinkedHashMap<>();
        for (SeccompRule r : profile.rules()) {
            if (r.syscall().equals(syscall) && r.matches(args)) {
                actions.putIfAbsent(r.action(), r);
            }
        }
        assertEquals(1, actions.size(), () -> "rules with different actions match " + syscall
                + Arrays.toString(args) + ": " + actions.values());
        return actions.keySet().iterator().next();
    }

    /** Like {@link #actionFor}, or the default action when no rule matches. */
    static SeccompAction actionOrDefault(SeccompProfile profile, String syscall, long[] args) {
        boolean any = profile.rules().stream()
                .anyMatch(r -> r.syscall().equals(syscall) && r.matches(args));
        return any ? actionFor(profile, syscall, args) : profile.defaultAction();
    }

    /** {@code profile} with {@code rule} answering {@link #MARKER_ERRNO} instead. */
    static SeccompProfile withMarker(SeccompProfile profile, SeccompRule rule) {
        SeccompProfile.Builder b = SeccompProfile.builder().defaultAction(profile.defaultAction());
        for (SeccompRule r : profile.rules()) {
            b.rule(r.equals(rule)
                    ? new SeccompRule(r.syscall(), SeccompAction.errno(MARKER_ERRNO),
                            r.conditions())
                    : r);
        }
        return b.build();
    }

    private static String[] concat(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
