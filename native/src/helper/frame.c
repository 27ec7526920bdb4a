#include "frame.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stockade.h"

uint16_t stk_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}

uint32_t stk_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t stk_get_u64(const uint8_t *p)
{
    return (uint64_t)stk_get_u32(p) | ((uint64_t)stk_get_u32(p + 4) << 32);
}

void stk_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void stk_put_u64(uint8_t *p, uint64_t v)
{
    stk_put_u32(p, (uint32_t)v);
    stk_put_u32(p + 4, (uint32_t)(v >> 32));
}

ssize_t stk_read_full(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int stk_send_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
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

/* The fd travels with the first byte: the reader's recvmsg takes it with the frame's start. */
static int send_with_fd(int fd, const uint8_t *buf, size_t len, int pass_fd)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -1;
    }
    return stk_send_full(fd, buf + n, len - (size_t)n);
}

int stk_send_started(int fd, int32_t sandbox_pid, int32_t command_pid)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE + 8];
    stk_put_u32(frame, STK_EVT_STARTED);
    stk_put_u32(frame + 4, 8);
    stk_put_u32(frame + 8, (uint32_t)sandbox_pid);
    stk_put_u32(frame + 12, (uint32_t)command_pid);
    return stk_send_full(fd, frame, sizeof frame);
}

int stk_send_forked(int fd, int32_t pid, uint32_t err, int pidfd)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE + 8];
    stk_put_u32(frame, STK_EVT_FORKED);
    stk_put_u32(frame + 4, 8);
    stk_put_u32(frame + 8, (uint32_t)pid);
    stk_put_u32(frame + 12, err);
    if (pidfd < 0) {
        return stk_send_full(fd, frame, sizeof frame);
    }
    return send_with_fd(fd, frame, sizeof frame, pidfd);
}

int stk_send_error(int fd, const struct stk_error *e)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE + 16 + STK_MAX_STEP_NAME + STK_MAX_DETAIL];
    const char *step = stk_step_name(e->step);
    uint32_t step_len = (uint32_t)strnlen(step, STK_MAX_STEP_NAME);
    uint32_t detail_len = (uint32_t)strnlen(e->detail, STK_MAX_DETAIL);
    uint32_t payload = 16 + step_len + detail_len;
    uint8_t *p = frame;
    stk_put_u32(p, STK_EVT_ERROR);
    stk_put_u32(p + 4, payload);
    stk_put_u32(p + 8, (uint32_t)e->err);
    stk_put_u32(p + 12, (uint32_t)e->exit_code);
    stk_put_u32(p + 16, step_len);
    memcpy(p + 20, step, step_len);
    p += 20 + step_len;
    stk_put_u32(p, detail_len);
    memcpy(p + 4, e->detail, detail_len);
    return stk_send_full(fd, frame, STK_FRAME_HEADER_SIZE + payload);
}

int stk_send_exited(int fd, const struct stk_exit_report *r, int pass_fd)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE + 72];
    stk_put_u32(frame, STK_EVT_EXITED);
    stk_put_u32(frame + 4, 72);
    stk_put_u32(frame + 8, (uint32_t)r->wait_status);
    stk_put_u32(frame + 12, r->flags);
    stk_put_u64(frame + 16, r->wall_time_ns);
    stk_put_u64(frame + 24, r->user_cpu_us);
    stk_put_u64(frame + 32, r->sys_cpu_us);
    stk_put_u64(frame + 40, r->max_rss_kb);
    stk_put_u64(frame + 48, r->peak_memory_bytes);
    stk_put_u64(frame + 56, r->peak_processes);
    stk_put_u64(frame + 64, r->output_bytes);
    stk_put_u64(frame + 72, r->output_dropped_bytes);
    if (pass_fd >= 0) {
        return send_with_fd(fd, frame, sizeof frame, pass_fd);
    }
    return stk_send_full(fd, frame, sizeof frame);
}

