/* What a process started from the calling thread inherits that a thread of this JVM may change
 * after the helper zygote started (HelperZygote serves each such context from a zygote of its
 * own). Read fresh on every spawn: the state is the thread's, and any thread may change it at
 * any time. NULL, with no exception, when what tells one thread's context from another's could
 * not be read: the caller must then not share a zygote across threads. */
#define _GNU_SOURCE
#include "dev_stockade_internal_NativeBridge.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 32 KiB: a cgroup line per v1 hierarchy and one for v2, each path at most a few hundred bytes
 * in practice, and the whole status file (filtered after it is read); a context that does not
 * fit (thousands of supplementary groups, say) is unknown, never cut. */
#define SPAWN_CONTEXT_CAP 32768

/* The thread's namespaces a child is created in (pid and time: the ones for children). */
static const char *const NAMESPACES[] = {
    "/proc/thread-self/ns/cgroup", "/proc/thread-self/ns/ipc",
    "/proc/thread-self/ns/mnt",    "/proc/thread-self/ns/net",
    "/proc/thread-self/ns/pid_for_children", "/proc/thread-self/ns/time_for_children",
    "/proc/thread-self/ns/user",   "/proc/thread-self/ns/uts",
    "/proc/thread-self/root",      "/proc/thread-self/cwd",
};

/* The LSM labels the thread has and will have at exec (setexeccon, aa_change_onexec). */
static const char *const LSM_FILES[] = {
    "/proc/thread-self/attr/current",
    "/proc/thread-self/attr/exec",
};

/* The lines of /proc/thread-self/status a child inherits: file mode mask, credentials,
 * capability sets, no_new_privs, seccomp mode and filter count, CPU and memory-node affinity,
 * speculation controls. (The signal lines are not: the helper resets every signal.) */
static const char *const STATUS_LINES[] = {
    "Umask:",   "Uid:",    "Gid:",    "Groups:",  "NoNewPrivs:",     "Seccomp:",
    "Seccomp_filters:",    "CapInh:", "CapPrm:",  "CapEff:",         "CapBnd:",
    "CapAmb:",  "Cpus_allowed:",      "Mems_allowed:", "Speculation_Store_Bypass:",
    "SpeculationIndirectBranch:",
};

struct context {
    char *buf;
    size_t len;
    /* False once a read that tells threads apart failed or was cut: with /proc/thread-self
     * unreadable, or past the cap, threads in different namespaces, cgroups or credentials
     * would give equal bytes. */
    bool known;
};

static void append(struct context *c, const char *bytes, size_t n)
{
    size_t room = SPAWN_CONTEXT_CAP - c->len;
    if (n > room) {
        n = room;
        c->known = false;
    }
    memcpy(c->buf + c->len, bytes, n);
    c->len += n;
}

static void append_number(struct context *c, const char *name, long long value)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%s %lld\n", name, value);
    if (n > 0) {
        append(c, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    }
}

/* A call that fails adds its errno instead, so that a change of readability is a change too. */
static void append_result(struct context *c, const char *name, long long value)
{
    append_number(c, name, value < 0 ? -(long long)errno - 1000 : value);
}

/* The whole file, at most what is left of the cap, or its errno. */
static int append_file(struct context *c, const char *path)
{
    size_t before = c->len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    ssize_t n;
    while (fd >= 0) {
        if (c->len == SPAWN_CONTEXT_CAP) {
            c->known = false; /* no room left: the rest of the file, if any, would be cut */
            break;
        }
        n = read(fd, c->buf + c->len, SPAWN_CONTEXT_CAP - c->len);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = errno;
            break;
        }
        c->len += (size_t)n;
    }
    if (fd >= 0) {
        (void)close(fd);
    }
    if (err != 0) {
        c->len = before;
    }
    append_number(c, path, err);
    return err;
}

/* Every link exists on the kernels Stockade runs on (5.12+; time_for_children came in 5.6), so
 * any failure leaves the context unknown: ENOENT is no fact of the machine either, since
 * pid_for_children reads so in a thread that unshared a pid namespace and has no child yet. A
 * target that fills the buffer may have been cut (a long root or working directory). */
