#include "seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int stk_seccomp_install(const struct sock_filter *insns, size_t count, int *listener,
                        struct stk_error *err)
{
    struct sock_fprog prog = {
        .len = (unsigned short)count, /* spec.c bounds count to 1..4096 */
        .filter = (struct sock_filter *)insns,
    };
    /* No TSYNC: the command's process is single-threaded here. WAIT_KILLABLE_RECV (5.19+):
     * once pid 1 has received a call, only a fatal signal interrupts the caller's wait, so
     * signals cannot make a reported call be answered (and counted) twice. Older kernels
     * refuse the flag with EINVAL and get the plain listener. */
    unsigned long flags = listener != NULL ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long rc = -1;
    if (listener != NULL) {
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                     flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    }
    if (listener == NULL || (rc < 0 && errno == EINVAL)) {
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    }
    if (rc < 0) {
        return stk_fail(err, STK_STEP_SECCOMP, errno,
                        listener != NULL
                            ? "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER)"
                            : "seccomp(SECCOMP_SET_MODE_FILTER)");
    }
    if (listener != NULL) {
        *listener = (int)rc;
    }
    return 0;
}

int stk_seccomp_verify(struct stk_error *err)
{
    /* 2 = filter mode. A filter may itself deny prctl: that failure is proof enough that a
     * filter runs, since PR_GET_SECCOMP never fails without one. */
    int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode != 2 && mode != -1) {
        return stk_fail(err, STK_STEP_SECCOMP, EPERM, "verification: PR_GET_SECCOMP is not 2");
    }
    return 0;
}
