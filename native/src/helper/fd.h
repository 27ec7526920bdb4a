/*
 * Closing a descriptor on every path out of a function. Plain C11 instead of
 * __attribute__((cleanup)) (a GCC/Clang extension the project's C rules keep out): a function
 * that owns fds initialises them to -1, leaves through one exit, and closes them there.
 */
#ifndef STK_FD_H
#define STK_FD_H

#include <errno.h>
#include <unistd.h>

/* Closes *fd unless it is -1, then sets it to -1, so calling it twice is harmless. errno is
 * kept: a failed step reports the errno of the call that failed, not of the close after it.
 * Async-signal-safe. */
static inline void stk_close_fd(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        *fd = -1;
        errno = saved;
    }
}

#endif
