package dev.stockade.internal.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.Pure;
import dev.stockade.PolicyException;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.oci.OciSeccomp.Imported;
import dev.stockade.internal.policy.ProfileRules;
import dev.stockade.internal.policy.ProfileValidator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How each part of the OCI / Docker seccomp JSON is read: actions, errnos, argument
 * comparisons, includes/excludes, names this architecture lacks, and every kind of bad input
 * with the JSON path in its message.
 */
@Pure
class OciReaderTest {

    private static final String KERNEL = "6.1.0-13-amd64";

    /** A profile with default ENOSYS and {@code entries} as its syscalls array. */
    private static String profile(String entries) {
        return "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
                + " \"syscalls\": [" + entries + "]}";
    }

    /** Default EOPNOTSUPP: unlike any action the entries of the action tests produce. */
    private static String otherDefault(String entries) {
        return "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 95,"
                + " \"syscalls\": [" + entries + "]}";
    }

    private static Imported read(String json) {
        return OciReader.read(json, "p.json", KERNEL);
    }

    private static List<SeccompRule> rules(String entries) {
        return read(profile(entries)).profile().rules();
    }

    private static List<String> problems(String json) {
        return assertThrows(PolicyException.class, () -> read(json)).problems();
    }

    private static SeccompRule rule(String name, SeccompAction action,
            SeccompCondition... conditions) {
        return new SeccompRule(name, action, List.of(conditions));
    }

    @Test
    void defaultActionAndErrno() {
        ProfileRules p = read(profile("")).profile();
        assertEquals(SeccompAction.errno(38), p.defaultAction());
        assertEquals(List.of(), p.rules());
        assertEquals(SeccompAction.errno(1),
                read("{\"defaultAction\": \"SCMP_ACT_ERRNO\"}").profile().defaultAction(),
                "errnoRet defaults to EPERM");
        assertEquals(SeccompAction.errno(6), read("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                + " \"defaultErrno\": \"ENXIO\"}").profile().defaultAction());
        assertEquals(SeccompAction.ALLOW,
                read("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}").profile().defaultAction());
    }

