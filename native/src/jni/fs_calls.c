/* Raw system calls for the directory walk; see fs_calls.h. */
#define _GNU_SOURCE
#include "fs_calls.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's kernel headers (6.1) predate fchmodat2; its number is 452 in the generic table
 * that x86_64 and arm64 share. */
#define STK_OPENAT2_TRIES 16

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

int stk_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? (uint64_t)mode : 0,
        .resolve = resolve,
    };
    long fd;
    /* EAGAIN only repeats while someone keeps renaming; a bound keeps that from spinning. */
    int again = 0;
    do {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++again < STK_OPENAT2_TRIES)));
    return (int)fd;
}

int stk_fchmod_fd(int fd, mode_t mode)
{
    return (int)syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

long stk_getdents64(int fd, void *buffer, size_t size)
{
    long n;
    do {
        n = syscall(SYS_getdents64, fd, buffer, size);
    } while (n < 0 && errno == EINTR);
    return n;
}
