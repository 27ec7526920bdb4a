#include "spec_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stockade.h"

static void reserve(struct spec_buf *b, size_t more)
{
    if (b->len + more <= b->cap) {
        return;
    }
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + more) {
        cap *= 2;
    }
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) {
        fprintf(stderr, "spec_writer: out of memory\n");
        abort();
    }
    b->data = data;
    b->cap = cap;
}

void spec_raw(struct spec_buf *b, const void *bytes, size_t len)
{
    reserve(b, len);
    if (len != 0) {
        memcpy(b->data + b->len, bytes, len);
    }
    b->len += len;
}

static void put_u16(struct spec_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    spec_raw(b, x, 2);
}

static void put_u32(struct spec_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    spec_raw(b, x, 4);
}

static void put_u64(struct spec_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

void spec_init_raw(struct spec_buf *b, uint32_t magic, uint32_t version)
{
    memset(b, 0, sizeof *b);
    put_u32(b, STK_MSG_SPEC);
    put_u32(b, 0);
    put_u32(b, magic);
    put_u32(b, version);
}

void spec_init(struct spec_buf *b)
{
    spec_init_raw(b, STK_MAGIC, STK_VERSION);
}

void spec_init_command(struct spec_buf *b)
{
    memset(b, 0, sizeof *b);
    put_u32(b, STK_MSG_COMMAND);
    put_u32(b, 0);
}

void spec_free(struct spec_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void field_header(struct spec_buf *b, uint16_t tag, size_t len)
{
    put_u16(b, tag);
    put_u16(b, 0);
    put_u32(b, (uint32_t)len);
}

void spec_bytes_field(struct spec_buf *b, uint16_t tag, const void *value, size_t len)
{
    field_header(b, tag, len);
    spec_raw(b, value, len);
}

void spec_string(struct spec_buf *b, uint16_t tag, const char *value)
{
    spec_bytes_field(b, tag, value, strlen(value));
}

void spec_u32(struct spec_buf *b, uint16_t tag, uint32_t value)
{
    field_header(b, tag, 4);
    put_u32(b, value);
}

void spec_egress(struct spec_buf *b, uint32_t port, uint32_t max_connections,
                 const uint8_t *token, const char *path, size_t path_len)
{
    field_header(b, STK_F_EGRESS, (uint32_t)(8 + STK_EGRESS_TOKEN_SIZE + path_len));
    put_u32(b, port);
    put_u32(b, max_connections);
    spec_raw(b, token, STK_EGRESS_TOKEN_SIZE);
    spec_raw(b, path, path_len);
}

void spec_u64(struct spec_buf *b, uint16_t tag, uint64_t value)
{
    field_header(b, tag, 8);
    put_u64(b, value);
}

void spec_args(struct spec_buf *b, const char *const *argv)
{
    for (size_t i = 0; argv[i] != NULL; i++) {
        spec_string(b, STK_F_ARG, argv[i]);
    }
}

static void mount_field(struct spec_buf *b, uint32_t type, uint32_t flags, uint64_t size,
                        const char *src, const char *dst)
{
    size_t src_len = strlen(src), dst_len = strlen(dst);
    field_header(b, STK_F_MOUNT, 24 + src_len + dst_len);
    put_u32(b, type);
    put_u32(b, flags);
    put_u64(b, size);
    put_u32(b, (uint32_t)src_len);
    spec_raw(b, src, src_len);
    put_u32(b, (uint32_t)dst_len);
    spec_raw(b, dst, dst_len);
}

void spec_bind(struct spec_buf *b, const char *src, const char *dst, bool readonly)
{
    mount_field(b, STK_MOUNT_BIND, readonly ? STK_MOUNT_READONLY : 0, 0, src, dst);
}

void spec_bind_flags(struct spec_buf *b, const char *src, const char *dst, uint32_t flags)
{
    mount_field(b, STK_MOUNT_BIND, flags, 0, src, dst);
}

void spec_tmpfs(struct spec_buf *b, const char *dst, uint64_t size)
{
    mount_field(b, STK_MOUNT_TMPFS, 0, size, "", dst);
}

void spec_mount(struct spec_buf *b, uint32_t type, uint32_t flags, uint64_t size,
                const char *src, const char *dst)
{
    mount_field(b, type, flags, size, src, dst);
}

void spec_host_view(struct spec_buf *b)
{
    static const char *const paths[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                        "/libx32", "/etc", "/opt", NULL};
    for (size_t i = 0; paths[i] != NULL; i++) {
        struct stat st;
        if (lstat(paths[i], &st) != 0) {
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlink(paths[i], target, sizeof target - 1);
            if (n > 0) {
                target[n] = '\0';
                mount_field(b, STK_MOUNT_SYMLINK, 0, 0, target, paths[i]);
            }
        } else if (S_ISDIR(st.st_mode)) {
            mount_field(b, STK_MOUNT_BIND, STK_MOUNT_READONLY, 0, paths[i], paths[i]);
        }
    }
}

void spec_rlimit(struct spec_buf *b, uint32_t resource, uint64_t soft, uint64_t hard)
{
    field_header(b, STK_F_RLIMIT, 24);
    put_u32(b, resource);
    put_u32(b, 0);
    put_u64(b, soft);
    put_u64(b, hard);
}

static void bpf_field(struct spec_buf *b, uint16_t tag, const struct sock_filter *insns,
                      size_t count)
{
    field_header(b, tag, count * 8);
    for (size_t i = 0; i < count; i++) {
        put_u16(b, insns[i].code);
        uint8_t j[2] = {insns[i].jt, insns[i].jf};
        spec_raw(b, j, 2);
        put_u32(b, insns[i].k);
    }
}

void spec_bpf(struct spec_buf *b, const struct sock_filter *insns, size_t count)
{
    bpf_field(b, STK_F_SECCOMP_BPF, insns, count);
}

void spec_guard_bpf(struct spec_buf *b, const struct sock_filter *insns, size_t count)
{
    bpf_field(b, STK_F_GUARD_BPF, insns, count);
}

void spec_report(struct spec_buf *b, uint32_t nr, uint32_t err)
{
    field_header(b, STK_F_REPORT, 8);
    put_u32(b, nr);
    put_u32(b, err);
}

const uint8_t *spec_finish(struct spec_buf *b, size_t *len)
{
    uint32_t payload = (uint32_t)(b->len - STK_FRAME_HEADER_SIZE);
    uint8_t x[4] = {(uint8_t)payload, (uint8_t)(payload >> 8), (uint8_t)(payload >> 16),
                    (uint8_t)(payload >> 24)};
    memcpy(b->data + 4, x, 4);
    *len = b->len;
    return b->data;
}

/* ---- running the helper ---- */

static int write_all(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) {
            n = write(fd, (const uint8_t *)buf + done, len - done);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

struct growbuf {
    char *data;
    size_t len, cap;
};

static void grow_append(struct growbuf *g, const void *bytes, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap == 0 ? 4096 : g->cap;
        while (cap < g->len + n + 1) {
            cap *= 2;
        }
        char *data = realloc(g->data, cap);
        if (data == NULL) {
            abort();
        }
        g->data = data;
        g->cap = cap;
    }
    memcpy(g->data + g->len, bytes, n);
    g->len += n;
    g->data[g->len] = '\0';
}

/* Decodes complete frames from g; returns false on a malformed one. */
static bool decode_events(struct growbuf *g, struct run_result *r, bool *got_started)
{
    size_t off = 0;
    const uint8_t *p = (const uint8_t *)g->data;
    bool ok = true;
    while (g->len - off >= 8) {
        uint32_t type = get_u32(p + off);
        uint32_t len = get_u32(p + off + 4);
        if (g->len - off - 8 < len) {
            break;
        }
        const uint8_t *v = p + off + 8;
        r->events++;
        if (type == STK_EVT_READY && len == 0 && !r->ready) {
            r->ready = true;
            r->ready_index = r->events - 1;
        } else if (type == STK_EVT_STARTED && len == 8) {
            r->started = true;
            r->sandbox_pid = (int32_t)get_u32(v);
            r->command_pid = (int32_t)get_u32(v + 4);
            *got_started = true;
        } else if (type == STK_EVT_VIOLATION && len == 72) {
            struct violation_event *grown =
                realloc(r->violations, (r->violation_count + 1) * sizeof *grown);
            if (grown == NULL) {
                abort();
            }
            r->violations = grown;
            struct violation_event *e = &r->violations[r->violation_count++];
            e->nr = get_u32(v);
            e->err = get_u32(v + 4);
            e->count = get_u64(v + 8);
            e->pid = (int32_t)get_u32(v + 16);
            e->reserved = get_u32(v + 20);
            for (int i = 0; i < 6; i++) {
                e->args[i] = get_u64(v + 24 + 8 * i);
            }
            e->index = r->events - 1;
        } else if (type == STK_EVT_EXITED && len == 72) {
            r->exited_index = r->events - 1;
            r->exited = true;
            r->wait_status = (int32_t)get_u32(v);
            r->flags = get_u32(v + 4);
            r->wall_ns = get_u64(v + 8);
            r->user_us = get_u64(v + 16);
            r->sys_us = get_u64(v + 24);
            r->max_rss_kb = get_u64(v + 32);
            r->peak_memory_bytes = get_u64(v + 40);
            r->peak_processes = get_u64(v + 48);
            r->output_bytes = get_u64(v + 56);
            r->output_dropped_bytes = get_u64(v + 64);
        } else if (type == STK_EVT_ERROR && len >= 16) {
            uint32_t step_len = get_u32(v + 8);
            if (step_len > len - 16 || step_len >= sizeof r->step) {
                ok = false;
            } else {
                uint32_t detail_len = get_u32(v + 12 + step_len);
                if (detail_len != len - 16 - step_len || detail_len >= sizeof r->detail) {
                    ok = false;
                } else {
                    r->error = true;
                    r->err_errno = get_u32(v);
                    r->err_exit_code = get_u32(v + 4);
                    memcpy(r->step, v + 12, step_len);
                    r->step[step_len] = '\0';
                    memcpy(r->detail, v + 16 + step_len, detail_len);
                    r->detail[detail_len] = '\0';
                }
            }
        } else {
            ok = false;
        }
        off += 8 + len;
    }
    memmove(g->data, g->data + off, g->len - off);
    g->len -= off;
    return ok;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void do_action(const struct run_options *o, int *ctl, pid_t helper)
{
    if (o->after_started == 1) {
        uint8_t frame[12];
        uint32_t v[3] = {STK_MSG_KILL, 4, o->kill_mode};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                frame[4 * i + j] = (uint8_t)(v[i] >> (8 * j));
            }
        }
        write_all(*ctl, frame, sizeof frame);
    } else if (o->after_started == 2) {
        close(*ctl);
        *ctl = -1;
    } else if (o->after_started == 3) {
        kill(helper, o->signal_to_helper);
    }
}

/* The children of pid (up to 4) from /proc; 0 when it has none or is gone. */
static size_t read_children_of(pid_t pid, pid_t *children)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return 0;
    }
    size_t count = 0;
    int child;
    while (count < 4 && fscanf(f, "%d", &child) == 1) {
        children[count++] = child;
    }
    fclose(f);
    return count;
}

