#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "monitor.h"
#include "progress.h"
#include "signals.h"
#include "spec.h"
#include "stockade.h"

int stk_process_sanitize(unsigned int first_fd_to_close)
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

/* Returns 0 after EXITED was sent, or -1 with the error to send; *own_crash as
 * stk_monitor_run's. */
static int run_sandbox(bool *own_crash, struct stk_error *err)
{
    *own_crash = false;
    /* The progress page's fd survives the close: stk_progress_attach maps and closes it. */
    if (stk_process_sanitize(STK_PROGRESS_FD + 1) < 0) {
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
    int rc = stk_monitor_run(&spec, own_crash, err);
    stk_spec_free(&spec);
    return rc;
}

int stk_run_helper(void)
{
    struct stk_error err;
    bool own_crash;
    int rc = run_sandbox(&own_crash, &err);
    if (rc < 0) {
        /* The run's one ERROR frame, whichever process failed: pid 1's and the command's errors
         * reach the monitor as records first (status.h), the monitor's come back up to here. */
        stk_send_error(STK_CONTROL_FD, &err);
    }
    if (own_crash) {
        return STK_EXIT_OWN_CRASH;
    }
    return rc < 0 ? err.exit_code : 0;
}
