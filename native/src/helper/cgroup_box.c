/*
 * Who owns a box, and ending one: the box's name says which monitor made it (its pid
 * namespace, pid and start time), so a stale one is told from a live one; what is still inside
 * is killed without ever signalling a pid number that may have been reused. Monitor only.
 */
#include "cgroup_box.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_files.h"

/* The most members killed in one pass; a fork bomb's survivors are bounded by pids.max and
 * further passes follow until the leaf can be removed. */
#define KILL_BATCH 1024
/* How long removal waits for killed processes to leave (attempts of 1 ms). */
#define REMOVE_ATTEMPTS 3000

/* Field 22 of /proc/PID/stat (clock ticks since boot): with the pid it names one process for
 * the life of the system. Returns 0 or an errno (ENOENT: no such process). */
static int start_time(pid_t pid, unsigned long long *out)
{
    char path[48], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int saved = errno;
    close(fd);
    if (n <= 0) {
        return n < 0 ? saved : EIO;
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name in parentheses may hold anything */
    if (p == NULL) {
        return EIO;
    }
    /* After ") ": state is field 3; the start time 19 fields later. */
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ') {
            p++;
        }
        if (field == 22) {
            char *end = NULL;
            *out = strtoull(p, &end, 10);
            return end == p ? EIO : 0;
        }
        p = strchr(p, ' ');
        if (p == NULL) {
            return EIO;
        }
    }
    return EIO;
}

static int pid_namespace(unsigned long long *out)
{
    struct stat st;
    if (stat("/proc/self/ns/pid", &st) < 0) {
        return errno;
    }
    *out = (unsigned long long)st.st_ino;
    return 0;
}

int stk_cg_box_name(char *name, size_t len)
{
    unsigned long long ns = 0, start = 0;
    int rc = pid_namespace(&ns);
    if (rc == 0) {
        rc = start_time(getpid(), &start);
    }
    if (rc == 0) {
        snprintf(name, len, STK_CG_BOX_PREFIX "%llu-%d-%llu", ns, (int)getpid(), start);
    }
    return rc;
}

/* A box whose monitor is gone: same pid namespace as ours (another namespace's pids mean
 * nothing here, so its boxes are never touched), and no process with that pid and start time.
 * Any doubt (an unreadable /proc entry) counts as alive. */
static bool box_is_stale(const char *entry, unsigned long long own_ns)
{
    unsigned long long ns = 0, start = 0;
    int pid = 0, used = 0;
    if (sscanf(entry, STK_CG_BOX_PREFIX "%llu-%d-%llu%n", &ns, &pid, &start, &used) != 3 ||
        entry[used] != '\0' || ns != own_ns || pid <= 0) {
        return false;
    }
    unsigned long long now = 0;
    int rc = start_time(pid, &now);
    return rc == ENOENT || rc == ESRCH || (rc == 0 && now != start);
}

/* pids listed in dir's cgroup.procs, at most max. */
static size_t read_members(int dir_fd, pid_t *out, size_t max)
{
    static char buf[KILL_BATCH * 12];
    if (stk_cg_read_small(dir_fd, "cgroup.procs", buf, sizeof buf) <= 0) {
        return 0;
    }
    size_t count = 0;
    for (char *p = buf; *p != '\0' && count < max;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        if (v > 0) {
            out[count++] = (pid_t)v;
        }
        p = end;
        while (*p == '\n') {
            p++;
        }
    }
    return count;
}

static bool listed(const pid_t *pids, size_t count, pid_t pid)
{
    for (size_t i = 0; i < count; i++) {
        if (pids[i] == pid) {
            return true;
        }
    }
    return false;
}

/* SIGKILL to every member of one cgroup, never by bare pid number: each pid is first pinned
 * with a pidfd, then the list is read again; a pidfd whose pid is still listed is that member
 * (had it exited, a process reusing the number inside the same cgroup is a member too), one
 * whose pid is gone is left alone (the number may be someone else's by now). */
static void kill_members(int dir_fd)
{
    static pid_t before[KILL_BATCH], after[KILL_BATCH];
    static int pidfds[KILL_BATCH];
    size_t n = read_members(dir_fd, before, KILL_BATCH);
    for (size_t i = 0; i < n; i++) {
        pidfds[i] = pidfd_open(before[i], 0);
    }
    size_t m = n == 0 ? 0 : read_members(dir_fd, after, KILL_BATCH);
    for (size_t i = 0; i < n; i++) {
        if (pidfds[i] >= 0) {
            if (listed(after, m, before[i])) {
                pidfd_send_signal(pidfds[i], SIGKILL, NULL, 0);
            }
            close(pidfds[i]);
        }
    }
}

/* v2: cgroup.kill ends the whole subtree at once, forks in flight included (Linux 5.14). */
static void kill_tree(int version, int box_fd, int leaf_fd)
{
    if (version == 2 && stk_cg_write_text(box_fd, "cgroup.kill", "1") == 0) {
        return;
    }
    if (leaf_fd >= 0) {
        kill_members(leaf_fd);
    }
    kill_members(box_fd);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* A listing of dir_fd's entries on a descriptor of its own (closedir closes that one, never
 * dir_fd, which the caller keeps using for the *at calls); NULL when it cannot be had. */
static DIR *open_listing(int dir_fd)
{
    int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (dir == NULL && dup_fd >= 0) {
        close(dup_fd);
    }
    return dir;
}

/* cgroups below the leaf (a step that could make some: v1 delegated to the caller's uid; v2
 * forbids them, cgroup.c) are removed first, deepest first, down to a bounded depth. */
#define MAX_DEPTH 16

static void remove_children(int dir_fd, int depth)
{
    DIR *dir = open_listing(dir_fd);
    if (dir == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        int child = openat(dir_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0) {
            if (depth < MAX_DEPTH) {
                remove_children(child, depth + 1);
            }
            kill_members(child);
            close(child);
        }
        (void)unlinkat(dir_fd, e->d_name, AT_REMOVEDIR);
    }
    closedir(dir);
}

/* Kills the box's processes and removes leaf and box; a cgroup with a process cannot be
 * removed (EBUSY), so killed ones are waited for. Returns 0 or the errno. */
int stk_cg_remove_box(int version, int parent_fd, const char *name, int box_fd, int leaf_fd)
{
    int e = 0;
    for (int attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
        kill_tree(version, box_fd, leaf_fd);
        if (leaf_fd >= 0) {
            remove_children(leaf_fd, 0);
        }
        e = 0;
        if (unlinkat(box_fd, STK_CG_LEAF, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            e = errno;
        } else if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            e = errno;
        }
        if (e != EBUSY) {
            return e;
        }
        sleep_ms(1);
    }
    return e;
}

/* Boxes of dead sandboxes under one parent: a SIGKILLed helper, or a JVM killed while its
 * sandboxes ran, left them (and, without a pid namespace, maybe processes in them). */
void stk_cg_remove_stale(int version, int parent_fd)
{
    unsigned long long own_ns = 0;
    if (pid_namespace(&own_ns) != 0) {
        return;
    }
    DIR *dir = open_listing(parent_fd);
    if (dir == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, STK_CG_BOX_PREFIX, strlen(STK_CG_BOX_PREFIX)) != 0 ||
            !box_is_stale(e->d_name, own_ns)) {
            continue;
        }
        int box = openat(parent_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (box < 0) {
            continue; /* another monitor removed it first */
        }
        int leaf = openat(box, STK_CG_LEAF, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        (void)stk_cg_remove_box(version, parent_fd, e->d_name, box, leaf);
        if (leaf >= 0) {
            close(leaf);
        }
        close(box);
    }
    closedir(dir);
}

