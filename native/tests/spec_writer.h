/*
 * A small client of the helper's protocol for the C tests: builds SPEC frames field by field
 * (stockade.h), spawns the helper with a socketpair on fd 3, and collects its events, the
 * command's output and the helper's exit status.
 */
#ifndef STK_SPEC_WRITER_H
#define STK_SPEC_WRITER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- building a SPEC frame ---- */

struct spec_buf {
    uint8_t *data;
    size_t len, cap;
};

/* Starts a frame: header (length patched by spec_finish), magic, version. */
void spec_init(struct spec_buf *b);
/* Starts a COMMAND frame (a warm sandbox's command): header only, then ARG/ENV/CWD fields. */
void spec_init_command(struct spec_buf *b);
void spec_init_raw(struct spec_buf *b, uint32_t magic, uint32_t version);
void spec_free(struct spec_buf *b);

void spec_bytes_field(struct spec_buf *b, uint16_t tag, const void *value, size_t len);
void spec_string(struct spec_buf *b, uint16_t tag, const char *value);
void spec_u32(struct spec_buf *b, uint16_t tag, uint32_t value);
void spec_u64(struct spec_buf *b, uint16_t tag, uint64_t value);
void spec_args(struct spec_buf *b, const char *const *argv); /* NULL-terminated */
void spec_bind(struct spec_buf *b, const char *src, const char *dst, bool readonly);
/* A BIND with STK_MOUNT_* flags (READONLY, IDMAP, SPECIAL). */
void spec_bind_flags(struct spec_buf *b, const char *src, const char *dst, uint32_t flags);
void spec_tmpfs(struct spec_buf *b, const char *dst, uint64_t size);
/* Any MOUNT field (STK_MOUNT_* type and flags). */
void spec_mount(struct spec_buf *b, uint32_t type, uint32_t flags, uint64_t size,
                const char *src, const char *dst);
/* The host's system directories as the Java side's default policy sends them: each of /usr
 * /bin /sbin /lib /lib32 /lib64 /libx32 /etc /opt that exists, a directory as a read-only BIND
 * at the same path, a symbolic link (merged /usr) as a SYMLINK with the same content. */
void spec_host_view(struct spec_buf *b);
void spec_rlimit(struct spec_buf *b, uint32_t resource, uint64_t soft, uint64_t hard);
void spec_bpf(struct spec_buf *b, const struct sock_filter *insns, size_t count);
/* A GUARD_BPF field (the set-id guard's program). */
void spec_guard_bpf(struct spec_buf *b, const struct sock_filter *insns, size_t count);
/* A REPORT field: notifications for syscall nr are answered with err (0 = let through). */
void spec_report(struct spec_buf *b, uint32_t nr, uint32_t err);
/* An EGRESS field: u32 port, u32 max_connections, the STK_EGRESS_TOKEN_SIZE bytes of token,
 * then path_len bytes of path (which may hold NUL bytes or be too long, for the refusals). */
void spec_egress(struct spec_buf *b, uint32_t port, uint32_t max_connections,
                 const uint8_t *token, const char *path, size_t path_len);
/* Appends raw bytes (for malformed frames). */
void spec_raw(struct spec_buf *b, const void *bytes, size_t len);
/* Patches the frame length; returns the frame. */
const uint8_t *spec_finish(struct spec_buf *b, size_t *len);

/* The most descriptors spec_send_with_fds takes: a FORK's and one more (zygote_test's
 * refusals). */
#define SPEC_SEND_MAX_FDS 8u

/* Sends len bytes of buf on a socket with count descriptors (at most SPEC_SEND_MAX_FDS) on
 * the first byte (SCM_RIGHTS), the rest without; 0, or -1 with errno. */
int spec_send_with_fds(int socket, const void *buf, size_t len, const int *fds, size_t count);

/* A seccomp filter on the calling process (and what it starts, exec included: no_new_privs is
 * set) that fails system call nr with err and lets every other through: what a container
 * runtime's profile does to a call the helper needs. 0, or -1 with errno. */
int deny_syscall_here(long nr, int err);

/* ---- running the helper ---- */

struct run_options {
    const char *stdin_data; /* written to the command's stdin, then closed; NULL = /dev/null */
    size_t stdin_len;
    /* After STARTED: 0 nothing, 1 send KILL(kill_mode), 2 close the control socket,
     * 3 send a signal (signal_to_helper) to the helper. */
    int after_started;
    uint32_t kill_mode;
    int signal_to_helper;
    /* Wait for this text on the command's stdout before the after_started action. */
    const char *wait_for_stdout;
    /* Keep the command's stdin open until wait_for_stdout was seen (then close it). */
    bool hold_stdin;
    /* Called once wait_for_stdout was seen (before the action); may inspect the host. */
    void (*on_ready)(void *ctx);
    void *ctx;
    /* An fd without O_CLOEXEC that the helper inherits at this number (0 = none). */
    int leak_fd;
    /* Frame to send after the spec (KILL frames, garbage); NULL = none. */
    const uint8_t *extra;
    size_t extra_len;
    /* shutdown(SHUT_WR) on the control socket once everything is written: the helper sees
     * EOF (a truncated frame) while its events can still be read. */
    bool shutdown_write;
    /* > 0: the helper's stdin and stdout are this terminal (stderr stays the captured pipe);
     * the test reads the terminal's other side itself. */
    int tty_fd;
    /* Extra argv for the helper (e.g. "probe"); NULL = none. */
    const char *helper_arg;
    /* A warm sandbox (the frame has STK_F_WARM): the helper starts with /dev/null on fds 0-2,
     * as the Java side starts it; once READY arrived and warm_idle_ms passed, the harness does
     * warm_idle_action. The command's stdio are the harness's pipes, passed with COMMAND. */
    bool warm;
    int warm_idle_ms;
    /* Called once READY arrived, before the idle wait and its action; may change the host. */
    void (*on_warm_ready)(void *ctx);
    /* 0: send `command`; 1: send KILL(kill_mode) instead; 2: close the control socket. */
    int warm_idle_action;
    const uint8_t *command; /* the COMMAND frame (spec_init_command) */
    size_t command_len;
    /* How many of (stdin, stdout, stderr, stdout again) go with COMMAND; 0 = the 3. */
    int command_fd_count;
    bool command_merged;  /* the stderr passed is the stdout pipe: one stream for both */
    bool command_early;   /* COMMAND right after the spec, before READY */
    bool command_twice;   /* a second COMMAND right after the first */
    /* A file whose fd goes as the command's stdin instead of the stdin pipe; NULL = the pipe. */
    const char *command_stdin_path;
    int command_stdin_flags;
};