static void read_children(pid_t helper, struct run_result *r)
{
    r->ready_child_count = read_children_of(helper, r->ready_children);
    if (r->ready_child_count == 1) {
        r->ready_grandchild_count =
            read_children_of(r->ready_children[0], r->ready_grandchildren);
    }
    r->ready_grandchild_seccomp = -1;
    if (r->ready_grandchild_count == 0) {
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)r->ready_grandchildren[0]);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return;
    }
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "NSpid:", 6) == 0) {
            /* the last field is the innermost namespace's */
            char *last = strrchr(line, '\t');
            r->ready_grandchild_inner_pid = last == NULL ? 0 : (pid_t)atoi(last + 1);
        } else if (strncmp(line, "Seccomp:", 8) == 0) {
            r->ready_grandchild_seccomp = atoi(line + 8);
        }
    }
    fclose(f);
}

int spec_send_with_fds(int socket, const void *buf, size_t len, const int *fds, size_t count)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(SPEC_SEND_MAX_FDS * sizeof(int))];
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
    ssize_t n = sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
        return -1;
    }
    /* The rest of a long frame, without descriptors. */
    size_t sent = (size_t)n;
    return sent == len ? 0 : write_all(socket, (const uint8_t *)buf + sent, len - sent);
}

/* The COMMAND frame with its descriptors on the first byte, as the Java side sends it. */
static int send_command(int ctl, const struct run_options *o, const int *fds, size_t count)
{
    return spec_send_with_fds(ctl, o->command, o->command_len, fds, count);
}

