/* The system calls glibc 2.36 has no wrapper for, used by the directory walk (entries.c) and
 * tested on their own (tests/fs_calls_test.c). Each returns what the call returns and leaves
 * errno set on failure. */
#ifndef STOCKADE_JNI_FS_CALLS_H
#define STOCKADE_JNI_FS_CALLS_H

#include <stdint.h>
#include <sys/types.h>

/* openat2(dirfd, path, {flags | O_CLOEXEC, mode, resolve}), retried on EINTR and (a few times)
 * EAGAIN (RESOLVE_BENEATH answers EAGAIN when a rename elsewhere raced a ".." lookup). */
int stk_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* fchmodat2(fd, "", mode, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) (Linux 6.6): the mode of the
 * inode fd refers to, an O_PATH descriptor too (fchmod(2) refuses those with EBADF); no name is
 * looked up, so it is the inode examined, whatever its name names by now. A link (an O_PATH
 * descriptor of one) gives EOPNOTSUPP. */
int stk_fchmod_fd(int fd, mode_t mode);

/* getdents64(fd, buffer, size): linux_dirent64 records, 0 at the end of the directory. */
long stk_getdents64(int fd, void *buffer, size_t size);

#endif
