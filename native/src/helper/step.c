/*
 * The names of enum stk_step (stockade.h) as an ERROR event carries them. A closed enum with
 * one name function, in the manner of bubblewrap's bind_mount_result_to_string: -Wswitch
 * makes the compiler name a member without a case. The build generates the Java enum
 * dev.stockade.SetupStep from these names and fails if one is not its member's name in lower
 * case (codegen/, ProtocolGenerator).
 */
#include "error.h"

const char *stk_step_name(enum stk_step step)
{
    switch (step) {
    case STK_STEP_SPEC:
        return "spec";
    case STK_STEP_PROTOCOL:
        return "protocol";
    case STK_STEP_CLOSE_FDS:
        return "close_fds";
    case STK_STEP_CAPABILITIES:
        return "capabilities";
    case STK_STEP_PTY:
        return "pty";
    case STK_STEP_CLONE:
        return "clone";
    case STK_STEP_IDMAP:
        return "idmap";
    case STK_STEP_SETGROUPS:
        return "setgroups";
    case STK_STEP_UID_MAP:
        return "uid_map";
    case STK_STEP_GID_MAP:
        return "gid_map";
    case STK_STEP_SETFSGID:
        return "setfsgid";
    case STK_STEP_SETFSUID:
        return "setfsuid";
    case STK_STEP_USER_LIMITS:
        return "user_limits";
    case STK_STEP_MOUNT_PRIVATE:
        return "mount_private";
    case STK_STEP_MOUNT_ROOT:
        return "mount_root";
    case STK_STEP_PROC:
        return "proc";
    case STK_STEP_DEV:
        return "dev";
    case STK_STEP_BIND:
        return "bind";
    case STK_STEP_TMPFS:
        return "tmpfs";
    case STK_STEP_PIVOT_ROOT:
        return "pivot_root";
    case STK_STEP_HOSTNAME:
        return "hostname";
    case STK_STEP_LOOPBACK:
        return "loopback";
    case STK_STEP_SETRESGID:
        return "setresgid";
    case STK_STEP_SETRESUID:
        return "setresuid";
    case STK_STEP_SECUREBITS:
        return "securebits";
    case STK_STEP_DUMPABLE:
        return "dumpable";
    case STK_STEP_INIT:
        return "init";
    case STK_STEP_SECCOMP:
        return "seccomp";
    case STK_STEP_SETSID:
        return "setsid";
    case STK_STEP_CHDIR:
        return "chdir";
    case STK_STEP_RLIMIT:
        return "rlimit";
    case STK_STEP_SIGPROCMASK:
        return "sigprocmask";
    case STK_STEP_NO_NEW_PRIVS:
        return "no_new_privs";
    case STK_STEP_EXECVE:
        return "execve";
    case STK_STEP_HELPER:
        return "helper";
    case STK_STEP_START:
        return "start";
    case STK_STEP_SYMLINK:
        return "symlink";
    case STK_STEP_OVERLAY:
        return "overlay";
    case STK_STEP_FILE:
        return "file";
    case STK_STEP_PROTECT:
        return "protect";
    case STK_STEP_CGROUP:
        return "cgroup";
    case STK_STEP_CGROUP_ATTACH:
        return "cgroup_attach";
    case STK_STEP_CGROUP_NAMESPACE:
        return "cgroup_namespace";
    case STK_STEP_TRANSACTIONAL:
        return "transactional";
    case STK_STEP_OUTPUT:
        return "output";
    case STK_STEP_EGRESS:
        return "egress";
    case STK_STEP_COMMAND:
        return "command";
    case STK_STEP_RESOLVE:
        return "resolve";
    case STK_STEP_NETWORK_NAMESPACE:
        return "network_namespace";
    }
    return NULL; /* not a member: a corrupted record (status.c refuses those) */
}