/* recvmsg, as the JNI library reads the control socket: a descriptor the helper passes
 * (the transactional upper layer, with EXITED) is kept in r->passed_fd; a second one is a
 * protocol fault (bad_frame). */
static ssize_t receive(int ctl, char *buf, size_t size, struct run_result *r)
{
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data;
    msg.msg_controllen = sizeof control.data;
    ssize_t k;
    do {
        k = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
    } while (k < 0 && errno == EINTR);
    for (struct cmsghdr *c = k < 0 ? NULL : CMSG_FIRSTHDR(&msg); c != NULL;
         c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (r->passed_fd < 0) {
                r->passed_fd = fd;
            } else {
                close(fd);
                r->bad_frame = true;
            }
        }
    }
    return k;
}

int run_helper(const char *helper, const uint8_t *frame, size_t len,
               const struct run_options *opts, struct run_result *r, int timeout_s)
{
    static const struct run_options none;
    const struct run_options *o = opts != NULL ? opts : &none;
    memset(r, 0, sizeof *r);
    r->exited_index = -1;
    r->passed_fd = -1;
    int sv[2], out[2], err[2], in[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(err, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
        perror("run_helper: socketpair/pipe2");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("run_helper: fork");
        return -1;
    }
    if (pid == 0) {
        /* dup2 clears O_CLOEXEC on the new descriptors, exactly what posix_spawn's dup2
         * actions do in the JNI library. */
        int in_fd = o->tty_fd > 0 ? o->tty_fd : in[0];
        int out_fd = o->tty_fd > 0 ? o->tty_fd : out[1];
        int err_fd = err[1];
        if (o->warm) {
            in_fd = out_fd = err_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        }
        if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
            dup2(sv[1], 3) < 0) {
            _exit(120);
        }
        if (o->leak_fd > 3) {
            int leaked = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
            if (leaked < 0 || dup2(leaked, o->leak_fd) < 0) {
                _exit(121);
            }
        }
        char *const argv[] = {(char *)helper, (char *)o->helper_arg, NULL};
        char *const envp[] = {NULL};
        execve(helper, argv, envp);
        _exit(122);
    }
    r->helper_pid = pid;
    r->ready_index = -1;
    close(sv[1]);
    /* A warm sandbox's command gets these with COMMAND: kept until they are sent. */
    int command_fds[4] = {in[0], out[1], o->command_merged ? out[1] : err[1], out[1]};
    if (o->warm && o->command_stdin_path != NULL) {
        command_fds[0] = open(o->command_stdin_path, o->command_stdin_flags | O_CLOEXEC);
    }
    size_t command_fd_count = o->command_fd_count != 0 ? (size_t)o->command_fd_count : 3;
    bool command_sent = !o->warm;
    if (!o->warm) {
        close(out[1]);
        close(err[1]);
        close(in[0]);
    }
    int ctl = sv[0];
    /* The frame first (the helper reads nothing else before it), then stdin. A helper that
     * rejects the frame early may stop reading: EPIPE then, which is fine. */
    write_all(ctl, frame, len);
    if (o->extra != NULL) {
        write_all(ctl, o->extra, o->extra_len);
    }
    if (o->warm && o->command_early) {
        send_command(ctl, o, command_fds, command_fd_count);
    }
    if (o->shutdown_write) {
        shutdown(ctl, SHUT_WR);
    }
    if (o->stdin_data != NULL) {
        write_all(in[1], o->stdin_data, o->stdin_len);
    }
    int stdin_fd = in[1];
    if (!o->hold_stdin) {
        close(stdin_fd);
        stdin_fd = -1;
    }

    struct growbuf events = {0}, sout = {0}, serr = {0};
    int out_fd = out[0], err_fd = err[0];
    bool got_started = false, acted = false, ready = o->wait_for_stdout == NULL;
    double deadline = now_s() + timeout_s;
    int rc = 0;
    while (ctl >= 0 || out_fd >= 0 || err_fd >= 0) {
        double left = deadline - now_s();
        if (left <= 0) {
            fprintf(stderr, "run_helper: no end after %d s; killing the helper\n", timeout_s);
            kill(pid, SIGKILL);
            rc = -1;
            break;
        }
        struct pollfd fds[3] = {{ctl, POLLIN, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
        int n = poll(fds, 3, (int)(left * 1000) + 1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("run_helper: poll");
            rc = -1;
            break;
        }
        char buf[65536];
        if (fds[0].revents != 0) {
            ssize_t k = receive(ctl, buf, sizeof buf, r);
            if (k <= 0) {
                close(ctl);
                ctl = -1;
                if (!command_sent) {
                    /* The helper ended before READY: no command's output to wait for. */
                    command_sent = true;
                    close(in[0]);
                    close(out[1]);
                    close(err[1]);
                    if (o->command_stdin_path != NULL && command_fds[0] >= 0) {
                        close(command_fds[0]);
                    }
                }
            } else {
                grow_append(&events, buf, (size_t)k);
                if (!decode_events(&events, r, &got_started)) {
                    r->bad_frame = true;
                }
            }
        }
        if (fds[1].revents != 0) {
            ssize_t k = read(out_fd, buf, sizeof buf);
            if (k <= 0) {
                close(out_fd);
                out_fd = -1;
            } else {
                grow_append(&sout, buf, (size_t)k);
            }
        }
        if (fds[2].revents != 0) {
            ssize_t k = read(err_fd, buf, sizeof buf);
            if (k <= 0) {
                close(err_fd);
                err_fd = -1;
            } else {
                grow_append(&serr, buf, (size_t)k);
            }
        }
        if (!ready && sout.data != NULL && strstr(sout.data, o->wait_for_stdout) != NULL) {
            ready = true;
            if (o->on_ready != NULL) {
                o->on_ready(o->ctx);
            }
            if (stdin_fd >= 0) {
                close(stdin_fd);
                stdin_fd = -1;
            }
        }
        if (r->ready && !command_sent) {
            command_sent = true;
            read_children(pid, r);
            if (o->on_warm_ready != NULL) {
                o->on_warm_ready(o->ctx);
            }
            if (o->warm_idle_ms > 0) {
                struct timespec idle = {o->warm_idle_ms / 1000,
                                        (o->warm_idle_ms % 1000) * 1000000L};
                nanosleep(&idle, NULL);
            }
            if (o->warm_idle_action == 1) {
                struct run_options kill_only = {.after_started = 1, .kill_mode = o->kill_mode};
                do_action(&kill_only, &ctl, pid);
            } else if (o->warm_idle_action == 2) {
                close(ctl);
                ctl = -1;
            } else if (!o->command_early) {
                send_command(ctl, o, command_fds, command_fd_count);
                if (o->command_twice) {
                    send_command(ctl, o, command_fds, command_fd_count);
                }
            }
            /* The command's ends are the sandbox's now: its EOF is ours. */
            close(in[0]);
            close(out[1]);
            close(err[1]);
            if (o->command_stdin_path != NULL && command_fds[0] >= 0) {
                close(command_fds[0]);
            }
        }
        if (got_started && ready && !acted) {
            acted = true;
            if (o->after_started != 0 && ctl >= 0) {
                do_action(o, &ctl, pid);
            }
        }
    }
    if (ctl >= 0) {
        close(ctl);
    }
    if (stdin_fd >= 0) {
        close(stdin_fd);
    }
    if (out_fd >= 0) {
        close(out_fd);
    }
    if (err_fd >= 0) {
        close(err_fd);
    }
    if (!command_sent) {
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (o->command_stdin_path != NULL && command_fds[0] >= 0) {
            close(command_fds[0]);
        }
    }
    while (waitpid(pid, &r->helper_status, 0) < 0 && errno == EINTR) {
    }
    if (events.len != 0) {
        r->bad_frame = true; /* a partial frame at EOF */
    }
    free(events.data);
    r->out = sout.data != NULL ? sout.data : strdup("");
    r->out_len = sout.len;
    r->err_out = serr.data != NULL ? serr.data : strdup("");
    r->err_len = serr.len;
    return rc;
}

void run_result_free(struct run_result *r)
{
    if (r->passed_fd >= 0) {
        close(r->passed_fd);
        r->passed_fd = -1;
    }
    free(r->out);
    free(r->err_out);
    free(r->violations);
    r->out = NULL;
    r->err_out = NULL;
    r->violations = NULL;
    r->violation_count = 0;
}

int copy_to_public_dir(const char *source, const char *name, char *dir, size_t dir_size,
                       char *path, size_t path_size)
{
    int length = snprintf(dir, dir_size, "/tmp/stk-tool.XXXXXX");
    if (length < 0 || (size_t)length >= dir_size || mkdtemp(dir) == NULL ||
        chmod(dir, 0755) != 0) {
        fprintf(stderr, "temporary directory for %s: %s\n", name, strerror(errno));
        return -1;
    }
    length = snprintf(path, path_size, "%s/%s", dir, name);
    if (length < 0 || (size_t)length >= path_size) {
        fprintf(stderr, "path of the %s copy too long\n", name);
        return -1;
    }
    int in = open(source, O_RDONLY | O_CLOEXEC);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    int result = in < 0 || out < 0 ? -1 : 0;
    char buf[65536];
    ssize_t n;
    while (result == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            result = -1;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0 && close(out) != 0) {
        result = -1;
    }
    if (result != 0) {
        fprintf(stderr, "copying %s to %s: %s\n", source, path, strerror(errno));
    }
    return result;
}

int stk_test_failures;

size_t stk_run_tests(const struct stk_test *tests, size_t count, const char *which)
{
    size_t ran = 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(which, "all") == 0 || strcmp(which, tests[i].name) == 0) {
            int before = stk_test_failures;
            tests[i].fn();
            fprintf(stderr, "%s %s\n", stk_test_failures == before ? "PASS" : "FAIL",
                    tests[i].name);
            ran++;
        }
    }
    return ran;
}