static void append_link(struct context *c, const char *path)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target);
    if (n < 0 || (size_t)n == sizeof target) {
        c->known = false;
        append_number(c, path, n < 0 ? errno : ENAMETOOLONG);
        return;
    }
    append(c, path, strlen(path));
    append(c, " ", 1);
    append(c, target, (size_t)n);
    append(c, "\n", 1);
}

/* Keeps only the STATUS_LINES of the status file, which also holds what changes all the time
 * (memory use, context switches). False when the file could not be read. */
static bool append_status(struct context *c)
{
    size_t start = c->len;
    int err = append_file(c, "/proc/thread-self/status");
    size_t end = c->len;
    size_t kept = start;
    size_t line = start;
    while (line < end) {
        char *nl = memchr(c->buf + line, '\n', end - line);
        size_t next = nl == NULL ? end : (size_t)(nl - c->buf) + 1;
        for (size_t i = 0; i < sizeof STATUS_LINES / sizeof STATUS_LINES[0]; i++) {
            size_t prefix = strlen(STATUS_LINES[i]);
            if (next - line > prefix && memcmp(c->buf + line, STATUS_LINES[i], prefix) == 0) {
                memmove(c->buf + kept, c->buf + line, next - line);
                kept += next - line;
                break;
            }
        }
        line = next;
    }
    c->len = kept;
    return err == 0;
}

static void append_limits(struct context *c)
{
    for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
        struct rlimit limit = {0, 0};
        (void)getrlimit(resource, &limit);
        char text[64];
        int n = snprintf(text, sizeof text, "%llu:%llu ", (unsigned long long)limit.rlim_cur,
                         (unsigned long long)limit.rlim_max);
        if (n > 0) {
            append(c, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
        }
    }
    append(c, "\n", 1);
}

/* Scheduling a child inherits: nice value, policy and priority, I/O priority, timer slack. */
static void append_scheduling(struct context *c)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    append_number(c, "nice", errno != 0 ? -1000 - (long long)errno : nice);
    append_result(c, "policy", sched_getscheduler(0));
    struct sched_param param = {0};
    append_result(c, "priority", sched_getparam(0, &param) < 0 ? -1 : param.sched_priority);
    /* IOPRIO_WHO_PROCESS (1) with who 0: the calling thread. */
    append_result(c, "ioprio", syscall(SYS_ioprio_get, 1, 0));
    append_result(c, "timerslack", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
}

JNIEXPORT jbyteArray JNICALL Java_dev_stockade_internal_NativeBridge_spawnContext(JNIEnv *env,
                                                                                   jclass type)
{
    (void)type;
    struct context c = {.buf = malloc(SPAWN_CONTEXT_CAP), .len = 0, .known = true};
    if (c.buf == NULL) {
        stk_throw_errno(env, "malloc", ENOMEM);
        return NULL;
    }
    for (size_t i = 0; i < sizeof NAMESPACES / sizeof NAMESPACES[0]; i++) {
        append_link(&c, NAMESPACES[i]);
    }
    if (append_file(&c, "/proc/thread-self/cgroup") != 0) {
        c.known = false;
    }
    append_file(&c, "/proc/self/oom_score_adj");
    if (!append_status(&c)) {
        c.known = false;
    }
    append_limits(&c);
    append_scheduling(&c);
    append_result(&c, "securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    append_result(&c, "thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    append_result(&c, "personality", personality(0xffffffff));
    for (size_t i = 0; i < sizeof LSM_FILES / sizeof LSM_FILES[0]; i++) {
        append_file(&c, LSM_FILES[i]);
    }
    /* The core-scheduling cookie (SMT isolation), inherited on fork; no number of its own in
     * older headers. */
    unsigned long long cookie = 0;
    append_result(&c, "core_sched",
                  prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, 0, 0, (unsigned long)&cookie));
    append_number(&c, "core_cookie", (long long)cookie);
    /* Memory-deny-write-execute, inherited on fork (PR_GET_MDWE, Linux 6.3). */
    append_result(&c, "mdwe", prctl(66, 0, 0, 0, 0));
    if (!c.known) {
        free(c.buf);
        return NULL;
    }
    jbyteArray result = (*env)->NewByteArray(env, (jsize)c.len);
    if (result != NULL) {
        (*env)->SetByteArrayRegion(env, result, 0, (jsize)c.len, (const jbyte *)c.buf);
    }
    free(c.buf);
    return result;
}
