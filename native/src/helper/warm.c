#include "warm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd.h"
#include "frame.h"
#include "progress.h"
#include "protect.h"
#include "status.h"
#include "stockade.h"
#include "sys.h"

/* What the sandbox reads at the region's start once the hand-over arrived; every pointer
 * points into the region. */
struct command_layout {
    char **argv;
    char **envp;
    const char *cwd;
    size_t argc, envc;
    char **exec_paths;
    size_t exec_path_count;
    /* bit n: the hand-over carries the command's fd n (in order); the others are the output
     * relay's pipes, already on pid 1's fds. */
    uint32_t install;
    /* The output relay with stdout and stderr the same file: fd 2 becomes fd 1's pipe. */
    uint32_t merge_stderr;
    /* CLOCK_MONOTONIC at the hand-over: where the command's wall time starts when its process
     * was forked before READY. */
    uint64_t start_ns;
};

/* The region's parts, each sized by the spec's bounds (a COMMAND is at most
 * STK_MAX_SPEC_SIZE bytes, its strings fewer). The execve candidates are bounded by what
 * PATH can hold (one per element) and by EXEC_STORAGE: a list longer than that fails like a
 * cold plan's failed allocation. */
#define ALIGNED(n) (((n) + 15u) & ~(size_t)15u)
#define LAYOUT_BYTES ALIGNED(sizeof(struct command_layout))
#define ARGV_BYTES ALIGNED(((size_t)STK_MAX_ARGS + 1) * sizeof(char *))
#define ENVP_BYTES ALIGNED(((size_t)STK_MAX_ENV + 1) * sizeof(char *))
#define STRING_BYTES ALIGNED((size_t)STK_MAX_SPEC_SIZE)
#define PATH_SLOTS ((size_t)STK_MAX_STRING + 2)
#define PATH_BYTES ALIGNED(PATH_SLOTS * sizeof(char *))
#define EXEC_STORAGE (2 * (size_t)STK_MAX_SPEC_SIZE)
#define ARGV_AT LAYOUT_BYTES
#define ENVP_AT (ARGV_AT + ARGV_BYTES)
#define STRINGS_AT (ENVP_AT + ENVP_BYTES)
#define PATHS_AT (STRINGS_AT + STRING_BYTES)
#define STORAGE_AT (PATHS_AT + PATH_BYTES)
#define REGION_BYTES (STORAGE_AT + EXEC_STORAGE)

static const char *const fd_names[STK_COMMAND_FD_COUNT] = {"stdin", "stdout", "stderr"};

int stk_warm_prepare(struct stk_warm *w, struct stk_error *err)
{
    memset(w, 0, sizeof *w);
    w->channel[0] = w->channel[1] = -1;
    w->region = NULL;
    /* Shared, so what the monitor writes after the clone is in pid 1's memory too; anonymous
     * shmem is backed only where written, so the bound costs address space only. */
    void *region = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) {
        return stk_fail(err, STK_STEP_COMMAND, errno, "mmap of the command region");
    }
    w->region = region;
    w->region_size = REGION_BYTES;
    /* SEQPACKET: the hand-over is one message, whole or not at all. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, w->channel) < 0) {
        return stk_fail(err, STK_STEP_COMMAND, errno, "socketpair for the command hand-over");
    }
    return 0;
}

void stk_warm_pid1_close(struct stk_warm *w)
{
    stk_close_fd(&w->channel[0]);
}

void stk_warm_close_sandbox_end(struct stk_warm *w)
{
    stk_close_fd(&w->channel[1]);
}

void stk_warm_release(struct stk_warm *w)
{
    if (w->region != NULL) {
        munmap(w->region, w->region_size);
        w->region = NULL;
    }
    stk_close_fd(&w->channel[0]);
    stk_close_fd(&w->channel[1]);
}

static void close_all(int *fds, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        stk_close_fd(&fds[i]);
    }
}

/* The frame's place in the exchange: only a warm sandbox takes one, once, after READY. */
static int check_order(const struct stk_warm *w, const struct stk_plan *plan,
                       struct stk_error *err)
{
    if (!plan->spec->warm || w == NULL) {
        return stk_fail(err, STK_STEP_PROTOCOL, EPROTO,
                        "COMMAND for a sandbox whose spec has no WARM");
    }
    if (w->commanded) {
        return stk_fail(err, STK_STEP_PROTOCOL, EPROTO, "a second COMMAND");
    }
    if (!w->ready) {
        return stk_fail(err, STK_STEP_PROTOCOL, EPROTO, "COMMAND before READY");
    }
    return 0;
}

