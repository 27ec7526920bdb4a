#include "status.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int stk_record_send(int sock, const struct stk_record *r, int pass_fd)
{
    struct iovec iov = {.iov_base = (void *)r, .iov_len = sizeof *r};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (pass_fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n == (ssize_t)sizeof *r) {
            return 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n >= 0) {
            errno = EPROTO;
        }
        return -1;
    }
}

int stk_record_receive(int sock, struct stk_record *r, int *received_fd, bool wait)
{
    *received_fd = -1;
    struct iovec iov = {.iov_base = r, .iov_len = sizeof *r};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, (wait ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return (int)n;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
        memcpy(received_fd, CMSG_DATA(c), sizeof(int));
    }
    /* An error whose step is outside enum stk_step (only a corrupted record has one) would
     * have no name to send. */
    if (n != (ssize_t)sizeof *r || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
        (r->kind == STK_REC_ERROR && stk_step_name(r->error.step) == NULL)) {
        if (*received_fd >= 0) {
            close(*received_fd);
            *received_fd = -1;
        }
        errno = EPROTO;
        return -1;
    }
    r->error.detail[sizeof r->error.detail - 1] = '\0';
    return 1;
}

int stk_record_send_error(int sock, const struct stk_error *e)
{
    struct stk_record r = {.kind = STK_REC_ERROR, .error = *e};
    return stk_record_send(sock, &r, -1);
}

_Noreturn void stk_record_error_exit(int sock, const struct stk_error *e)
{
    stk_record_send_error(sock, e);
    _exit(e->exit_code);
}
