/*
 * The new user namespace's own counts (/proc/sys/user/max_*): inotify instances and watches,
 * fanotify groups and marks, and namespaces of every type. They are charged to the user who
 * created the namespace — host root for a root caller — so the sandbox's own must be small.
 */
#ifndef STK_USER_LIMITS_H
#define STK_USER_LIMITS_H

#include "error.h"
#include "spec.h"

#include <stddef.h>
#include <stdint.h>

/* Every sysctl file a spec can name: one per limit, the namespace limit's eight. */
#define STK_USER_LIMIT_FILES 12

/* The files of the spec's USER_LIMITs, opened in pid 1 before the mounts (without a pid
 * namespace the view's /proc is a read-only clone) and written after them: building the view
 * clones mount trees, and each clone is a mount namespace the namespace bound counts. */
struct stk_user_limit_files {
    int fds[STK_USER_LIMIT_FILES];
    const char *names[STK_USER_LIMIT_FILES];
    uint64_t values[STK_USER_LIMIT_FILES];
    size_t count;
};

/* pid 1, with CLONE_NEWUSER only, before the mounts. Async-signal-safe. Step "user_limits". */
int stk_user_limits_open(const struct stk_spec *spec, struct stk_user_limit_files *files,
                         struct stk_error *err);

/* pid 1, after the mounts, while it still holds CAP_SYS_RESOURCE in its namespace (before the
 * id change): writes every value and reads it back, then closes the files. Async-signal-safe.
 * Step "user_limits". */
int stk_user_limits_write(struct stk_user_limit_files *files, struct stk_error *err);

/* Closes what stk_user_limits_open opened (on a failure in between). */
void stk_user_limits_close(struct stk_user_limit_files *files);

#endif
