#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "frame.h"

static int choose_ids(const struct stk_spec *spec, struct stk_plan *p, struct stk_error *err)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (uid != geteuid() || gid != getegid()) {
        /* A set-user-ID install would turn every caller into root here. */
        return stk_fail(err, STK_STEP_SPEC, EPERM,
                        "stockade-helper must not run set-user-ID/-group-ID");
    }
    p->caller_root = uid == 0;
    if (!p->caller_root) {
        if (!p->new_user) {
            return stk_fail(err, STK_STEP_SPEC, EPERM,
                            "NAMESPACES: an unprivileged caller needs CLONE_NEWUSER");
        }
        p->inside_uid = spec->has_uid ? spec->uid : (uint32_t)uid;
        p->inside_gid = spec->has_gid ? spec->gid : (uint32_t)gid;
        p->host_uid = (uint32_t)uid;
        p->host_gid = (uint32_t)gid;
        p->deny_setgroups = true;
        p->clear_groups = false;
    } else {
        /* Design rule 7 (docs/design.md): a root caller's command never runs as host root.
         * With a user namespace the host side is nobody; without one the inside ids are host
         * ids. */
        p->inside_uid = spec->has_uid ? spec->uid : STK_NOBODY_ID;
        p->inside_gid = spec->has_gid ? spec->gid : STK_NOBODY_ID;
        if (p->new_user) {
            p->host_uid = STK_NOBODY_ID;
            p->host_gid = STK_NOBODY_ID;
        } else {
            if (p->inside_uid == 0 || p->inside_gid == 0) {
                return stk_fail(err, STK_STEP_SPEC, EPERM,
                                "UID/GID 0 without CLONE_NEWUSER would run the command as "
                                "host root");
            }
            p->host_uid = p->inside_uid;
            p->host_gid = p->inside_gid;
        }
        p->deny_setgroups = false;
        p->clear_groups = true;
    }
    snprintf(p->uid_map, sizeof p->uid_map, "%u %u 1\n", p->inside_uid, p->host_uid);
    snprintf(p->gid_map, sizeof p->gid_map, "%u %u 1\n", p->inside_gid, p->host_gid);
    return 0;
}

static int read_cap_last_cap(struct stk_plan *p, struct stk_error *err)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, errno, "open /proc/sys/kernel/cap_last_cap");
    }
    char text[16];
    ssize_t n = stk_read_full(fd, text, sizeof text - 1);
    int saved = errno;
    close(fd);
    if (n <= 0) {
        return stk_fail(err, STK_STEP_CAPABILITIES, n < 0 ? saved : EIO,
                        "read /proc/sys/kernel/cap_last_cap");
    }
    text[n] = '\0';
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (end == text || value < 0 || value > 63) {
        return stk_fail(err, STK_STEP_CAPABILITIES, EINVAL,
                        "unexpected /proc/sys/kernel/cap_last_cap");
    }
    p->cap_last_cap = (int)value;
    return 0;
}

/* The PATH the command's environment sets, like getenv in the command would see it. */
static const char *command_path(char *const *envp)
{
    for (size_t i = 0; envp[i] != NULL; i++) {
        if (strncmp(envp[i], "PATH=", 5) == 0) {
            return envp[i] + 5;
        }
    }
    return STK_DEFAULT_PATH;
}

/* execvp's rule: a name with a '/' is the one candidate, an empty name has none. */
static bool searched(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL;
}

void stk_exec_paths_measure(const char *name, char *const *envp, size_t *count, size_t *bytes)
{
    if (!searched(name)) {
        *count = name[0] != '\0';
        *bytes = 0;
        return;
    }
    const char *path = command_path(envp);
    size_t path_len = strlen(path);
    size_t entries = 1;
    for (size_t i = 0; i < path_len; i++) {
        entries += path[i] == ':';
    }
    *count = entries;
    /* every entry adds at most "/" + name + NUL; an empty entry becomes "." */
    *bytes = path_len + entries * (strlen(name) + 3) + 1;
}

size_t stk_exec_paths_fill(char *name, char *const *envp, char **paths, char *storage)
{
    if (!searched(name)) {
        paths[0] = name[0] != '\0' ? name : NULL;
        paths[1] = NULL;
        return name[0] != '\0';
    }
    size_t name_len = strlen(name);
    size_t count = 0;
    char *out = storage;
    const char *start = command_path(envp);
    for (;;) {
        const char *end = strchr(start, ':');
        size_t dir_len = end != NULL ? (size_t)(end - start) : strlen(start);
        paths[count++] = out;
        if (dir_len == 0) {
            *out++ = '.';
        } else {
            memcpy(out, start, dir_len);
            out += dir_len;
        }
        *out++ = '/';
        memcpy(out, name, name_len);
        out += name_len;
        *out++ = '\0';
        if (end == NULL) {
            break;
        }
        start = end + 1;
    }
    paths[count] = NULL;
    return count;
}

