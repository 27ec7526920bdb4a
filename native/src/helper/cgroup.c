#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup_box.h"
#include "cgroup_files.h"
#include "fd.h"
#include "stockade.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define CG_ROOT "/sys/fs/cgroup"
#define CG_PATH 4096

/* The hint every "no cgroup" error ends with (docs/architecture.md, "Resource limits:
 * cgroups"). */
#define HOW_TO_GET_ONE "run as root, or under systemd-run --user --scope -p Delegate=yes"

/* v1 hierarchy (mount) names and v2 controller names: the same words. */
static const char *const controller_names[STK_CG_COUNT] = {"memory", "pids", "cpu"};

bool stk_cgroup_wanted(const struct stk_spec *spec)
{
    return spec->memory_max != 0 || spec->pids_max != 0 || spec->cpu_quota_us != 0;
}

void stk_cgroup_init(struct stk_cgroup *cg)
{
    memset(cg, 0, sizeof *cg);
    for (int c = 0; c < STK_CG_COUNT; c++) {
        cg->parent_fd[c] = cg->box_fd[c] = cg->leaf_fd[c] = -1;
    }
}

/* The caller's cgroup path: in v1 hierarchy `controller` (a name in the line's comma list), or
 * the v2 line "0::" for NULL. Returns 0 or ENOENT. */
