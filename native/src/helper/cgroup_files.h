/*
 * Small cgroup files, read and written relative to a directory fd (cgroup_files.c).
 */
#ifndef STK_CGROUP_FILES_H
#define STK_CGROUP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Up to len - 1 bytes of dir_fd/file, NUL-terminated; the length, or -1 with errno. */
ssize_t stk_cg_read_small(int dir_fd, const char *file, char *buf, size_t len);

/* The whole text in one write(2) (a cgroup file takes a value in one write or refuses it);
 * 0 or -1 with errno. */
int stk_cg_write_text(int dir_fd, const char *file, const char *text);

bool stk_cg_has_file(int dir_fd, const char *file);

/* A single number ("123\n"; "max" and a missing file read as 0). */
uint64_t stk_cg_read_number(int dir_fd, const char *file);

/* The value of "key N" in a flat keyed file (memory.events, pids.events, memory.oom_control);
 * 0 when absent or dir_fd is -1. */
uint64_t stk_cg_read_keyed(int dir_fd, const char *file, const char *key);

#endif
