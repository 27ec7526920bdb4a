package dev.stockade;

import static dev.stockade.testing.SandboxTesting.python;
import static dev.stockade.testing.SandboxTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.stockade.testing.SandboxTesting.Output;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Kernel budgets the sandbox shares with the host are bounded by the sandbox's own limits:
 * processes and open files (rlimits), ptys (devpts max=), tmpfs inodes and sizes, and the
 * per-user-namespace counts (inotify, fanotify, namespaces). Each is shown to be usable up to its
 * bound and to fail exactly there, and the policy raises it.
 */
class SharedBudgetsTest {

    private static final SandboxPolicy DEFAULTS = SandboxPolicy.defaults();

    @Test
    void defaultRlimitsBoundProcessesAndOpenFiles() throws Exception {
        Output out = run(DEFAULTS, "/bin/bash", "-c", "ulimit -u; ulimit -Sn; ulimit -Hn");
        assertEquals("4096\n1024\n4096\n", out.stdout(), out.toString());
        Output raised = run(DEFAULTS.toBuilder().limits(Limits.builder().processes(10000)
                .openFiles(8192).build()).build(), "/bin/bash", "-c",
                "ulimit -u; ulimit -Sn; ulimit -Hn");
        assertEquals("10000\n8192\n8192\n", raised.stdout(), raised.toString());
        // A process may raise its soft limit to the hard one, never beyond.
        Output soft = run(DEFAULTS, "/bin/bash", "-c", "ulimit -Sn 4096 && ulimit -Sn; "
                + "ulimit -Hn 8192 2>/dev/null || echo refused");
        assertEquals("4096\nrefused\n", soft.stdout(), soft.toString());
    }

    @Test
    void ptysStopAtTheSandboxBound() throws Exception {
        String program = "import os\nn = 0\nfds = []\ntry:\n    while n < 10000:\n"
                + "        fds.extend(os.openpty())\n        n += 1\n"
                + "except OSError as e:\n    print(n, e.errno)\n";
        Output out = python(DEFAULTS, program);
        assertEquals("64 28\n", out.stdout(), out.toString()); // ENOSPC at the 65th
        Output raised = python(DEFAULTS.toBuilder().limits(Limits.builder().ptys(100).build())
                .build(), program);
        assertEquals("100 28\n", raised.stdout(), raised.toString());
    }

    @Test
    void everyTmpfsHasASizeAndAnInodeBound() throws Exception {
        SandboxPolicy policy = DEFAULTS.toBuilder().tmpfs(Path.of("/tmp/scratch"), 1L << 20)
                .build();
        Output out = python(policy, "import os\nfor p in ('/dev', '/dev/shm', '/tmp', '/run',"
                + " '/tmp/scratch'):\n    s = os.statvfs(p)\n"
                + "    print(p, s.f_blocks * s.f_frsize, s.f_files)\n");
        assertEquals("/dev 1048576 64\n"
                + "/dev/shm 67108864 8192\n"
                + "/tmp 536870912 65536\n"
                + "/run 16777216 2048\n"
                + "/tmp/scratch 1048576 1024\n", out.stdout(), out.toString());
        // Small files fill the inodes long before the bytes.
        Output filled = python(policy, "import os\nn = 0\ntry:\n    while n < 100000:\n"
                + "        open('/tmp/scratch/f%d' % n, 'w').close()\n        n += 1\n"
                + "except OSError as e:\n    print(n > 900, n < 1024, e.errno)\n");
        assertEquals("True True 28\n", filled.stdout(), filled.toString());
    }

    @Test
    void userNamespaceCountsAreTheSandboxsOwnAndCannotBeRaisedInside() throws Exception {
        String read = "for f in max_inotify_instances max_inotify_watches max_fanotify_groups"
                + " max_fanotify_marks max_user_namespaces max_net_namespaces; do"
                + " cat /proc/sys/user/$f; done";
        Output out = run(DEFAULTS, "/bin/sh", "-c", read);
        assertEquals("32\n16384\n4\n1024\n8\n8\n", out.stdout(), out.toString());
        Output raised = run(DEFAULTS.toBuilder().limits(Limits.builder().inotifyInstances(50)
                .namespaces(0).build()).build(), "/bin/sh", "-c", read);
        assertEquals("50\n16384\n4\n1024\n0\n0\n", raised.stdout(), raised.toString());

        Output write = run(DEFAULTS, "/bin/sh", "-c",
                "echo 100000 > /proc/sys/user/max_inotify_instances && echo written");
        assertEquals("", write.stdout(), write.toString());
        assertNotEquals(0, write.exitCode(), write.toString());

        String inotify = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nn = 0\n"
                + "while n < 100000:\n    if libc.inotify_init1(0) < 0:\n"
                + "        print(n, ctypes.get_errno())\n        break\n    n += 1\n";
        Output instances = python(DEFAULTS, inotify);
        assertEquals("32 24\n", instances.stdout(), instances.toString()); // EMFILE at the 33rd
    }
}
