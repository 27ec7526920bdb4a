package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.testing.SandboxUser;
import dev.stockade.internal.ProtocolException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sandbox.probe() on this machine, and the parsing of the helper's probe lines. */
@Timeout(60)
class ProbeTest {

    @Test
    void thisMachineCanRunTheDefaultPolicy() throws Exception {
        // The machines the tests run on allow everything the default policy needs; the other
        // tests depend on it too.
        ProbeReport report = Sandbox.probe();
        assertTrue(report.userNamespaces(), report.toString());
        assertTrue(report.seccompFilter(), report.toString());
        assertTrue(report.canRunDefaultPolicy(), report.toString());
        assertTrue(report.feature("all_namespaces").orElseThrow().available());
        for (String ns : List.of("user", "pid", "mount", "network", "ipc", "uts", "cgroup")) {
            assertTrue(report.feature(ns + "_namespace").orElseThrow().available(), ns);
        }
        // Kernel 6.x: user notification and Landlock exist.
        assertTrue(report.seccompUserNotification(), report.toString());
        assertTrue(report.landlockAbi().orElseThrow() >= 1, report.toString());
        assertTrue(List.of(0, 1, 2).contains(report.cgroupVersion()));
        ProbeReport.Feature idmap = report.feature("idmapped_mounts").orElseThrow();
        if (!SandboxUser.callerIsRoot()) {
            assertFalse(idmap.available());
            assertEquals(1, idmap.errno());
        }
    }

    /**
     * What a spawn waits for: the seccomp part only, the same two lines the whole probe has for
     * it and nothing else (no namespace made); likewise the cgroup part.
     */
    @Test
    void theProbesPartsPrintTheirOwnLinesOnly() throws Exception {
        ProbeReport whole = Sandbox.probe();
        ProbeReport seccomp = ProbeRunner.runSeccomp();
        assertEquals(List.of("seccomp_filter", "seccomp_user_notif"),
                seccomp.features().stream().map(ProbeReport.Feature::name).toList());
        assertEquals(whole.feature("seccomp_user_notif"), seccomp.feature("seccomp_user_notif"));
        assertTrue(seccomp.seccompUserNotification(), "this kernel has user notification");
        assertEquals(List.of("cgroup", "cgroup_delegation"), ProbeRunner.runCgroup().features()
                .stream().map(ProbeReport.Feature::name).toList());
    }

    @Test
    void parsesEveryLineShape() throws Exception {
        ProbeReport r = ProbeReport.parse(String.join("\n",
                "user_namespace=yes",
                "all_namespaces=no errno=1 reason=clone with all seven CLONE_NEW* flags:"
                        + " Operation not permitted",
                "seccomp_filter=yes",
                "seccomp_user_notif=no errno=22 reason=seccomp(...): Invalid argument",
                "landlock=yes abi=6",
                "idmapped_mounts=no errno=22 path=/a\\040b reason=idmapping: Invalid argument",
                "cgroup=v2",
                "cgroup_delegation=yes version=v2 path=/sys/fs/cgroup/x reason=writable cgroup",
                ""));
        assertEquals(8, r.features().size());
        assertEquals(new ProbeReport.Feature("user_namespace", true, "", 0, Map.of()),
                r.features().get(0));
        ProbeReport.Feature all = r.feature("all_namespaces").orElseThrow();
        assertFalse(all.available());
        assertEquals(1, all.errno());
        assertEquals("clone with all seven CLONE_NEW* flags: Operation not permitted",
                all.detail());
        assertEquals("/a b", r.feature("idmapped_mounts").orElseThrow().attributes().get("path"));
        assertEquals("abi=6", r.feature("landlock").orElseThrow().detail());
        assertEquals(OptionalInt.of(6), r.landlockAbi());
        assertEquals(2, r.cgroupVersion());
        assertTrue(r.cgroupDelegation());
        assertEquals("writable cgroup", r.feature("cgroup_delegation").orElseThrow().detail());
        assertTrue(r.userNamespaces());
        assertTrue(r.seccompFilter());
        assertFalse(r.seccompUserNotification());
        assertFalse(r.canRunDefaultPolicy(), "all_namespaces is missing");
    }

    @Test
    void cgroupModes() throws Exception {
        assertEquals(1, ProbeReport.parse("cgroup=hybrid").cgroupVersion());
        assertEquals(1, ProbeReport.parse("cgroup=v1").cgroupVersion());
        assertEquals(0, ProbeReport.parse("cgroup=none").cgroupVersion());
        assertFalse(ProbeReport.parse("cgroup=none").feature("cgroup").orElseThrow().available());
        assertEquals(OptionalInt.empty(), ProbeReport.parse("landlock=no errno=38 reason=x")
                .landlockAbi());
    }

    @Test
    void whichCgroupASandboxUsesAndWhy() throws Exception {
        ProbeReport v1 = ProbeReport.parse("cgroup=hybrid\ncgroup_delegation=yes version=v1"
                + " path=/sys/fs/cgroup/memory/a reason=a sandbox's cgroup can be made\n");
        assertEquals(1, v1.cgroupUsableVersion());
        assertEquals("a sandbox's cgroup can be made", v1.cgroupReason());
        ProbeReport none = ProbeReport.parse("cgroup=hybrid\ncgroup_delegation=no errno=13"
                + " reason=no cgroup can be made for the sandbox (run as root, or under"
                + " systemd-run --user --scope -p Delegate=yes): mkdir in the caller's memory"
                + " cgroup: Permission denied\n");
        assertEquals(0, none.cgroupUsableVersion());
        assertFalse(none.cgroupDelegation());
        assertTrue(none.cgroupReason().contains("systemd-run --user --scope -p Delegate=yes"),
                none.cgroupReason());
        // The helper's own probe: whatever it says, the version and the reason agree with it.
        ProbeReport real = Sandbox.probe();
        assertEquals(real.cgroupDelegation(), real.cgroupUsableVersion() != 0,
                real.cgroupReason());
        assertFalse(real.cgroupReason().isEmpty());
    }

    @Test
    void rejectsGarbage() {
        assertThrows(ProtocolException.class, () -> ProbeReport.parse(""));
        assertThrows(ProtocolException.class, () -> ProbeReport.parse("no equals sign"));
        assertThrows(ProtocolException.class, () -> ProbeReport.parse("x=yes loose-token"));
        assertThrows(ProtocolException.class, () -> ProbeReport.parse("x=no errno=abc"));
    }
}