static int check_fds(const int *fds, size_t fd_count, bool truncated, struct stk_error *err)
{
    if (truncated || fd_count != STK_COMMAND_FD_COUNT) {
        stk_fail(err, STK_STEP_COMMAND, EPROTO, "COMMAND carries ");
        if (truncated) {
            stk_error_append(err, "more than ");
        }
        stk_error_append_u64(err, fd_count);
        stk_error_append(err, " descriptors, not 3 (stdin, stdout, stderr)");
        return -1;
    }
    /* The caller's terminal never reaches the command (a cold spawn puts a pty in between;
     * a warm sandbox has none). */
    for (size_t i = 0; i < fd_count; i++) {
        if (isatty(fds[i])) {
            stk_fail(err, STK_STEP_COMMAND, EINVAL, "COMMAND's ");
            stk_error_append(err, fd_names[i]);
            stk_error_append(err, " is a terminal: a warm sandbox has no pty (spawn it cold)");
            return -1;
        }
    }
    return 0;
}

static int read_payload(int control_fd, uint32_t len, uint8_t **payload, struct stk_error *err)
{
    if (len > STK_MAX_SPEC_SIZE) {
        stk_fail(err, STK_STEP_SPEC, EINVAL, "COMMAND frame length ");
        stk_error_append_u64(err, len);
        stk_error_append(err, " above STK_MAX_SPEC_SIZE");
        return -1;
    }
    *payload = malloc(len == 0 ? 1 : len);
    if (*payload == NULL) {
        return stk_fail(err, STK_STEP_COMMAND, ENOMEM, "allocating the COMMAND frame");
    }
    ssize_t n = stk_read_full(control_fd, *payload, len);
    if (n != (ssize_t)len) {
        return stk_fail(err, STK_STEP_PROTOCOL, n < 0 ? errno : EPROTO,
                        "control socket closed inside the COMMAND frame");
    }
    return 0;
}

/* argv, envp, cwd and the execve candidates, into the region, as the plan lays out a cold
 * spawn's. */
static int lay_out(struct stk_warm *w, const uint8_t *payload, uint32_t len,
                   struct stk_error *err)
{
    struct stk_command_size size;
    if (stk_command_measure(payload, len, &size, err) < 0) {
        return -1;
    }
    uint8_t *base = w->region;
    struct command_layout *l = (struct command_layout *)base;
    struct stk_spec command;
    memset(&command, 0, sizeof command);
    command.argv = (char **)(base + ARGV_AT);
    command.envp = (char **)(base + ENVP_AT);
    command.strings = (char *)(base + STRINGS_AT);
    stk_command_fill(payload, len, &command);
    size_t count, bytes;
    stk_exec_paths_measure(command.argv[0], command.envp, &count, &bytes);
    if (count + 1 > PATH_SLOTS || bytes > EXEC_STORAGE) {
        return stk_fail(err, STK_STEP_EXECVE, ENOMEM, "preparing the PATH search");
    }
    l->argv = command.argv;
    l->envp = command.envp;
    l->cwd = command.cwd;
    l->argc = command.argc;
    l->envc = command.envc;
    l->exec_paths = (char **)(base + PATHS_AT);
    l->exec_path_count = stk_exec_paths_fill(command.argv[0], command.envp, l->exec_paths,
                                             (char *)(base + STORAGE_AT));
    return 0;
}

