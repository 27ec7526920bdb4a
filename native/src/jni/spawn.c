/* Starting the helper (posix_spawn), signalling it and waiting for it through a pidfd. */
#define _GNU_SOURCE
#include "dev_stockade_internal_NativeBridge.h"
#include "errors.h"
#include "java_strings.h"
#include "stockade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The helper's fd layout: stdin, stdout, stderr, control socket, progress page (optional:
 * -1 leaves fd 4 closed). */
#define CHILD_FD_COUNT 5

/* P_PIDFD is a glibc enum member only since 2.36 and a kernel macro elsewhere; the value is
 * the kernel ABI. */
#define STK_P_PIDFD ((idtype_t)3)

struct spawn_error {
    const char *call;
    int err;
};

static int fail(struct spawn_error *error, const char *call, int err)
{
    error->call = call;
    error->err = err;
    return -1;
}

/*
 * The dup2 file actions run in order in the child, so a source below CHILD_FD_COUNT could be
 * overwritten by an earlier dup2 before its own turn (say stdout's source is fd 0). A source
 * already equal to its target would also need glibc's special case to drop O_CLOEXEC. Copying
 * every low source above the layout first (close-on-exec, so the copies vanish at exec) makes
 * every dup2 a plain copy from a high fd, with neither problem.
 */
static int lift_low_sources(const int requested[CHILD_FD_COUNT], int sources[CHILD_FD_COUNT],
                            int copies[CHILD_FD_COUNT], struct spawn_error *error)
{
    for (int i = 0; i < CHILD_FD_COUNT; i++) {
        copies[i] = -1;
    }
    for (int i = 0; i < CHILD_FD_COUNT; i++) {
        sources[i] = requested[i];
        if (requested[i] < 0 || requested[i] >= CHILD_FD_COUNT) {
            continue;
        }
        copies[i] = fcntl(requested[i], F_DUPFD_CLOEXEC, CHILD_FD_COUNT);
        if (copies[i] < 0) {
            return fail(error, "fcntl(F_DUPFD_CLOEXEC)", errno);
        }
        sources[i] = copies[i];
    }
    return 0;
}

static void close_copies(const int copies[CHILD_FD_COUNT])
{
    for (int i = 0; i < CHILD_FD_COUNT; i++) {
        if (copies[i] >= 0) {
            (void)close(copies[i]);
        }
    }
}

/*
 * Every signal, glibc's two internal ones (32 and 33) included. sigfillset leaves those out
 * and sigaddset refuses them, yet glibc's posix_spawn sets any signal missing from the
 * "set to default" set to SIG_IGN in the child when it is one of its internal ones, and an
 * ignored signal stays ignored across exec. sigset_t is a plain bit array on Linux, so a set
 * with every bit on is the complete set.
 */
static void fill_every_signal(sigset_t *set)
{
    memset(set, 0xff, sizeof *set);
}

/* The JVM blocks and handles signals for its own use; the helper must start from a clean
 * slate or it could, for example, never see the SIGTERM it is meant to forward. */
static int prepare_attributes(posix_spawnattr_t *attributes, struct spawn_error *error)
{
    sigset_t empty;
    sigset_t all;
    int rc = posix_spawnattr_init(attributes);
    if (rc != 0) {
        return fail(error, "posix_spawnattr_init", rc);
    }
    (void)sigemptyset(&empty);
    fill_every_signal(&all);
    if ((rc = posix_spawnattr_setsigmask(attributes, &empty)) != 0) {
        (void)posix_spawnattr_destroy(attributes);
        return fail(error, "posix_spawnattr_setsigmask", rc);
    }
    if ((rc = posix_spawnattr_setsigdefault(attributes, &all)) != 0) {
        (void)posix_spawnattr_destroy(attributes);
        return fail(error, "posix_spawnattr_setsigdefault", rc);
    }
    if ((rc = posix_spawnattr_setflags(attributes,
                                       POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0) {
        (void)posix_spawnattr_destroy(attributes);
        return fail(error, "posix_spawnattr_setflags", rc);
    }
    return 0;
}

/* dup2 onto 0..3 clears O_CLOEXEC on the targets; everything else the JVM holds is
 * close-on-exec (the JDK opens its own files that way, and so does this library). */
static int prepare_file_actions(posix_spawn_file_actions_t *actions,
                                const int sources[CHILD_FD_COUNT], struct spawn_error *error)
{
    int rc = posix_spawn_file_actions_init(actions);
    if (rc != 0) {
        return fail(error, "posix_spawn_file_actions_init", rc);
    }
    for (int target = 0; target < CHILD_FD_COUNT; target++) {
        if (target == STK_PROGRESS_FD && sources[target] < 0) {
            continue; /* no progress page */
        }
        rc = posix_spawn_file_actions_adddup2(actions, sources[target], target);
        if (rc != 0) {
            (void)posix_spawn_file_actions_destroy(actions);
            return fail(error, "posix_spawn_file_actions_adddup2", rc);
        }
    }
    return 0;
}

static int start_helper(const char *path, char *const argv[], const int sources[CHILD_FD_COUNT],
                        pid_t *pid, struct spawn_error *error)
{
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    char *empty_environment[] = {NULL};
    if (prepare_attributes(&attributes, error) != 0) {
        return -1;
    }
    if (prepare_file_actions(&actions, sources, error) != 0) {
        (void)posix_spawnattr_destroy(&attributes);
        return -1;
    }
    /* glibc runs the child on a separate stack with CLONE_VFORK and reports exec failures
     * back as the return value, so nothing of ours runs between clone and exec. */
    int rc = posix_spawn(pid, path, &actions, &attributes, argv, empty_environment);
    (void)posix_spawn_file_actions_destroy(&actions);
    (void)posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        return fail(error, "posix_spawn", rc);
    }
    return 0;
}

/* Without a pidfd the Java side could neither wait for the helper nor signal it safely, so a
 * helper we cannot get one for is killed and reaped rather than left running. The pid cannot
 * have been reused: it stays ours until we reap it. */
static int open_pidfd(pid_t pid, int *pidfd, struct spawn_error *error)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        int err = errno;
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return fail(error, "pidfd_open", err);
    }
    *pidfd = (int)fd;
    return 0;
}

