#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"

/* /proc/<pid>/{uid_map,gid_map,setgroups} accept exactly one write() with the whole text. */
static int write_proc_file(pid_t pid, const char *name, const char *text, enum stk_step step,
                           struct stk_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return stk_fail_on(err, step, errno, "open", path);
    }
    size_t len = strlen(text);
    ssize_t n;
    do {
        n = write(fd, text, len);
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        return stk_fail_on(err, step, n < 0 ? saved : EIO, "write", path);
    }
    return 0;
}

int stk_userns_write_maps(pid_t pid, const struct stk_plan *p, struct stk_error *err)
{
    /* Without "deny" the kernel refuses an unprivileged gid_map (setgroups could otherwise
     * drop a group that is used to deny access). */
    if (p->deny_setgroups &&
        write_proc_file(pid, "setgroups", "deny", STK_STEP_SETGROUPS, err) < 0) {
        return -1;
    }
    if (write_proc_file(pid, "uid_map", p->uid_map, STK_STEP_UID_MAP, err) < 0) {
        return -1;
    }
    return write_proc_file(pid, "gid_map", p->gid_map, STK_STEP_GID_MAP, err);
}

int stk_userns_idmap(const struct stk_idmap *map, int *fd_out, struct stk_error *err)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0) {
        return stk_fail(err, STK_STEP_IDMAP, errno, "pipe2");
    }
    /* The namespace lives as long as a process or an fd holds it: a child keeps it alive
     * until its /proc/<pid>/ns/user is open, then exits. */
    pid_t child = stk_clone(CLONE_NEWUSER | SIGCHLD);
    if (child < 0) {
        int saved = errno;
        close(hold[0]);
        close(hold[1]);
        return stk_fail(err, STK_STEP_IDMAP, saved, "clone(CLONE_NEWUSER)");
    }
    if (child == 0) {
        char byte;
        close(hold[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (read(hold[0], &byte, 1) < 0 && errno == EINTR) {
        }
        _exit(0);
    }
    close(hold[0]);
    char map_uid[32], map_gid[32], path[64];
    snprintf(map_uid, sizeof map_uid, "%u %u 1\n", map->disk_uid, map->host_uid);
    snprintf(map_gid, sizeof map_gid, "%u %u 1\n", map->disk_gid, map->host_gid);
    int rc = -1;
    if (write_proc_file(child, "uid_map", map_uid, STK_STEP_IDMAP, err) == 0 &&
        write_proc_file(child, "gid_map", map_gid, STK_STEP_IDMAP, err) == 0) {
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
        *fd_out = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd_out < 0) {
            stk_fail_on(err, STK_STEP_IDMAP, errno, "open", path);
        } else {
            rc = 0;
        }
    }
    close(hold[1]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    return rc;
}
