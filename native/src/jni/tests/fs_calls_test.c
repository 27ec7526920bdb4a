/* The raw calls of fs_calls.c against the kernel, without a JVM: openat2 refuses symbolic links
 * and escapes with the errno the Java walk relies on, fchmodat2 of a descriptor changes its inode
 * (never a link's target, nor what its name names later), getdents64 lists what is there. Runs
 * the same as root and as an ordinary user. */
#define _GNU_SOURCE
#include "fs_calls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* The errno of a failed stk_openat2, 0 when it succeeded (the fd is closed). */
static int open_errno(int dirfd, const char *path, int flags)
{
    int fd = stk_openat2(dirfd, path, flags, 0, BENEATH);
    if (fd >= 0) {
        (void)close(fd);
        return 0;
    }
    return errno;
}

struct linux_dirent64_head {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static int count_entries(int fd)
{
    char buffer[4096];
    int count = 0;
    long n;
    while ((n = stk_getdents64(fd, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < n;) {
            const struct linux_dirent64_head *d = (const void *)(buffer + at);
            if (strcmp(d->name, ".") != 0 && strcmp(d->name, "..") != 0) {
                count++;
            }
            at += d->reclen;
        }
    }
    return n < 0 ? -1 : count;
}

int main(void)
{
    char dir[] = "/tmp/stockade-fs-calls-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || mkdirat(root, "sub", 0700) != 0 || mkdirat(root, "target", 0500) != 0 ||
        symlinkat("target", root, "link") != 0 || symlinkat("..", root, "sub/up") != 0 ||
        mkfifoat(root, "fifo", 0600) != 0) {
        perror("set-up");
        return 2;
    }
    int file = openat(root, "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (file < 0) {
        perror("file");
        return 2;
    }
    (void)close(file);

    CHECK(open_errno(root, "file", O_RDONLY) == 0, "a plain name opens");
    CHECK(open_errno(root, "link", O_RDONLY) == ELOOP, "a link is not followed");
    CHECK(open_errno(root, "sub/up/file", O_RDONLY) == ELOOP, "nor a link on the way");
    CHECK(open_errno(root, "../x", O_RDONLY) == EXDEV, "no way up");
    CHECK(open_errno(root, "/etc/passwd", O_RDONLY) == EXDEV, "no absolute path");
    CHECK(open_errno(root, "fifo", O_RDONLY | O_NONBLOCK) == 0, "a FIFO opens without a writer");
    CHECK(open_errno(root, "link", O_PATH | O_NOFOLLOW) == 0, "O_PATH|O_NOFOLLOW: the link itself");

    int fd = stk_openat2(root, "file", O_RDONLY, 0, BENEATH);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec always");
    if (fd >= 0) {
        (void)close(fd);
    }

    struct stat st;
    int link = openat(root, "link", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    errno = 0;
    CHECK(link >= 0 && stk_fchmod_fd(link, 0777) != 0 && errno == EOPNOTSUPP,
          "fchmodat2 of a link's descriptor: EOPNOTSUPP, got %s", strerror(errno));
    CHECK(fstatat(root, "target", &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0500,
          "the link's target keeps its mode");
    /* The descriptor's inode changes, not whatever its name names by then. */
    int target = openat(root, "target", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    CHECK(target >= 0 && renameat(root, "target", root, "moved") == 0 &&
              mkdirat(root, "target", 0500) == 0,
          "target swapped: %s", strerror(errno));
    CHECK(stk_fchmod_fd(target, 0750) == 0, "an O_PATH directory: %s", strerror(errno));
    CHECK(fstatat(root, "moved", &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0750,
          "the inode opened changed");
    CHECK(fstatat(root, "target", &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0500,
          "the directory now at its name did not");
    (void)close(link);
    (void)close(target);

    CHECK(count_entries(root) == 6, "getdents64 lists the 6 entries");

    /* Clean up. */
    (void)unlinkat(root, "sub/up", 0);
    (void)unlinkat(root, "sub", AT_REMOVEDIR);
    (void)unlinkat(root, "target", AT_REMOVEDIR);
    (void)unlinkat(root, "moved", AT_REMOVEDIR);
    (void)unlinkat(root, "link", 0);
    (void)unlinkat(root, "fifo", 0);
    (void)unlinkat(root, "file", 0);
    (void)close(root);
    (void)rmdir(dir);
    if (failures != 0) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("fs_calls: all checks passed\n");
    return 0;
}
