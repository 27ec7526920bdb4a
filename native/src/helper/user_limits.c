#include "user_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PROC_SYS_USER "/proc/sys/user/"

static const char *const namespace_files[] = {
    "max_user_namespaces", "max_pid_namespaces", "max_net_namespaces",
    "max_mnt_namespaces",  "max_ipc_namespaces", "max_uts_namespaces",
    "max_cgroup_namespaces", "max_time_namespaces",
};

/* The sysctl files of one limit: one, or every namespace type's. */
static size_t files_of(uint32_t limit, const char *const **files)
{
    static const char *const inotify_instances[] = {"max_inotify_instances"};
    static const char *const inotify_watches[] = {"max_inotify_watches"};
    static const char *const fanotify_groups[] = {"max_fanotify_groups"};
    static const char *const fanotify_marks[] = {"max_fanotify_marks"};
    switch (limit) {
    case STK_USER_LIMIT_INOTIFY_INSTANCES: *files = inotify_instances; return 1;
    case STK_USER_LIMIT_INOTIFY_WATCHES: *files = inotify_watches; return 1;
    case STK_USER_LIMIT_FANOTIFY_GROUPS: *files = fanotify_groups; return 1;
    case STK_USER_LIMIT_FANOTIFY_MARKS: *files = fanotify_marks; return 1;
    case STK_USER_LIMIT_NAMESPACES:
        *files = namespace_files;
        return sizeof namespace_files / sizeof namespace_files[0];
    default: return 0; /* spec.c accepts only the values above */
    }
}

static void path_of(const char *name, char path[64])
{
    size_t prefix = stk_strlen(PROC_SYS_USER);
    memcpy(path, PROC_SYS_USER, prefix);
    memcpy(path + prefix, name, stk_strlen(name) + 1);
}

void stk_user_limits_close(struct stk_user_limit_files *files)
{
    for (size_t i = 0; i < files->count; i++) {
        close(files->fds[i]);
    }
    files->count = 0;
}

int stk_user_limits_open(const struct stk_spec *spec, struct stk_user_limit_files *files,
                         struct stk_error *err)
{
    files->count = 0;
    for (size_t i = 0; i < spec->user_limit_count; i++) {
        const char *const *names = NULL;
        size_t count = files_of(spec->user_limits[i].limit, &names);
        for (size_t f = 0; f < count && files->count < STK_USER_LIMIT_FILES; f++) {
            char path[64];
            path_of(names[f], path);
            int fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                int saved = errno;
                stk_user_limits_close(files);
                return stk_fail_on(err, STK_STEP_USER_LIMITS, saved, "open", path);
            }
            files->fds[files->count] = fd;
            files->names[files->count] = names[f];
            files->values[files->count] = spec->user_limits[i].value;
            files->count++;
        }
    }
    return 0;
}

/* Writes the value and reads it back: a kernel that ignored or clamped it must not pass. */
static int write_one(int fd, const char *name, uint64_t value, struct stk_error *err)
{
    char path[64];
    path_of(name, path);
    char text[22];
    size_t digits = stk_format_u64(text, value);
    ssize_t n = pwrite(fd, text, digits, 0);
    if (n != (ssize_t)digits) {
        return stk_fail_on(err, STK_STEP_USER_LIMITS, n < 0 ? errno : EIO, "write", path);
    }
    char back[24];
    n = pread(fd, back, sizeof back - 1, 0);
    if (n <= 0) {
        return stk_fail_on(err, STK_STEP_USER_LIMITS, n < 0 ? errno : EIO, "read back", path);
    }
    back[n] = '\0';
    if ((size_t)n != digits + 1 || memcmp(back, text, digits) != 0 || back[digits] != '\n') {
        return stk_fail_on(err, STK_STEP_USER_LIMITS, EPERM, "verification: value differs in",
                           path);
    }
    return 0;
}

int stk_user_limits_write(struct stk_user_limit_files *files, struct stk_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < files->count && rc == 0; i++) {
        rc = write_one(files->fds[i], files->names[i], files->values[i], err);
    }
    stk_user_limits_close(files);
    return rc;
}