int stk_test_main(const struct stk_test_driver *d, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < d->count; i++) {
            printf("%s\n", d->tests[i].name);
        }
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s <stockade-helper> <%s> <test-name|all>\n       %s --list\n",
                d->name, d->tool_name, d->name);
        return 2;
    }
    if (argv[1][0] != '/' || argv[2][0] != '/') {
        fprintf(stderr, "%s: give absolute paths (they are used inside the sandbox)\n", d->name);
        return 2;
    }
    *d->helper = argv[1];
    /* The tests judge the helper's output, not whatever umask or signal state CI left. */
    umask(022);
    /* The command runs as an unprivileged uid that may not be able to reach the build tree
     * (a clone under /root is 0700), so it runs a copy in a directory everyone can read. */
    static char copy[4200];
    if (copy_to_public_dir(argv[2], d->tool_name, d->tool_dir, d->tool_dir_size, copy,
                           sizeof copy) != 0) {
        return 2;
    }
    *d->tool = copy;
    signal(SIGPIPE, SIG_IGN);
    size_t ran = stk_run_tests(d->tests, d->count, argv[3]);
    unlink(copy);
    rmdir(d->tool_dir);
    if (ran == 0) {
        fprintf(stderr, "%s: no test named %s\n", d->name, argv[3]);
        return 2;
    }
    return stk_test_failures == 0 ? 0 : 1;
}

void stk_describe_run(const struct run_result *r)
{
    fprintf(stderr,
            "    started=%d error=%d(%s errno=%u exit=%u: %s) exited=%d status=0x%x flags=%u "
            "events=%d violations=%zu helper_status=0x%x\n    stdout=[%s]\n    stderr=[%s]\n",
            r->started, r->error, r->step, r->err_errno, r->err_exit_code, r->detail, r->exited,
            (unsigned)r->wait_status, r->flags, r->events, r->violation_count,
            (unsigned)r->helper_status, r->out, r->err_out);
    for (size_t i = 0; i < r->violation_count; i++) {
        const struct violation_event *v = &r->violations[i];
        fprintf(stderr, "    VIOLATION #%d nr=%u errno=%u count=%llu pid=%d\n", v->index, v->nr,
                v->err, (unsigned long long)v->count, v->pid);
    }
}

int deny_syscall_here(long nr, int err)
{
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof insns / sizeof insns[0], .filter = insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return -1;
    }
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0 ? -1 : 0;
}
