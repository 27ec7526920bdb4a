#include "status.h"

#include <errno.h>
#include <unistd.h>

int stk_record_write(int fd, const struct stk_record *r)
{
    for (;;) {
        ssize_t n = write(fd, r, sizeof *r);
        if (n == (ssize_t)sizeof *r) {
            return 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n >= 0) {
            errno = EPROTO; /* cannot happen for <= PIPE_BUF on a pipe */
        }
        return -1;
    }
}

int stk_record_read(int fd, struct stk_record *r)
{
    for (;;) {
        ssize_t n = read(fd, r, sizeof *r);
        if (n == (ssize_t)sizeof *r) {
            /* The step and detail come from another process: never trust the terminator. */
            r->error.step[sizeof r->error.step - 1] = '\0';
            r->error.detail[sizeof r->error.detail - 1] = '\0';
            return 1;
        }
        if (n == 0) {
            return 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n > 0) {
            errno = EPROTO;
        }
        return -1;
    }
}
