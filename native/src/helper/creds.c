#include "creds.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int stk_creds_set_fs_ids(uint32_t uid, uint32_t gid, struct stk_error *err)
{
    /* setfs[ug]id report nothing but the previous value; ask again with -1 to verify. */
    syscall(SYS_setfsgid, gid);
    if ((uint32_t)syscall(SYS_setfsgid, -1) != gid) {
        return stk_fail(err, STK_STEP_SETFSGID, EPERM, "filesystem gid did not change");
    }
    syscall(SYS_setfsuid, uid);
    if ((uint32_t)syscall(SYS_setfsuid, -1) != uid) {
        return stk_fail(err, STK_STEP_SETFSUID, EPERM, "filesystem uid did not change");
    }
    return 0;
}

int stk_creds_clear_groups(struct stk_error *err)
{
    if (syscall(SYS_setgroups, 0, NULL) < 0) {
        return stk_fail(err, STK_STEP_SETGROUPS, errno, "setgroups(0, NULL)");
    }
    return 0;
}

int stk_creds_switch(uint32_t uid, uint32_t gid, struct stk_error *err)
{
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
        return stk_fail(err, STK_STEP_SETRESUID, errno, "PR_SET_KEEPCAPS");
    }
    if (syscall(SYS_setresgid, gid, gid, gid) < 0) {
        return stk_fail(err, STK_STEP_SETRESGID, errno, "setresgid");
    }
    if (syscall(SYS_setresuid, uid, uid, uid) < 0) {
        return stk_fail(err, STK_STEP_SETRESUID, errno, "setresuid");
    }
    gid_t rg, eg, sg;
    uid_t ru, eu, su;
    if (syscall(SYS_getresgid, &rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid) {
        return stk_fail(err, STK_STEP_SETRESGID, EPERM, "verification: gids did not change");
    }
    if (syscall(SYS_getresuid, &ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid) {
        return stk_fail(err, STK_STEP_SETRESUID, EPERM, "verification: uids did not change");
    }
    return 0;
}