/* One message: a byte, and the fds the command gets, in order. */
static int hand_over(const struct stk_warm *w, const int *fds, size_t count,
                     struct stk_error *err)
{
    char byte = 'C';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(STK_COMMAND_FD_COUNT * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (count > 0) {
        msg.msg_control = control.data;
        msg.msg_controllen = CMSG_SPACE(count * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(count * sizeof(int));
        memcpy(CMSG_DATA(c), fds, count * sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(w->channel[0], &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : stk_fail(err, STK_STEP_COMMAND, n < 0 ? errno : EPROTO,
                                 "handing the command over");
}

int stk_warm_take_command(struct stk_warm *w, const struct stk_plan *plan, int control_fd,
                          uint32_t len, int *fds, size_t fd_count, bool fds_truncated,
                          struct stk_output *output, struct stk_error *err)
{
    uint8_t *payload = NULL;
    int rc = -1;
    if (check_order(w, plan, err) < 0) {
        goto out;
    }
    w->commanded = true;
    if (check_fds(fds, fd_count, fds_truncated, err) < 0 ||
        read_payload(control_fd, len, &payload, err) < 0 || lay_out(w, payload, len, err) < 0) {
        goto out;
    }
    struct command_layout *l = w->region;
    l->install = 7u;
    l->merge_stderr = 0;
    if (output->count != 0) {
        /* The relay's pipes are pid 1's fds 1 and 2 since the clone: the command's own stdout
         * and stderr become what the relay writes to. */
        if (stk_output_check_stdin(fds[0], err) < 0) {
            goto out;
        }
        bool merged = false;
        int redirected = stk_output_monitor_redirect(output, fds[1], fds[2], &merged, err);
        fds[1] = fds[2] = -1; /* taken over (and closed) by the relay */
        if (redirected < 0) {
            goto out;
        }
        l->install = 1u;
        l->merge_stderr = merged;
    }
    int passed[STK_COMMAND_FD_COUNT];
    size_t count = 0;
    for (size_t i = 0; i < STK_COMMAND_FD_COUNT; i++) {
        if ((l->install & (1u << i)) != 0) {
            passed[count++] = fds[i];
        }
    }
    stk_progress_restart_clock(); /* stockade.h: the idle wait counts for nothing */
    l->start_ns = stk_now_ns();
    rc = hand_over(w, passed, count, err);
out:
    free(payload);
    close_all(fds, fd_count);
    return rc;
}

/* Blocks until the hand-over; 0 at EOF (the monitor is gone), else 1 with the fds. */
static int receive_hand_over(int channel, int *fds, size_t *count, struct stk_error *err)
{
    char byte;
    bool truncated = false; /* more than the command's three: the monitor sends exactly those */
    ssize_t n;
    *count = 0;
    do {
        n = stk_recv_with_fds(channel, &byte, 1, 0, fds, STK_COMMAND_FD_COUNT, count,
                              &truncated);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return 0;
    }
    if (n < 0) {
        return stk_fail(err, STK_STEP_COMMAND, errno, "receiving the command from the monitor");
    }
    return 1;
}

void stk_warm_report_ready(int status_fd)
{
    stk_progress_step(STK_STEP_COMMAND);
    struct stk_record ready = {.kind = STK_REC_READY};
    if (stk_record_send(status_fd, &ready, -1) < 0) {
        _exit(STK_EXIT_SETUP); /* the monitor is gone */
    }
}

int stk_warm_await_command(struct stk_warm *w, struct stk_plan *p, struct stk_spec *command,
                           struct stk_error *err)
{
    int fds[STK_COMMAND_FD_COUNT] = {-1, -1, -1};
    size_t count = 0;
    int got = receive_hand_over(w->channel[1], fds, &count, err);
    if (got == 0) {
        return stk_fail(err, STK_STEP_COMMAND, ECANCELED,
                        "the monitor ended before it handed the command over");
    }
    if (got < 0) {
        return -1;
    }
    stk_close_fd(&w->channel[1]);
    /* Before anything of the command: a stale view fails here, and the command never ran. */
    stk_progress_step(STK_STEP_PROTECT);
    if (stk_protect_verify(p->spec, p->mount_ids, err) < 0) {
        close_all(fds, count);
        return -1;
    }
    stk_progress_step(STK_STEP_COMMAND);
    const struct command_layout *l = w->region;
    size_t wanted = 0;
    for (int target = 0; target < (int)STK_COMMAND_FD_COUNT; target++) {
        wanted += (l->install & (1u << target)) != 0;
    }
    int rc = 0;
    if (count != wanted) {
        rc = stk_fail(err, STK_STEP_COMMAND, EPROTO, "the hand-over's descriptors");
    }
    size_t next = 0;
    for (int target = 0; rc == 0 && target < (int)STK_COMMAND_FD_COUNT; target++) {
        if ((l->install & (1u << target)) != 0 && dup2(fds[next++], target) < 0) {
            rc = stk_fail(err, STK_STEP_COMMAND, errno, "dup2 of the command's descriptor");
        }
    }
    if (rc == 0 && l->merge_stderr && dup2(STDOUT_FILENO, STDERR_FILENO) < 0) {
        rc = stk_fail(err, STK_STEP_COMMAND, errno, "dup2 of the relay's stdout onto fd 2");
    }
    close_all(fds, count);
    if (rc < 0) {
        return -1;
    }
    *command = *p->spec;
    command->argv = l->argv;
    command->argc = l->argc;
    command->envp = l->envp;
    command->envc = l->envc;
    command->cwd = l->cwd;
    p->spec = command;
    p->exec_paths = l->exec_paths;
    p->exec_path_count = l->exec_path_count;
    return 0;
}

uint64_t stk_warm_handed_over_ns(const struct stk_warm *w)
{
    return ((const struct command_layout *)w->region)->start_ns;
}
