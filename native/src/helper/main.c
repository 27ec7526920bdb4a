/*
 * stockade-helper, in one of three modes:
 *   stockade-helper          run mode: the command's stdio on fds 0-2, the control socket on
 *                            fd 3; reads one SPEC frame and runs the sandbox (run.c)
 *   stockade-helper zygote   the zygote socket on fd 3: forks a helper in run mode for each
 *                            FORK request (zygote.c); the library starts one per JVM
 *   stockade-helper probe    reports what this kernel and user allow (probe.c)
 * docs/protocol.md describes the whole exchange.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "probe.h"
#include "run.h"
#include "stockade.h"
#include "zygote.h"

int main(int argc, char **argv)
{
    /* The JVM executes us as /proc/self/fd/N (the verified file, not a path someone could
     * swap), which makes the kernel name the process "N"; ps and /proc/1/comm in the sandbox
     * should say what it is. Cosmetic, so a failure is ignored. */
    (void)prctl(PR_SET_NAME, "stockade-helper", 0, 0, 0);
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "probe") == 0) {
        enum stk_probe_part part = STK_PROBE_ALL;
        if (argc == 3 && strcmp(argv[2], "cgroup") == 0) {
            part = STK_PROBE_CGROUP;
        } else if (argc == 3 && strcmp(argv[2], "seccomp") == 0) {
            part = STK_PROBE_SECCOMP;
        } else if (argc == 3) {
            fprintf(stderr, "stockade-helper: probe takes no argument but cgroup or seccomp\n");
            return 2;
        }
        if (stk_process_sanitize(3) < 0) {
            perror("stockade-helper: preparing the process");
            return 1;
        }
        return stk_probe_run(part);
    }
    bool zygote = argc == 2 && strcmp(argv[1], "zygote") == 0;
    if (argc != 1 && !zygote) {
        fprintf(stderr, "usage: stockade-helper        (run mode: spec on fd 3)\n"
                        "       stockade-helper zygote (fork a helper per request on fd 3)\n"
                        "       stockade-helper probe [cgroup|seccomp]  (report what this kernel allows)\n");
        return 2;
    }
    if (fcntl(STK_CONTROL_FD, F_GETFD) < 0) {
        fprintf(stderr, "stockade-helper: fd 3 is not open; this program is started by the "
                        "Stockade library with its %s socket there\n",
                zygote ? "zygote" : "control");
        return 2;
    }
    return zygote ? stk_zygote_run(argv[1]) : stk_run_helper();
}
