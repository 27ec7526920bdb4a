/*
 * stockade-helper: started by libstockade.so (posix_spawn) with the command's stdio on fds
 * 0-2 and the control socket on fd 3; reads one SPEC frame and runs the sandbox (monitor.c).
 * `stockade-helper probe` reports what this kernel and user allow (probe.c).
 * docs/protocol.md describes the whole exchange.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "monitor.h"
#include "probe.h"
#include "progress.h"
#include "signals.h"
#include "spec.h"
#include "stockade.h"

/* The spawner's leftovers must not reach the sandbox: fds (the JVM leaks descriptors without
 * O_CLOEXEC into posix_spawn children), signal dispositions and the mask. Fds 0-2 are made
 * valid so that no descriptor the helper opens later can land there and pose as the
 * command's stdio. */
static int sanitize_process(unsigned int first_fd_to_close)
{
    if (close_range(first_fd_to_close, ~0U, 0) < 0) {
        return -1;
    }
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", O_RDWR);
            if (null != fd) {
                return -1;
            }
        }
    }
    stk_signals_reset();
    return 0;
}

/* Reads the one SPEC frame. Transport problems are step "protocol" (EPROTO), everything about
 * the content step "spec". */
static int read_spec(struct stk_spec *spec, struct stk_error *err)
{
    uint8_t header[STK_FRAME_HEADER_SIZE];
    ssize_t n = stk_read_full(STK_CONTROL_FD, header, sizeof header);
    if (n != (ssize_t)sizeof header) {
        return stk_fail(err, STK_STEP_PROTOCOL, n < 0 ? errno : EPROTO,
                        "control socket closed before the SPEC frame");
    }
    uint32_t type = stk_get_u32(header);
    uint32_t len = stk_get_u32(header + 4);
    if (type != STK_MSG_SPEC) {
        stk_fail(err, STK_STEP_PROTOCOL, EPROTO, "the first frame is not SPEC but type ");
        stk_error_append_u64(err, type);
        return -1;
    }
    if (len > STK_MAX_SPEC_SIZE) {
        stk_fail(err, STK_STEP_SPEC, EINVAL, "frame length ");
        stk_error_append_u64(err, len);
        stk_error_append(err, " above STK_MAX_SPEC_SIZE");
        return -1;
    }
    uint8_t *payload = malloc(len == 0 ? 1 : len);
    if (payload == NULL) {
        return stk_fail(err, STK_STEP_SPEC, ENOMEM, "allocating the SPEC frame");
    }
    n = stk_read_full(STK_CONTROL_FD, payload, len);
    int rc;
    if (n != (ssize_t)len) {
        rc = stk_fail(err, STK_STEP_PROTOCOL, n < 0 ? errno : EPROTO,
                      "control socket closed inside the SPEC frame");
    } else {
        rc = stk_spec_decode(payload, len, spec, err);
    }
    free(payload);
    return rc;
}

/* Run mode, fd 3 present: returns 0 after EXITED was sent, or -1 with the error to send. */
static int run_sandbox(struct stk_error *err)
{
    /* The progress page's fd survives the close: stk_progress_attach maps and closes it. */
    if (sanitize_process(STK_PROGRESS_FD + 1) < 0) {
        return stk_fail(err, STK_STEP_CLOSE_FDS, errno,
                        "close_range / opening /dev/null on fds 0-2");
    }
    stk_progress_attach();
    if (fcntl(STK_CONTROL_FD, F_SETFD, FD_CLOEXEC) < 0) {
        return stk_fail(err, STK_STEP_CLOSE_FDS, errno, "FD_CLOEXEC on the control socket");
    }
    struct stk_spec spec;
    if (read_spec(&spec, err) < 0) {
        return -1;
    }
    int rc = stk_monitor_run(&spec, err);
    stk_spec_free(&spec);
    return rc;
}

int main(int argc, char **argv)
{
    /* The JVM executes us as /proc/self/fd/N (the verified file, not a path someone could
     * swap), which makes the kernel name the process "N"; ps and /proc/1/comm in the sandbox
     * should say what it is. Cosmetic, so a failure is ignored. */
    (void)prctl(PR_SET_NAME, "stockade-helper", 0, 0, 0);
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "probe") == 0) {
        bool cgroup_only = argc == 3 && strcmp(argv[2], "cgroup") == 0;
        if (argc == 3 && !cgroup_only) {
            fprintf(stderr, "stockade-helper: probe takes no argument but cgroup\n");
            return 2;
        }
        if (sanitize_process(3) < 0) {
            perror("stockade-helper: preparing the process");
            return 1;
        }
        return stk_probe_run(cgroup_only);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: stockade-helper        (run mode: spec on fd 3)\n"
                        "       stockade-helper probe [cgroup]  (report what this kernel allows)\n");
        return 2;
    }
    if (fcntl(STK_CONTROL_FD, F_GETFD) < 0) {
        fprintf(stderr, "stockade-helper: fd 3 is not open; this program is started by the "
                        "Stockade library with its control socket there\n");
        return 2;
    }
    struct stk_error err;
    if (run_sandbox(&err) < 0) {
        /* The run's one ERROR frame, whichever process failed: pid 1's and the command's errors
         * reach the monitor as records first (status.h), the monitor's come back up to here. */
        stk_send_error(STK_CONTROL_FD, &err);
        return err.exit_code;
    }
    return 0;
}
