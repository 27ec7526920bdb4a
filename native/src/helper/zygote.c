/*
 * The zygote is started by the JVM like any helper (posix_spawn of the verified executable) and
 * only ever forks. Each child is a helper in run mode as if the JVM had spawned it: the fds it
 * was sent laid out as 0-4, and from there the same code (run.c), which sweeps every other fd
 * and resets every signal, as after an exec.
 *
 * The child is the JVM's, not the zygote's (CLONE_PARENT): the JVM waits for it and signals it
 * through its pidfd exactly as for a spawned helper, and the zygote never has a child to reap.
 * Its parent thread is the JVM thread that started the zygote; nothing here or in the helper
 * uses PR_SET_PDEATHSIG towards the JVM (design rule 6: the control socket is the tie), so that
 * thread's end changes nothing.
 *
 * Every helper forked here shares the zygote's address-space layout and stack canary, where a
 * spawned helper had its own; docs/design.md ("A helper zygote") says why that is accepted.
 */
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "fd.h"
#include "frame.h"
#include "run.h"
#include "stockade.h"

#define ZYGOTE_FD STK_CONTROL_FD

struct fork_request {
    int fds[STK_RECV_MAX_FDS];
    size_t count;
    bool truncated;
};

static void close_request(struct fork_request *r)
{
    for (size_t i = 0; i < r->count; i++) {
        stk_close_fd(&r->fds[i]);
    }
    r->count = 0;
}

/*
 * The zygote is in the JVM's process group, as its helpers must be (a helper relaying the
 * caller's terminal reads it from the foreground group), so ^C, a hang-up or a group-wide
 * SIGTERM reach it too. It must live as long as the JVM does, however the JVM handles those,
 * and ends when the JVM's end of its socket closes. Each child resets every disposition.
 */
static void ignore_group_signals(void)
{
    static const int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
                                  SIGPIPE};
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        (void)sigaction(ignored[i], &ignore, NULL);
    }
}

/* 1 with a well-formed request, 0 at EOF, -1 on a socket error (errno) or a malformed request
 * (errno EPROTO; the fds that came are closed). */
static int receive_request(struct fork_request *r)
{
    uint8_t header[STK_FRAME_HEADER_SIZE];
    size_t have = 0;
    r->count = 0;
    r->truncated = false;
    while (have < sizeof header) {
        ssize_t n = stk_recv_with_fds(ZYGOTE_FD, header + have, sizeof header - have, 0, r->fds,
                                      STK_RECV_MAX_FDS, &r->count, &r->truncated);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int saved = n < 0 ? errno : EPROTO;
            close_request(r);
            if (n == 0 && have == 0) {
                return 0;
            }
            errno = saved;
            return -1;
        }
        have += (size_t)n;
    }
    if (stk_get_u32(header) != STK_MSG_FORK || stk_get_u32(header + 4) != 0 || r->truncated ||
        r->count < STK_FORK_MIN_FDS || r->count > STK_FORK_MAX_FDS) {
        close_request(r);
        errno = EPROTO;
        return -1;
    }
    return 1;
}

/*
 * Moves the received fds to their places in the helper's layout (0 stdin ... 4 the progress
 * page). Every one below the layout's end is first copied above it, so that no dup2 overwrites
 * a source that has yet to be placed; the copies and the originals go in the helper's sweep.
 */
static int lay_out(struct fork_request *r)
{
    const int end = (int)STK_FORK_MAX_FDS;
    int sources[STK_FORK_MAX_FDS];
    for (size_t i = 0; i < r->count; i++) {
        sources[i] = r->fds[i];
        if (sources[i] < end) {
            sources[i] = fcntl(r->fds[i], F_DUPFD_CLOEXEC, end);
            if (sources[i] < 0) {
                return -1;
            }
        }
    }
    for (size_t i = 0; i < r->count; i++) {
        if (dup2(sources[i], (int)i) < 0) {
            return -1;
        }
    }
    if (r->count < STK_FORK_MAX_FDS) {
        (void)close(STK_PROGRESS_FD); /* no progress page: fd 4 may hold a received original */
    }
    return 0;
}

/* In the child: becomes the helper the JVM would have spawned. Its command line is the
 * zygote's until it blanks the mode word: ps and /proc/PID/cmdline would call every running
 * helper "stockade-helper zygote". */
static _Noreturn void become_helper(struct fork_request *r, char *mode_word)
{
    (void)prctl(PR_SET_NAME, "stockade-helper", 0, 0, 0);
    memset(mode_word, '\0', strlen(mode_word));
    if (lay_out(r) < 0) {
        /* The control socket is where it came, whatever of the layout is done. */
        struct stk_error err;
        stk_fail(&err, STK_STEP_CLOSE_FDS, errno, "laying out the fds the zygote received");
        stk_send_error(r->fds[STK_CONTROL_FD], &err);
        _exit(err.exit_code);
    }
    _exit(stk_run_helper());
}

/* clone3 rather than fork(): CLONE_PARENT (the JVM's child) and CLONE_PIDFD (a pidfd that
 * cannot name a reused pid) have no glibc wrapper. Where a seccomp filter around the JVM makes
 * clone3 ENOSYS (container runtimes do, so that libc falls back), the same through clone,
 * whose parent_tid argument (the third on every architecture) receives the pidfd. The zygote
 * is single-threaded, so the child may use everything the helper uses, as pid 1's plain clone
 * in monitor.c does. */
static pid_t fork_helper(int *pidfd)
{
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PARENT | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    /* 0, as clone3 requires with CLONE_PARENT: the child gets the zygote's own, SIGCHLD. */
    args.exit_signal = 0;
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | CLONE_PIDFD, 0UL, pidfd, 0UL, 0UL);
    }
    return pid;
}

int stk_zygote_run(char *mode_word)
{
    (void)prctl(PR_SET_NAME, "stockade-zygote", 0, 0, 0);
    if (stk_process_sanitize(ZYGOTE_FD + 1) < 0 ||
        fcntl(ZYGOTE_FD, F_SETFD, FD_CLOEXEC) < 0) {
        return STK_EXIT_SETUP;
    }
    ignore_group_signals();
    for (;;) {
        struct fork_request r;
        int got = receive_request(&r);
        if (got == 0) {
            return 0;
        }
        if (got < 0) {
            if (errno == EPROTO) {
                (void)stk_send_forked(ZYGOTE_FD, 0, EPROTO, -1);
            }
            return STK_EXIT_SETUP;
        }
        int pidfd = -1;
        pid_t pid = fork_helper(&pidfd);
        if (pid == 0) {
            become_helper(&r, mode_word);
        }
        int fork_errno = pid < 0 ? errno : 0;
        close_request(&r);
        /* The JVM reads every answer before it closes the socket (HelperZygote; one it retired
         * for up to RETIRE_WAIT), so a failed send means it is gone or gave up on this zygote:
         * a helper made for it ends at its control socket's EOF, as any helper of a dead JVM
         * does. */
        int sent = stk_send_forked(ZYGOTE_FD, pid < 0 ? 0 : pid, (uint32_t)fork_errno, pidfd);
        stk_close_fd(&pidfd);
        if (sent < 0) {
            return 0;
        }
    }
}