/* One VIOLATION event, decoded. */
struct violation_event {
    uint32_t nr, err;
    uint64_t count;
    int32_t pid;
    uint32_t reserved;
    uint64_t args[6];
    int index; /* position among all events (0 = the first frame) */
};

struct run_result {
    bool ready;       /* READY (a warm sandbox) */
    int ready_index;  /* its position among all events, -1 without one */
    /* The helper's children when READY arrived (the sandbox's pid 1, as the host sees it);
     * 0 beyond ready_child_count. */
    pid_t ready_children[4];
    size_t ready_child_count;
    /* pid 1's children then (with NEWPID, the command's process, forked before READY). */
    pid_t ready_grandchildren[4];
    size_t ready_grandchild_count;
    /* The first of them's pid in its own (innermost) namespace (NSpid) and its seccomp mode
     * (Seccomp: 0 none, 2 filters); 0 and -1 without one. */
    pid_t ready_grandchild_inner_pid;
    int ready_grandchild_seccomp;
    bool started;
    int32_t sandbox_pid, command_pid;
    bool error;
    uint32_t err_errno, err_exit_code;
    char step[64];
    char detail[512];
    bool exited;
    int32_t wait_status;
    uint32_t flags;
    uint64_t wall_ns, user_us, sys_us, max_rss_kb;
    uint64_t peak_memory_bytes, peak_processes, output_bytes, output_dropped_bytes;
    int events;       /* number of frames received */
    struct violation_event *violations; /* in arrival order */
    size_t violation_count;
    int exited_index; /* position of EXITED among all events, -1 without one */
    bool bad_frame;   /* an event that did not decode */
    char *out;        /* the command's stdout (NUL-terminated) */
    size_t out_len;
    char *err_out;    /* the command's stderr */
    size_t err_len;
    int passed_fd;     /* the descriptor a frame carried (SCM_RIGHTS), -1 without */
    int helper_status; /* waitpid status of the helper */
    pid_t helper_pid;
};

/* Runs the helper on frame; returns 0, or -1 when the harness itself failed (message on
 * stderr). Gives up (SIGKILL) after timeout_s seconds. */
int run_helper(const char *helper, const uint8_t *frame, size_t len,
               const struct run_options *opts, struct run_result *r, int timeout_s);
void run_result_free(struct run_result *r);

/* Prints every event of a run, its output and the helper's status on stderr: what a test
 * shows when an expectation about the run failed. */
void stk_describe_run(const struct run_result *r);

/* Copies the executable source into a fresh 0755 directory under /tmp (the sandbox user may
 * not reach the build tree); fills the directory and the copy's path. Returns 0 or -1 with a
 * message on stderr. */
int copy_to_public_dir(const char *source, const char *name, char *dir, size_t dir_size,
                       char *path, size_t path_size);

/* The failed expectations of the running test program, counted by EXPECT. */
extern int stk_test_failures;

/* Checks cond; when it is false, prints where and why (printf-style) and counts a failure. */
#define EXPECT(cond, ...)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fputc('\n', stderr);                                                            \
            stk_test_failures++;                                                            \
        }                                                                                   \
    } while (0)

/* A named test of a test driver. */
struct stk_test {
    const char *name;
    void (*fn)(void);
};

/* Runs the test named `which` (or every one for "all"), printing PASS or FAIL for each, judged
 * by whether stk_test_failures grew. Returns how many ran. */
size_t stk_run_tests(const struct stk_test *tests, size_t count, const char *which);

/* A test driver (helper_test, seccomp_test) and where its main puts what it was given. */
struct stk_test_driver {
    const char *name;      /* the program, for messages */
    const char *tool_name; /* the command its tests run inside the sandbox */
    const struct stk_test *tests;
    size_t count;
    const char **helper; /* set to the stockade-helper path */
    const char **tool;   /* set to the public copy of the tool */
    char *tool_dir;      /* filled with the public directory holding that copy */
    size_t tool_dir_size;
};

/*
 * The drivers' main:
 *     <driver> --list                                      the test names, one a line (CMake's
 *                                                          listed_tests.cmake.in reads them)
 *     <driver> <stockade-helper> <tool> <test-name|all>    runs them
 * Returns the exit status: 0 all passed, 1 a test failed, 2 a usage or set-up error.
 */
int stk_test_main(const struct stk_test_driver *d, int argc, char **argv);

#endif
