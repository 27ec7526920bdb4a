#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SECUREBITS                                                                          \
    (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                        \
     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | \
     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

static int caps_get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capget, &h, data);
}

static int caps_set(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capset, &h, data);
}

int stk_caps_drop_all(int cap_last_cap, struct stk_error *err)
{
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    /* Changing the uid cleared the effective set; CAP_SETPCAP is needed in it once more to
     * change securebits and the bounding set. */
    if (caps_get(data) < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "capget");
    }
    for (int i = 0; i < 2; i++) {
        data[i].effective = data[i].permitted;
    }
    if (caps_set(data) < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "capset effective = permitted");
    }
    if (prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_SECUREBITS, errno, "PR_SET_SECUREBITS");
    }
    if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SECUREBITS) {
        return stk_fail(err, STK_STEP_SECUREBITS, EPERM, "verification: PR_GET_SECUREBITS differs");
    }
    for (int cap = 0; cap <= cap_last_cap; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            stk_fail(err, STK_STEP_CAPABILITIES, errno, "PR_CAPBSET_DROP ");
            stk_error_append_u64(err, (uint64_t)cap);
            return -1;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "PR_CAP_AMBIENT_CLEAR_ALL");
    }
    memset(data, 0, sizeof data);
    if (caps_set(data) < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "capset all zero");
    }
    if (caps_get(data) < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "capget (verification)");
    }
    for (int i = 0; i < 2; i++) {
        if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0) {
            return stk_fail(err, STK_STEP_CAPABILITIES, EPERM,
                            "verification: a capability is left");
        }
    }
    for (int cap = 0; cap <= cap_last_cap; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0 ||
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0) {
            stk_fail(err, STK_STEP_CAPABILITIES, EPERM,
                     "verification: bounding or ambient set still holds capability ");
            stk_error_append_u64(err, (uint64_t)cap);
            return -1;
        }
    }
    return 0;
}

int stk_no_new_privs(struct stk_error *err)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_NO_NEW_PRIVS, errno, "PR_SET_NO_NEW_PRIVS");
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return stk_fail(err, STK_STEP_NO_NEW_PRIVS, EPERM,
                        "verification: PR_GET_NO_NEW_PRIVS is not 1");
    }
    return 0;
}