JNIEXPORT jintArray JNICALL Java_dev_stockade_internal_NativeBridge_spawn(
    JNIEnv *env, jclass type, jstring helper_path, jobjectArray argv, jint stdin_fd,
    jint stdout_fd, jint stderr_fd, jint control_fd, jint progress_fd)
{
    (void)type;
    jintArray result = NULL;
    char *path = NULL;
    char **args = NULL;
    int copies[CHILD_FD_COUNT] = {-1, -1, -1, -1, -1};
    const int requested[CHILD_FD_COUNT] = {stdin_fd, stdout_fd, stderr_fd, control_fd,
                                           progress_fd};
    int sources[CHILD_FD_COUNT];
    struct spawn_error error = {NULL, 0};
    pid_t pid = -1;
    int pidfd = -1;

    if ((path = stk_utf8(env, helper_path, "helperPath")) == NULL) {
        goto out;
    }
    if ((args = stk_utf8_array(env, argv, "argv")) == NULL) {
        goto out;
    }
    if (args[0] == NULL) {
        stk_throw_illegal_argument(env, "spawn: argv must hold at least the program name");
        goto out;
    }
    if (lift_low_sources(requested, sources, copies, &error) != 0 ||
        start_helper(path, args, sources, &pid, &error) != 0 ||
        open_pidfd(pid, &pidfd, &error) != 0) {
        stk_throw_errno_detail(env, error.call, error.err, path);
        goto out;
    }
    result = (*env)->NewIntArray(env, 2);
    if (result == NULL) {
        /* Java cannot hold the helper, so nobody would ever reap it. */
        (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        (void)close(pidfd);
        goto out;
    }
    jint values[2] = {pid, pidfd};
    (*env)->SetIntArrayRegion(env, result, 0, 2, values);
out:
    close_copies(copies);
    stk_free_utf8_array(args);
    free(path);
    return result;
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_sendSignal(JNIEnv *env, jclass type,
                                                                           jint pidfd, jint signal)
{
    (void)type;
    if (syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0) != 0 && errno != ESRCH) {
        stk_throw_errno(env, "pidfd_send_signal", errno);
    }
}

/* waitid reports the status split up; Java gets the classic waitpid encoding so the usual
 * WIFEXITED/WEXITSTATUS/WTERMSIG arithmetic applies. */
static jint wait_status(const siginfo_t *info)
{
    switch (info->si_code) {
    case CLD_EXITED:
        return (info->si_status & 0xff) << 8;
    case CLD_KILLED:
        return info->si_status & 0x7f;
    case CLD_DUMPED:
        return (info->si_status & 0x7f) | 0x80;
    default:
        /* Only WEXITED is requested, so stop/continue reports cannot arrive. */
        return -1;
    }
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_waitFor(JNIEnv *env, jclass type,
                                                                        jint pidfd)
{
    (void)type;
    siginfo_t info;
    int rc;
    do {
        memset(&info, 0, sizeof info);
        rc = waitid(STK_P_PIDFD, (id_t)pidfd, &info, WEXITED);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        stk_throw_errno(env, "waitid", errno);
        return -1;
    }
    jint status = wait_status(&info);
    if (status < 0) {
        char detail[64];
        (void)snprintf(detail, sizeof detail, "unexpected si_code %d", info.si_code);
        stk_throw_errno_detail(env, "waitid", EPROTO, detail);
    }
    return status;
}