    @Test
    void everyAction() {
        assertEquals(List.of(
                rule("read", SeccompAction.ALLOW),
                rule("ptrace", SeccompAction.errno(1)),
                rule("bpf", SeccompAction.errno(13)),
                rule("mount", SeccompAction.KILL_THREAD),
                rule("umount2", SeccompAction.KILL_PROCESS),
                rule("reboot", SeccompAction.KILL_THREAD),
                rule("swapon", SeccompAction.TRAP),
                rule("swapoff", SeccompAction.LOG),
                rule("acct", SeccompAction.errno(38)),
                rule("syslog", SeccompAction.report(1)),
                rule("vhangup", SeccompAction.report(5))),
                read(otherDefault("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                        + "{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                        + "{\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ERRNO\","
                        + " \"errnoRet\": 13},"
                        + "{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_KILL\"},"
                        + "{\"names\": [\"umount2\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
                        + "{\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_KILL_THREAD\"},"
                        + "{\"names\": [\"swapon\"], \"action\": \"SCMP_ACT_TRAP\"},"
                        + "{\"names\": [\"swapoff\"], \"action\": \"SCMP_ACT_LOG\"},"
                        + "{\"names\": [\"acct\"], \"action\": \"SCMP_ACT_TRACE\","
                        + " \"errnoRet\": 7},"
                        + "{\"names\": [\"syslog\"], \"action\": \"SCMP_ACT_NOTIFY\"},"
                        + "{\"names\": [\"vhangup\"], \"action\": \"SCMP_ACT_NOTIFY\","
                        + " \"errno\": \"EIO\"}")).profile().rules());
    }

    @Test
    void traceAndNotifyAreExplainedInWarnings() {
        List<String> warnings = read(otherDefault(
                "{\"names\": [\"acct\"], \"action\": \"SCMP_ACT_TRACE\"},"
                + "{\"names\": [\"syslog\"], \"action\": \"SCMP_ACT_NOTIFY\"}")).warnings();
        assertEquals(List.of("syscalls[0].action: SCMP_ACT_TRACE: no tracer is ever attached in"
                + " a sandbox, so the call fails with ENOSYS, as the kernel does without a"
                + " tracer",
                "syscalls[1].action: SCMP_ACT_NOTIFY: Stockade has no seccomp agent; the call is"
                + " denied with EPERM and recorded in the sandbox's report"), warnings);
    }

    @Test
    void argumentComparisons() {
        assertEquals(List.of(
                rule("socket", SeccompAction.errno(22), SeccompCondition.equal(0, 16),
                        SeccompCondition.equal(2, 9)),
                rule("personality", SeccompAction.ALLOW,
                        SeccompCondition.equal(0, 0xffffffffL)),
                rule("clone", SeccompAction.ALLOW,
                        SeccompCondition.maskedEqual(0, 0x7e020000L, 0)),
                rule("mmap", SeccompAction.ALLOW, SeccompCondition.notEqual(0, 1),
                        SeccompCondition.lessThan(1, 2), SeccompCondition.lessOrEqual(2, 3),
                        SeccompCondition.greaterOrEqual(3, 4),
                        SeccompCondition.greaterThan(4, 5)),
                rule("ioctl", SeccompAction.ALLOW, SeccompCondition.equal(1, -1L))),
                rules("{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
                        + " \"errnoRet\": 22, \"args\": ["
                        + "{\"index\": 0, \"value\": 16, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"},"
                        + "{\"index\": 2, \"value\": 9, \"op\": \"SCMP_CMP_EQ\"}]},"
                        + "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
                        + " \"args\": [{\"index\": 0, \"value\": 4294967295,"
                        + " \"op\": \"SCMP_CMP_EQ\"}]},"
                        // MASKED_EQ: value is the mask, valueTwo the datum (libseccomp's order)
                        + "{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
                        + " \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0,"
                        + " \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                        + "{\"names\": [\"mmap\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                        + "{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_NE\"},"
                        + "{\"index\": 1, \"value\": 2, \"op\": \"SCMP_CMP_LT\"},"
                        + "{\"index\": 2, \"value\": 3, \"op\": \"SCMP_CMP_LE\"},"
                        + "{\"index\": 3, \"value\": 4, \"op\": \"SCMP_CMP_GE\"},"
                        + "{\"index\": 4, \"value\": 5, \"op\": \"SCMP_CMP_GT\"}]},"
                        + "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\","
                        + " \"args\": [{\"index\": 1, \"value\": 18446744073709551615,"
                        + " \"op\": \"SCMP_CMP_EQ\"}]}"));
    }

    @Test
    void oneArgumentComparedTwiceBecomesAlternativesAsInRunc() {
        Imported imported = read(profile("{\"names\": [\"socket\", \"bind\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\", \"args\": ["
                + "{\"index\": 0, \"value\": 16, \"op\": \"SCMP_CMP_EQ\"},"
                + "{\"index\": 0, \"value\": 17, \"op\": \"SCMP_CMP_EQ\"}]}"));
        SeccompAction eperm = SeccompAction.errno(1);
        assertEquals(List.of(
                rule("socket", eperm, SeccompCondition.equal(0, 16)),
                rule("socket", eperm, SeccompCondition.equal(0, 17)),
                rule("bind", eperm, SeccompCondition.equal(0, 16)),
                rule("bind", eperm, SeccompCondition.equal(0, 17))),
                imported.profile().rules());
        assertEquals(List.of("syscalls[0].args: compares one argument more than once; as runc"
                + " does, each comparison becomes a rule of its own (any of them matching is"
                + " enough)"), imported.warnings());
    }

    @Test
    void capabilitiesArchesAndKernelVersions() {
        Imported imported = read(profile(
                "{\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
                + "{\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ERRNO\","
                + " \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
                + "{\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"arches\": [\"amd64\", \"x32\"]}},"
                + "{\"names\": [\"sync_file_range\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"arches\": [\"ppc64le\"]}},"
                + "{\"names\": [\"mbind\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"excludes\": {\"arches\": [\"amd64\"]}},"
                + "{\"names\": [\"mincore\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"excludes\": {\"arches\": [\"s390x\"]}},"
                + "{\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"minKernel\": \"5.3\"}},"
                + "{\"names\": [\"futex_waitv\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"minKernel\": \"6.7\"}},"
                + "{\"names\": [\"io_pgetevents\"], \"action\": \"SCMP_ACT_ERRNO\","
                + " \"excludes\": {\"minKernel\": \"6.1\"}},"
                + "{\"names\": [\"pidfd_open\"], \"action\": \"SCMP_ACT_ERRNO\","
                + " \"excludes\": {\"minKernel\": \"6.2\"}}"));
        assertEquals(List.of(
                rule("bpf", SeccompAction.errno(1)),
                rule("arch_prctl", SeccompAction.ALLOW),
                rule("mincore", SeccompAction.ALLOW),
                rule("clone3", SeccompAction.ALLOW),
                rule("pidfd_open", SeccompAction.errno(1))),
                imported.profile().rules());
        assertEquals(List.of(
                "syscalls[0].includes: not applied: needs CAP_SYS_ADMIN, and a sandboxed"
                        + " process has no capabilities",
                "syscalls[3].includes: not applied: only for ppc64le, not amd64",
                "syscalls[4].excludes: not applied: excluded on amd64",
                "syscalls[7].includes: not applied: needs kernel 6.7 or newer",
                "syscalls[8].excludes: not applied: excluded on kernel 6.1 and newer"),
                imported.warnings());
    }

    @Test
    void namesThisArchitectureLacksAreSkippedWithAWarning() {
        Imported imported = read(profile("{\"names\": [\"_llseek\", \"read\", \"socketcall\","
                + " \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}"));
        assertEquals(List.of(rule("read", SeccompAction.ALLOW),
                rule("write", SeccompAction.ALLOW)), imported.profile().rules());
        assertEquals(List.of(
                "syscalls[0].names[0]: skipped: \"_llseek\" is not a system call on x86_64",
                "syscalls[0].names[2]: skipped: \"socketcall\" is not a system call on x86_64"),
                imported.warnings());
    }

    @Test
    void ruleWithTheDefaultActionIsDropped() {
        Imported imported = read(profile("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                + " \"errnoRet\": 38}, {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ERRNO\"}"));
        assertEquals(List.of(rule("write", SeccompAction.errno(1))), imported.profile().rules());
        assertEquals(List.of("syscalls[0]: skipped: its action ERRNO(ENOSYS) is the default"
                + " action, so it has no effect (libseccomp refuses such rules)"),
                imported.warnings());
    }

    @Test
    void rulesLibseccompWouldIgnoreAreDroppedAsIt() {
        Imported imported = read(profile(
                "{\"names\": [\"setns\", \"kcmp\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                + "{\"names\": [\"setns\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                + "{\"names\": [\"kcmp\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": ["
                + "{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
                + "{\"names\": [\"kcmp\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                + "{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}"));
        assertEquals(List.of(rule("setns", SeccompAction.ALLOW),
                rule("kcmp", SeccompAction.ALLOW),
                rule("kcmp", SeccompAction.ALLOW, SeccompCondition.equal(0, 2))),
                imported.profile().rules());
        assertEquals(List.of(
                "syscalls[1].names[0]: skipped: syscalls[0].names[0] already gives \"setns\""
                        + " ALLOW whatever its arguments, and libseccomp keeps that rule",
                "syscalls[2].names[0]: skipped: syscalls[0].names[1] already gives \"kcmp\""
                        + " ALLOW whatever its arguments, and libseccomp keeps that rule"),
                imported.warnings());
        assertEquals(List.of(), ProfileValidator.problems(imported.profile()));
    }

    @Test
    void singularNameCommentAndWholeConfig() {
        Imported imported = OciReader.read("{\"ociVersion\": \"1.0.2\", \"linux\": {\"seccomp\":"
                + " {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"name\": \"ptrace\","
                + " \"action\": \"SCMP_ACT_ERRNO\", \"comment\": \"no debugging\\nhere\"}]}}}",
                "config.json", KERNEL);
        assertEquals(List.of(new SeccompRule("ptrace", SeccompAction.errno(1), List.of(),
                "no debugging here")), imported.profile().rules());
    }

    @Test
    void architecturesFlagsAndListenerAreCheckedAndExplained() {
        Imported imported = read("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"architectures\": [\"SCMP_ARCH_AARCH64\"],"
                + " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"], \"listenerPath\": \"/run/agent\","
                + " \"colour\": \"blue\"}");
        assertEquals(List.of(
                "colour: unknown field, ignored",
                "architectures: does not list SCMP_ARCH_X86_64; the rules apply to this"
                        + " machine's architecture anyway (libseccomp always keeps the native"
                        + " one)",
                "flags[0]: SECCOMP_FILTER_FLAG_LOG ignored: Stockade installs the filter with"
                        + " its own flags (none of these adds a restriction)",
                "listenerPath: ignored: Stockade has no seccomp agent; the sandbox's pid 1"
                        + " answers SCMP_ACT_NOTIFY calls itself"),
                imported.warnings());
    }

    @Test
    void badJsonIsOneProblemWithItsPlace() {
        List<String> truncated = problems("{\"defaultAction\": 1");
        assertEquals(1, truncated.size());
        assertTrue(truncated.get(0).startsWith("p.json: invalid JSON at line 1, column 20:"
                + " Unexpected end-of-input"), truncated.get(0));
        assertEquals(List.of("p.json: empty, expected a JSON object"), problems("  \n"));
        assertEquals(List.of("p.json: expected a JSON object, found an array"),
                problems("[1, 2]"));
        List<String> duplicate = problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"defaultAction\": \"SCMP_ACT_KILL\"}");
        assertEquals(1, duplicate.size());
        assertTrue(duplicate.get(0).startsWith("p.json: invalid JSON at line 1, column "),
                duplicate.get(0));
        assertTrue(duplicate.get(0).contains("Duplicate field 'defaultAction'"), duplicate.get(0));
        List<String> trailing = problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\"} {}");
        assertTrue(trailing.get(0).startsWith("p.json: invalid JSON at line 1, column "),
                trailing.get(0));
        String huge = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"x\": \""
                + "a".repeat(OciReader.MAX_CHARS) + "\"}";
        assertEquals(List.of("p.json: " + huge.length() + " characters, more than the "
                + OciReader.MAX_CHARS + " an OCI seccomp profile may have"), problems(huge));
    }

    @Test
    void everyProblemIsReportedWithItsJsonPath() {
        List<String> problems = problems("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                + " \"defaultErrnoRet\": 5000, \"architectures\": [\"SCMP_ARCH_Z80\"],"
                + " \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"], \"syscalls\": ["
                + "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1},"
                + "{\"names\": \"write\", \"action\": \"SCMP_ACT_BLOCK\"},"
                + "{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"},"
                + "{\"action\": \"SCMP_ACT_ALLOW\"},"
                + "{\"names\": [\"ioctl\", 7], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                + "{\"index\": 6, \"value\": -1, \"valueTwo\": 18446744073709551616,"
                + " \"op\": \"SCMP_CMP_FOO\"}, {\"value\": 1.5, \"op\": 3}, \"x\"]},"
                + "{\"names\": [\"open\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"EWHAT\"},"
                + "{\"names\": [\"open\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 0},"
                + "{\"names\": [\"open\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,"
                + " \"errno\": \"EACCES\"},"
                + "{\"names\": [\"open\"], \"action\": \"SCMP_ACT_ALLOW\","
                + " \"includes\": {\"caps\": \"CAP_SYS_ADMIN\", \"minKernel\": \"new\"}},"
                + "[], {\"names\": [\"open\"], \"action\": true}]}");
        assertEquals(List.of(
                "p.json: defaultErrnoRet: 5000 is outside 0..4094",
                "p.json: architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"",
                "p.json: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"",
                "p.json: syscalls[0].errnoRet: only SCMP_ACT_ERRNO, SCMP_ACT_TRACE and"
                        + " SCMP_ACT_NOTIFY take an errno, not SCMP_ACT_ALLOW",
                "p.json: syscalls[1].names: expected an array of names, found the string"
                        + " \"write\"",
                "p.json: syscalls[1].action: unknown action \"SCMP_ACT_BLOCK\" (expected one of"
                        + " SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS,"
                        + " SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_LOG, SCMP_ACT_TRACE,"
                        + " SCMP_ACT_NOTIFY)",
                "p.json: syscalls[2].names: empty: an entry names at least one system call",
                "p.json: syscalls[3]: missing \"names\"",
                "p.json: syscalls[4].names[1]: expected a system call name, found the number 7",
                "p.json: syscalls[4].args[0].index: 6 is outside 0..5",
                "p.json: syscalls[4].args[0].value: -1 is outside 0..18446744073709551615",
                "p.json: syscalls[4].args[0].valueTwo: 18446744073709551616 is outside"
                        + " 0..18446744073709551615",
                "p.json: syscalls[4].args[0].op: unknown operator \"SCMP_CMP_FOO\" (expected"
                        + " SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE,"
                        + " SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)",
                "p.json: syscalls[4].args[1].index: missing",
                "p.json: syscalls[4].args[1].value: expected a whole number, found the number"
                        + " 1.5",
                "p.json: syscalls[4].args[1].op: expected an operator name, found the number 3",
                "p.json: syscalls[4].args[2]: expected an object, found the string \"x\"",
                "p.json: syscalls[5].errno: unknown errno name \"EWHAT\"",
                "p.json: syscalls[6].errnoRet: errno 0 would make the call return success"
                        + " without running it; use 1..4094",
                "p.json: syscalls[7].errno: \"EACCES\" is errno 13 but errnoRet says 1",
                "p.json: syscalls[8].includes.caps: expected an array of strings, found the"
                        + " string \"CAP_SYS_ADMIN\"",
                "p.json: syscalls[8].includes.minKernel: expected a kernel version such as"
                        + " \"5.8\", found the string \"new\"",
                "p.json: syscalls[9]: expected an object, found an array",
                "p.json: syscalls[10].action: expected an action name, found the boolean true"),
                problems);
    }

    @Test
    void missingDefaultAction() {
        assertEquals(List.of("p.json: defaultAction: missing"), problems("{\"syscalls\": []}"));
        assertEquals(List.of("p.json: syscalls: expected an array, found an object"),
                problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}"));
    }

    @Test
    void kernelVersions() {
        assertEquals(List.of(6, 1), toList(OciApplicability.parseVersion("6.1.0-13-amd64")));
        assertEquals(List.of(5, 15), toList(OciApplicability.parseVersion("5.15")));
        assertEquals(null, OciApplicability.parseVersion("6"));
        assertEquals(null, OciApplicability.parseVersion("v6.1"));
    }

    private static List<Integer> toList(int[] v) {
        return List.of(v[0], v[1]);
    }
}