/* Candidates in execvp's order; the command's process then only walks this list. A warm
 * spec has no command yet: warm.c lays the list out when COMMAND comes. */
static int prepare_exec_paths(const struct stk_spec *spec, struct stk_plan *p,
                              struct stk_error *err)
{
    if (spec->warm) {
        return 0;
    }
    size_t count, bytes;
    stk_exec_paths_measure(spec->argv[0], spec->envp, &count, &bytes);
    p->exec_paths = calloc(count + 1, sizeof *p->exec_paths);
    p->exec_storage = bytes != 0 ? malloc(bytes) : NULL;
    if (p->exec_paths == NULL || (bytes != 0 && p->exec_storage == NULL)) {
        return stk_fail(err, STK_STEP_EXECVE, ENOMEM, "preparing the PATH search");
    }
    p->exec_path_count = stk_exec_paths_fill(spec->argv[0], spec->envp, p->exec_paths,
                                             p->exec_storage);
    return 0;
}

int stk_plan_build(const struct stk_spec *spec, struct stk_plan *p, struct stk_error *err)
{
    memset(p, 0, sizeof *p);
    p->spec = spec;
    /* The network namespace is made beside pid 1, not in its clone (netns.h). */
    p->clone_flags = spec->namespaces & ~(uint32_t)CLONE_NEWNET;
    p->new_user = (spec->namespaces & CLONE_NEWUSER) != 0;
    p->new_pid = (spec->namespaces & CLONE_NEWPID) != 0;
    p->new_mount = (spec->namespaces & CLONE_NEWNS) != 0;
    p->new_net = (spec->namespaces & CLONE_NEWNET) != 0;
    p->new_uts = (spec->namespaces & CLONE_NEWUTS) != 0;
    if (p->new_uts) {
        p->hostname = spec->hostname != NULL ? spec->hostname : STK_DEFAULT_HOSTNAME;
        p->hostname_len = spec->hostname != NULL ? spec->hostname_len
                                                 : strlen(STK_DEFAULT_HOSTNAME);
    }
    p->mount_fds = malloc((spec->mount_count + 1) * sizeof *p->mount_fds);
    if (p->mount_fds == NULL) {
        return stk_fail(err, STK_STEP_SPEC, ENOMEM, "allocating the mount table");
    }
    for (size_t i = 0; i < spec->mount_count; i++) {
        p->mount_fds[i] = -1;
    }
    p->mount_ids = calloc(spec->mount_count + 1, sizeof *p->mount_ids);
    if (p->mount_ids == NULL) {
        stk_plan_free(p);
        return stk_fail(err, STK_STEP_SPEC, ENOMEM, "allocating the mount table");
    }
    p->upper_fd = -1;
    p->netns_channel = -1;
    p->report = spec->report_count > 0;
    p->filter_early = spec->warm && p->new_pid && stk_command_can_filter_early(spec);
    if (choose_ids(spec, p, err) < 0 || read_cap_last_cap(p, err) < 0 ||
        prepare_exec_paths(spec, p, err) < 0 ||
        (p->report && stk_notify_prepare(&p->notify, spec, err) < 0)) {
        stk_plan_free(p);
        return -1;
    }
    for (size_t i = 0; i < spec->mount_count; i++) {
        if ((spec->mounts[i].flags & (STK_MOUNT_IDMAP | STK_MOUNT_IDMAP_OWNER)) != 0 &&
            !p->caller_root) {
            stk_fail(err, STK_STEP_SPEC, EPERM,
                     "MOUNT idmap: only a root caller's binds are idmapped"
                     " (an unprivileged caller's files keep their owner)");
            stk_plan_free(p);
            return -1;
        }
    }
    return 0;
}

void stk_plan_free(struct stk_plan *p)
{
    if (p->mount_fds != NULL && p->spec != NULL) {
        for (size_t i = 0; i < p->spec->mount_count; i++) {
            if (p->mount_fds[i] >= 0) {
                close(p->mount_fds[i]);
            }
        }
    }
    if (p->upper_fd >= 0) {
        close(p->upper_fd);
    }
    free(p->mount_fds);
    free(p->mount_ids);
    free(p->exec_paths);
    free(p->exec_storage);
    stk_notify_free(&p->notify);
    memset(p, 0, sizeof *p);
}
