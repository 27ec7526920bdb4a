/*
 * Reading and writing cgroup files relative to a directory fd: a box is looked up by path once,
 * then only through its fds (cgroup.c, cgroup_box.c). Monitor only.
 */
#include "cgroup_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t stk_cg_read_small(int dir_fd, const char *file, char *buf, size_t len)
{
    int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t total = 0;
    while (total + 1 < len) {
        ssize_t n = read(fd, buf + total, len - 1 - total);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        total += (size_t)n;
    }
    close(fd);
    buf[total] = '\0';
    return (ssize_t)total;
}

/* One write of the whole text: a cgroup file takes a value in one write(2) or refuses it. */
int stk_cg_write_text(int dir_fd, const char *file, const char *text)
{
    int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t len = strlen(text);
    ssize_t n;
    do {
        n = write(fd, text, len);
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

bool stk_cg_has_file(int dir_fd, const char *file)
{
    return faccessat(dir_fd, file, F_OK, 0) == 0;
}

/* A single number ("123\n", or "max" read as 0). */
uint64_t stk_cg_read_number(int dir_fd, const char *file)
{
    char buf[64];
    if (stk_cg_read_small(dir_fd, file, buf, sizeof buf) <= 0) {
        return 0;
    }
    return strtoull(buf, NULL, 10);
}

/* The value of "key N" in a flat keyed file (memory.events, pids.events, memory.oom_control). */
uint64_t stk_cg_read_keyed(int dir_fd, const char *file, const char *key)
{
    char buf[4096];
    if (dir_fd < 0 || stk_cg_read_small(dir_fd, file, buf, sizeof buf) <= 0) {
        return 0;
    }
    size_t key_len = strlen(key);
    for (char *line = buf; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
            return strtoull(line + key_len + 1, NULL, 10);
        }
        line = next == NULL ? NULL : next + 1;
    }
    return 0;
}