int stk_send_violation(int fd, const struct stk_violation_report *v)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE + 72];
    stk_put_u32(frame, STK_EVT_VIOLATION);
    stk_put_u32(frame + 4, 72);
    stk_put_u32(frame + 8, v->nr);
    stk_put_u32(frame + 12, v->err);
    stk_put_u64(frame + 16, v->count);
    stk_put_u32(frame + 24, (uint32_t)v->pid);
    stk_put_u32(frame + 28, 0);
    for (int i = 0; i < 6; i++) {
        stk_put_u64(frame + 32 + 8 * i, v->args[i]);
    }
    return stk_send_full(fd, frame, sizeof frame);
}

void stk_control_reader_init(struct stk_control_reader *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < STK_CONTROL_MAX_FDS; i++) {
        r->fds[i] = -1;
    }
}

void stk_control_reader_close(struct stk_control_reader *r)
{
    for (size_t i = 0; i < STK_CONTROL_MAX_FDS; i++) {
        if (r->fds[i] >= 0) {
            close(r->fds[i]);
            r->fds[i] = -1;
        }
    }
    r->fd_count = 0;
    r->fds_truncated = false;
}

ssize_t stk_recv_with_fds(int fd, void *buf, size_t len, int flags, int *fds, size_t max,
                          size_t *count, bool *truncated)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(STK_RECV_MAX_FDS * sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data;
    msg.msg_controllen = sizeof control.data;
    ssize_t n = recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        return n;
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0) {
        *truncated = true;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int passed;
            memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
            if (*count < max) {
                fds[(*count)++] = passed;
            } else {
                close(passed);
                *truncated = true;
            }
        }
    }
    return n;
}

/* Never reads past what is asked, so nothing of the next frame (nor of a COMMAND's payload)
 * is taken here. */
static ssize_t receive(int fd, struct stk_control_reader *r, size_t want)
{
    return stk_recv_with_fds(fd, r->buf + r->have, want, MSG_DONTWAIT, r->fds,
                             STK_CONTROL_MAX_FDS, &r->fd_count, &r->fds_truncated);
}

enum stk_control_result stk_control_read(int fd, struct stk_control_reader *r,
                                         uint32_t *kill_mode)
{
    for (;;) {
        size_t want = r->have < STK_FRAME_HEADER_SIZE ? STK_FRAME_HEADER_SIZE - r->have
                                                      : sizeof r->buf - r->have;
        ssize_t n = receive(fd, r, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return STK_CONTROL_NONE;
            }
            return STK_CONTROL_EOF; /* ECONNRESET and friends: the peer is gone */
        }
        if (n == 0) {
            return STK_CONTROL_EOF;
        }
        r->have += (size_t)n;
        if (r->have < STK_FRAME_HEADER_SIZE) {
            continue;
        }
        uint32_t type = stk_get_u32(r->buf);
        if (type == STK_MSG_COMMAND) {
            r->command_len = stk_get_u32(r->buf + 4);
            r->have = 0;
            return STK_CONTROL_COMMAND;
        }
        /* Only KILL frames may follow otherwise; anything else is rejected as soon as its
         * header is visible rather than buffered. Descriptors belong to COMMAND alone. */
        if (type != STK_MSG_KILL || stk_get_u32(r->buf + 4) != 4 || r->fd_count != 0 ||
            r->fds_truncated) {
            stk_control_reader_close(r);
            return STK_CONTROL_BAD;
        }
        if (r->have == sizeof r->buf) {
            *kill_mode = stk_get_u32(r->buf + STK_FRAME_HEADER_SIZE);
            r->have = 0;
            if (*kill_mode != STK_KILL_GRACEFUL && *kill_mode != STK_KILL_NOW) {
                return STK_CONTROL_BAD;
            }
            return STK_CONTROL_KILL;
        }
    }
}

int stk_send_ready(int fd)
{
    uint8_t frame[STK_FRAME_HEADER_SIZE];
    stk_put_u32(frame, STK_EVT_READY);
    stk_put_u32(frame + 4, 0);
    return stk_send_full(fd, frame, sizeof frame);
}