static int own_path(const char *controller, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL) {
        return errno;
    }
    char line[CG_PATH + 128];
    int rc = ENOENT;
    while (rc != 0 && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *first = strchr(line, ':');
        char *second = first == NULL ? NULL : strchr(first + 1, ':');
        if (second == NULL) {
            continue;
        }
        *second = '\0';
        const char *list = first + 1;
        bool match = false;
        if (controller == NULL) {
            match = strncmp(line, "0:", 2) == 0 && list[0] == '\0';
        } else {
            size_t n = strlen(controller);
            for (const char *p = list; p != NULL && !match; p = strchr(p, ',')) {
                p += *p == ',';
                match = strncmp(p, controller, n) == 0 && (p[n] == ',' || p[n] == '\0');
            }
        }
        if (match && (size_t)snprintf(out, len, "%s", second + 1) < len) {
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

static int write_limit(int dir_fd, const char *file, const char *text, struct stk_error *err)
{
    if (stk_cg_write_text(dir_fd, file, text) < 0) {
        stk_fail_on(err, STK_STEP_CGROUP, errno, "write", file);
        stk_error_append(err, " = ");
        stk_error_append(err, text);
        return -1;
    }
    return 0;
}

/* ---- finding the parents ---- */

static bool is_fs(const char *path, long magic)
{
    struct statfs st;
    return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

static int fail_path(struct stk_error *err, int e, const char *what, const char *path)
{
    stk_fail(err, STK_STEP_CGROUP, e, what);
    stk_error_append(err, " (" HOW_TO_GET_ONE "): ");
    stk_error_append(err, path);
    return -1;
}

/* v1: the caller's own group in the hierarchy. */
static int open_v1_parent(int c, struct stk_cgroup *cg, char *where, size_t where_len,
                          struct stk_error *err)
{
    char rel[CG_PATH], path[CG_PATH];
    snprintf(path, sizeof path, CG_ROOT "/%s", controller_names[c]);
    if (!is_fs(path, CGROUP_SUPER_MAGIC)) {
        return fail_path(err, ENOENT, "no cgroup v1 hierarchy mounted", path);
    }
    int e = own_path(controller_names[c], rel, sizeof rel);
    if (e != 0) {
        return fail_path(err, e, "the caller has no cgroup in the hierarchy", path);
    }
    if ((size_t)snprintf(path, sizeof path, CG_ROOT "/%s%s", controller_names[c],
                         strcmp(rel, "/") == 0 ? "" : rel) >= sizeof path) {
        return fail_path(err, ENAMETOOLONG, "cgroup path too long", rel);
    }
    cg->parent_fd[c] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->parent_fd[c] < 0) {
        return fail_path(err, errno, "opening the caller's cgroup", path);
    }
    if (where != NULL) {
        snprintf(where, where_len, "%s", path);
    }
    return 0;
}

/* v2: controllers a child of dir can have, enabled in its cgroup.subtree_control where missing
 * if may_write (else ENOTSUP). Returns 0 or the errno of the write that failed (EBUSY: dir holds
 * processes; ENOENT: a controller is not available; EACCES: not ours). */
static int enable_controllers(int dir_fd, const bool used[STK_CG_COUNT], bool may_write)
{
    char have[512];
    if (stk_cg_read_small(dir_fd, "cgroup.subtree_control", have, sizeof have) < 0) {
        return errno;
    }
    for (int c = 0; c < STK_CG_COUNT; c++) {
        char word[16];
        snprintf(word, sizeof word, "%s", controller_names[c]);
        bool present = false;
        for (char *p = strstr(have, word); p != NULL && !present; p = strstr(p + 1, word)) {
            size_t n = strlen(word);
            present = (p == have || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0');
        }
        if (!used[c] || present) {
            continue;
        }
        if (!may_write) {
            return ENOTSUP;
        }
        char plus[20];
        snprintf(plus, sizeof plus, "+%s", controller_names[c]);
        if (stk_cg_write_text(dir_fd, "cgroup.subtree_control", plus) < 0) {
            return errno;
        }
    }
    return 0;
}

/* The first of the limits a v2 cgroup sets on what is below it, in *which; false when it sets
 * none (each file "max", or absent where the controller is not enabled). A box placed beside
 * the caller, above such a cgroup, would escape that limit. */
static bool sets_own_limit(int dir_fd, const char **which)
{
    static const char *const files[] = {"memory.max", "memory.high", "memory.swap.max",
                                        "pids.max", "cpu.max"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char value[64];
        if (stk_cg_read_small(dir_fd, files[i], value, sizeof value) > 0 &&
            strncmp(value, "max", 3) != 0) {
            *which = files[i];
            return true;
        }
    }
    return false;
}

/* v2: the caller's cgroup, or, where it holds processes (the JVM itself: a cgroup with
 * processes cannot give controllers to children), the nearest ancestor that gives them to its
 * children already and still belongs to the caller (writable: inside its delegation), and only
 * while no cgroup between it and the caller limits the caller: a box there is then under
 * exactly the limits the caller is under (all of them sit above the ancestor), so a sandbox
 * never escapes a bound its caller's unit set (a service's MemoryMax, a scope's TasksMax).
 * Only the caller's own cgroup may get controllers enabled: in an ancestor that would change
 * what every sibling group gets, which is not the sandbox's to decide. */
static int open_v2_parent(struct stk_cgroup *cg, char *where, size_t where_len,
                          struct stk_error *err)
{
    char rel[CG_PATH], path[CG_PATH];
    int e = own_path(NULL, rel, sizeof rel);
    if (e != 0) {
        return fail_path(err, e, "no cgroup v2 line in /proc/self/cgroup", CG_ROOT);
    }
    if ((size_t)snprintf(path, sizeof path, CG_ROOT "%s", strcmp(rel, "/") == 0 ? "" : rel) >=
        sizeof path) {
        return fail_path(err, ENAMETOOLONG, "cgroup path too long", rel);
    }
    int first_error = 0;
    for (bool own = true;; own = false) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        e = fd < 0 ? errno : enable_controllers(fd, cg->used, own);
        if (e == 0) {
            cg->parent_fd[0] = fd;
            if (where != NULL) {
                snprintf(where, where_len, "%s", path);
            }
            return 0;
        }
        if (fd >= 0) {
            close(fd);
        }
        if (first_error == 0) {
            first_error = e;
        }
        const char *limit = NULL;
        int level = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool limited = level >= 0 && sets_own_limit(level, &limit);
        if (level >= 0) {
            close(level);
        }
        if (limited) {
            stk_fail(err, STK_STEP_CGROUP, first_error,
                     "cgroup v2: the caller's cgroup holds processes, and a box beside it would"
                     " escape the limit ");
            stk_error_append(err, limit);
            stk_error_append(err, " of ");
            stk_error_append(err, path);
            stk_error_append(err, " (start the JVM in a delegated cgroup without limits of its"
                                  " own, e.g. a systemd-run --user --scope -p Delegate=yes inside the"
                                  " limited unit)");
            return -1;
        }
        char *slash = strrchr(path, '/');
        if (slash == NULL || strcmp(path, CG_ROOT) == 0 || (size_t)(slash - path) < strlen(CG_ROOT)) {
            break;
        }
        *slash = '\0';
        if (access(path, W_OK | X_OK) < 0) {
            break; /* the delegation ends here */
        }
    }
    return fail_path(err, first_error,
                     first_error == EBUSY ? "cgroup v2: the caller's cgroup holds processes and no"
                                            " writable ancestor gives memory, pids and cpu to a child"
                                          : "cgroup v2: no cgroup of the caller gives memory, pids"
                                            " and cpu to a child",
                     rel);
}

/* The leaf's host path: parent + box + leaf. */
static int record_paths(struct stk_cgroup *cg, int slot, const char *parent, struct stk_error *err)
{
    size_t room = sizeof cg->leaf_path[slot];
    if ((size_t)snprintf(cg->leaf_path[slot], room, "%s/%s/" STK_CG_LEAF, parent, cg->name) >= room) {
        return fail_path(err, ENAMETOOLONG, "cgroup path too long", parent);
    }
    return 0;
}

/* v1: the entries of the view (cgroup.h). A hierarchy mounted together with one listed before
 * (cpu,cpuacct) is one mount, listed once; a hierarchy that is not mounted is left out. */
static void plan_view(struct stk_cgroup *cg)
{
    static const char *const names[STK_CG_VIEW_MAX] = {"memory", "pids", "cpu", "cpuset",
                                                       "cpuacct"};
    dev_t seen[STK_CG_VIEW_MAX];
    cg->view_count = 0;
    for (int i = 0; i < STK_CG_VIEW_MAX && cg->version == 1; i++) {
        struct stk_cgroup_view_entry *e = &cg->view[cg->view_count];
        char mount_point[40], rel[CG_PATH];
        struct stat st;
        snprintf(mount_point, sizeof mount_point, CG_ROOT "/%s", names[i]);
        if (!is_fs(mount_point, CGROUP_SUPER_MAGIC) || stat(mount_point, &st) < 0) {
            continue;
        }
        bool duplicate = false;
        for (size_t j = 0; j < cg->view_count; j++) {
            duplicate = duplicate || seen[j] == st.st_dev;
        }
        if (duplicate) {
            continue;
        }
        if (i < STK_CG_COUNT && cg->box_fd[i] >= 0) {
            snprintf(e->host, sizeof e->host, "%s", cg->leaf_path[i]);
        } else if (own_path(names[i], rel, sizeof rel) != 0 ||
                   (size_t)snprintf(e->host, sizeof e->host, "%s%s", mount_point,
                                    strcmp(rel, "/") == 0 ? "" : rel) >= sizeof e->host) {
            continue;
        }
        snprintf(e->dst, sizeof e->dst, "%s", mount_point);
        seen[cg->view_count++] = st.st_dev;
    }
}

static int make_box(struct stk_cgroup *cg, int slot, struct stk_error *err)
{
    if (mkdirat(cg->parent_fd[slot], cg->name, 0755) < 0) {
        int e = errno;
        stk_fail(err, STK_STEP_CGROUP, e, "no cgroup can be made for the sandbox ("
                 HOW_TO_GET_ONE "): mkdir in the caller's ");
        stk_error_append(err, cg->version == 2 ? "v2" : controller_names[slot]);
        stk_error_append(err, " cgroup: ");
        stk_error_append(err, strerror(e));
        return -1;
    }
    cg->box_fd[slot] = openat(cg->parent_fd[slot], cg->name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cg->box_fd[slot] < 0) {
        return stk_fail_on(err, STK_STEP_CGROUP, errno, "open", cg->name);
    }
    if (mkdirat(cg->box_fd[slot], STK_CG_LEAF, 0755) < 0) {
        return stk_fail_on(err, STK_STEP_CGROUP, errno, "mkdir", STK_CG_LEAF);
    }
    cg->leaf_fd[slot] = openat(cg->box_fd[slot], STK_CG_LEAF,
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cg->leaf_fd[slot] < 0) {
        return stk_fail_on(err, STK_STEP_CGROUP, errno, "open", STK_CG_LEAF);
    }
    /* v2: the leaf is the box's only descendant. Where the leaf belongs to the sandbox's uid (a
     * delegated tree), a step that mounts cgroup2 in a namespace of its own could otherwise make
     * cgroups below it, which would outlive the sandbox. */
    if (cg->version == 2 && write_limit(cg->box_fd[slot], "cgroup.max.descendants", "1", err) < 0) {
        return -1;
    }
    return 0;
}

/* Finds the parents (removing stale boxes there) and makes the boxes of cg->used. */
static int make_boxes(struct stk_cgroup *cg, char *where, size_t where_len, struct stk_error *err)
{
    int e = stk_cg_box_name(cg->name, sizeof cg->name);
    if (e != 0) {
        return stk_fail(err, STK_STEP_CGROUP, e, "reading the monitor's own /proc entry");
    }
    if (is_fs(CG_ROOT, CGROUP2_SUPER_MAGIC)) {
        cg->version = 2;
        char parent[CG_PATH];
        if (open_v2_parent(cg, parent, sizeof parent, err) < 0 ||
            record_paths(cg, 0, parent, err) < 0) {
            return -1;
        }
        if (where != NULL) {
            snprintf(where, where_len, "%s", parent);
        }
        stk_cg_remove_stale(2, cg->parent_fd[0]);
        return make_box(cg, 0, err);
    }
    if (!is_fs(CG_ROOT, TMPFS_MAGIC)) {
        return fail_path(err, ENOENT, "no cgroup file system", CG_ROOT);
    }
    cg->version = 1;
    for (int c = 0; c < STK_CG_COUNT; c++) {
        if (!cg->used[c]) {
            continue;
        }
        char parent[CG_PATH];
        if (open_v1_parent(c, cg, parent, sizeof parent, err) < 0 ||
            record_paths(cg, c, parent, err) < 0) {
            return -1;
        }
        if (where != NULL && c == 0) {
            snprintf(where, where_len, "%s", parent);
        }
        stk_cg_remove_stale(1, cg->parent_fd[c]);
        if (make_box(cg, c, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- limits ---- */

/* Whether any swap device or file is active (/proc/swaps lists more than its header). */
static bool host_has_swap(void)
{
    char buf[512];
    int fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true; /* unknown: assume the worst */
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return n < 0;
    }
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    return nl != NULL && nl[1] != '\0';
}

static int box_of(const struct stk_cgroup *cg, int c)
{
    return cg->version == 2 ? (cg->used[c] ? cg->box_fd[0] : -1) : cg->box_fd[c];
}

static int leaf_of(const struct stk_cgroup *cg, int c)
{
    return cg->version == 2 ? (cg->used[c] ? cg->leaf_fd[0] : -1) : cg->leaf_fd[c];
}

static void decimal(char out[24], uint64_t v)
{
    stk_format_u64(out, v);
}

/* Swap is bounded, or known not to exist: the limit would otherwise be memory plus all of
 * swap. */
static int swap_unbounded(struct stk_error *err, const char *file)
{
    if (!host_has_swap()) {
        return 0;
    }
    return stk_fail_on(err, STK_STEP_CGROUP, EOPNOTSUPP,
                       "the host has swap and the kernel does not account it (no file):", file);
}

static int write_memory_limits(const struct stk_spec *spec, int dir, int version,
                               struct stk_error *err)
{
    char text[24];
    uint64_t swap = spec->has_memory_swap_max ? spec->memory_swap_max : 0;
    if (version == 2) {
        decimal(text, spec->memory_max);
        if (write_limit(dir, "memory.max", text, err) < 0) {
            return -1;
        }
        if (!stk_cg_has_file(dir, "memory.swap.max")) {
            return swap_unbounded(err, "memory.swap.max");
        }
        decimal(text, swap);
        return write_limit(dir, "memory.swap.max", text, err);
    }
    decimal(text, spec->memory_max);
    if (write_limit(dir, "memory.limit_in_bytes", text, err) < 0) {
        return -1;
    }
    /* memsw bounds memory plus swap together, and must not be below limit_in_bytes. */
    if (!stk_cg_has_file(dir, "memory.memsw.limit_in_bytes")) {
        return swap_unbounded(err, "memory.memsw.limit_in_bytes");
    }
    decimal(text, spec->memory_max + swap);
    if (write_limit(dir, "memory.memsw.limit_in_bytes", text, err) < 0) {
        return -1;
    }
    /* v1 charges TCP socket buffers to a group only once its kmem.tcp limit is set (v2 charges
     * them to memory.max by default): without it a step queues gigabytes on loopback
     * connections, up to the host's whole tcp_mem, starving every TCP socket on the host. The
     * same bound as memory, a budget of its own. (UDP buffers are never charged on v1.) */
    decimal(text, spec->memory_max);
    if (stk_cg_has_file(dir, "memory.kmem.tcp.limit_in_bytes") &&
        write_limit(dir, "memory.kmem.tcp.limit_in_bytes", text, err) < 0) {
        return -1;
    }
    return 0;
}

static int write_cpu_limits(const struct stk_spec *spec, int dir, int version,
                            struct stk_error *err)
{
    char quota[24], period[24];
    decimal(quota, spec->cpu_quota_us);
    decimal(period, spec->cpu_period_us);
    if (version == 2) {
        char text[56];
        snprintf(text, sizeof text, "%s %s", quota, period);
        return write_limit(dir, "cpu.max", text, err);
    }
    /* The period first: the kernel checks the quota against it. */
    if (write_limit(dir, "cpu.cfs_period_us", period, err) < 0) {
        return -1;
    }
    return write_limit(dir, "cpu.cfs_quota_us", quota, err);
}

/* dir_of: box_of or leaf_of. */
static int write_limits(const struct stk_spec *spec, const struct stk_cgroup *cg,
                        int (*dir_of)(const struct stk_cgroup *, int), struct stk_error *err)
{
    if (spec->memory_max != 0 &&
        write_memory_limits(spec, dir_of(cg, STK_CG_MEMORY), cg->version, err) < 0) {
        return -1;
    }
    if (spec->pids_max != 0) {
        char text[24];
        decimal(text, spec->pids_max);
        if (write_limit(dir_of(cg, STK_CG_PIDS), "pids.max", text, err) < 0) {
            return -1;
        }
    }
    if (spec->cpu_quota_us != 0 &&
        write_cpu_limits(spec, dir_of(cg, STK_CG_CPU), cg->version, err) < 0) {
        return -1;
    }
    return 0;
}

int stk_cgroup_create_in_monitor(const struct stk_spec *spec, struct stk_cgroup *cg,
                                 struct stk_error *err)
{
    cg->used[STK_CG_MEMORY] = spec->memory_max != 0;
    cg->used[STK_CG_PIDS] = spec->pids_max != 0;
    cg->used[STK_CG_CPU] = spec->cpu_quota_us != 0;
    if (make_boxes(cg, NULL, 0, err) < 0 || write_limits(spec, cg, box_of, err) < 0) {
        return -1;
    }
    /* The same limits in the leaf, where the sandbox's cgroup namespace shows them (a JVM reads
     * its own cgroup's files only); the box's bind all the same, and the leaf's cannot be
     * raised above them. v2 first gives the leaf the controllers (the box holds no process). */
    if (cg->version == 2) {
        int e = enable_controllers(cg->box_fd[0], cg->used, true);
        if (e != 0) {
            return stk_fail_on(err, STK_STEP_CGROUP, e, "enabling the controllers for the leaf in",
                               cg->name);
        }
    }
    if (write_limits(spec, cg, leaf_of, err) < 0) {
        return -1;
    }
    plan_view(cg);
    return 0;
}

int stk_cgroup_attach_in_monitor(const struct stk_cgroup *cg, pid_t pid1, struct stk_error *err)
{
    char text[24];
    decimal(text, (uint64_t)pid1);
    for (int c = 0; c < STK_CG_COUNT; c++) {
        if (cg->leaf_fd[c] >= 0 && stk_cg_write_text(cg->leaf_fd[c], "cgroup.procs", text) < 0) {
            stk_fail_on(err, STK_STEP_CGROUP_ATTACH, errno, "write pid 1 to cgroup.procs of",
                        cg->version == 2 ? cg->name : controller_names[c]);
            return -1;
        }
    }
    return 0;
}

/* An event counted in box or leaf: v1 counts oom_kill and a refused fork in the cgroup of the
 * process concerned (the leaf) only, v2 in every ancestor up to the box as well. */
static bool event_seen(const struct stk_cgroup *cg, int c, const char *file, const char *key)
{
    return stk_cg_read_keyed(box_of(cg, c), file, key) > 0 || stk_cg_read_keyed(leaf_of(cg, c), file, key) > 0;
}

void stk_cgroup_read_in_monitor(const struct stk_cgroup *cg, struct stk_exit_report *x)
{
    if (cg->version == 0) {
        return;
    }
    bool v2 = cg->version == 2;
    /* The box holds every process of the sandbox, and its counters are hierarchical. */
    int memory = box_of(cg, STK_CG_MEMORY);
    if (memory >= 0) {
        x->peak_memory_bytes = stk_cg_read_number(memory, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        if (event_seen(cg, STK_CG_MEMORY, v2 ? "memory.events" : "memory.oom_control",
                       "oom_kill")) {
            x->flags |= STK_EXIT_MEMORY_LIMIT;
        }
    }
    int pids = box_of(cg, STK_CG_PIDS);
    if (pids >= 0) {
        x->peak_processes = stk_cg_read_number(pids, "pids.peak");
        if (event_seen(cg, STK_CG_PIDS, "pids.events", "max")) {
            x->flags |= STK_EXIT_PROCESS_LIMIT;
        }
    }
}

void stk_cgroup_remove_in_monitor(struct stk_cgroup *cg)
{
    for (int c = 0; c < STK_CG_COUNT; c++) {
        if (cg->box_fd[c] >= 0) {
            (void)stk_cg_remove_box(cg->version, cg->parent_fd[c], cg->name, cg->box_fd[c],
                             cg->leaf_fd[c]);
        }
        if (cg->leaf_fd[c] >= 0) {
            close(cg->leaf_fd[c]);
        }
        if (cg->box_fd[c] >= 0) {
            close(cg->box_fd[c]);
        }
        if (cg->parent_fd[c] >= 0) {
            close(cg->parent_fd[c]);
        }
        cg->parent_fd[c] = cg->box_fd[c] = cg->leaf_fd[c] = -1;
    }
}

void stk_cgroup_close_in_pid1(struct stk_cgroup *cg)
{
    for (int c = 0; c < STK_CG_COUNT; c++) {
        stk_close_fd(&cg->parent_fd[c]);
        stk_close_fd(&cg->box_fd[c]);
        stk_close_fd(&cg->leaf_fd[c]);
    }
}

int stk_cgroup_enter_namespace_in_pid1(struct stk_error *err)
{
    if (unshare(CLONE_NEWCGROUP) < 0) {
        return stk_fail(err, STK_STEP_CGROUP_NAMESPACE, errno, "unshare(CLONE_NEWCGROUP)");
    }
    return 0;
}

int stk_cgroup_probe(int *version, char *where, size_t where_len, char *why, size_t why_len)
{
    struct stk_cgroup cg;
    stk_cgroup_init(&cg);
    for (int c = 0; c < STK_CG_COUNT; c++) {
        cg.used[c] = true;
    }
    struct stk_error err;
    int rc = 0;
    if (make_boxes(&cg, where, where_len, &err) < 0) {
        rc = err.err != 0 ? err.err : EIO;
        snprintf(why, why_len, "%s", err.detail);
    } else {
        *version = cg.version;
        snprintf(why, why_len, "cgroup v%d: a sandbox's cgroup with memory, pids and cpu can be made",
                 cg.version);
    }
    stk_cgroup_remove_in_monitor(&cg);
    return rc;
}
