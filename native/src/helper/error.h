/*
 * The error every set-up step returns: which step failed, the errno, the exit code the caller
 * sees (125 set-up, 126 not executable, 127 not found) and a short detail (a path, a field).
 *
 * It is a fixed-size value, never allocated, and every function here is async-signal-safe, so
 * the same type travels from the command's process (between fork and exec) to pid 1, to the
 * monitor and finally into the ERROR event.
 */
#ifndef STK_ERROR_H
#define STK_ERROR_H

#include <stddef.h>
#include <stdint.h>

#define STK_STEP_MAX 32
#define STK_DETAIL_MAX 256

#define STK_EXIT_SETUP 125
#define STK_EXIT_NOT_EXECUTABLE 126
#define STK_EXIT_NOT_FOUND 127

struct stk_error {
    char step[STK_STEP_MAX];     /* NUL-terminated */
    int32_t err;                 /* errno */
    int32_t exit_code;           /* 125, 126 or 127 */
    char detail[STK_DETAIL_MAX]; /* NUL-terminated, truncated when too long */
};

/* Fills e (exit code 125) and returns -1, so a step can `return stk_fail(...)`. */
int stk_fail(struct stk_error *e, const char *step, int err, const char *detail);

/* Like stk_fail with the detail "<what> <subject>", e.g. "open_tree /work". */
int stk_fail_on(struct stk_error *e, const char *step, int err, const char *what,
                const char *subject);

/* Appends to the detail (truncating); bytes may be unterminated; NUL bytes become '?'. */
void stk_error_append(struct stk_error *e, const char *text);
void stk_error_append_bytes(struct stk_error *e, const char *bytes, size_t len);
void stk_error_append_u64(struct stk_error *e, uint64_t value);

/* Writes value in decimal with a NUL into out; returns the digit count. */
size_t stk_format_u64(char out[21], uint64_t value);

/* Length of a NUL-terminated string; async-signal-safe. */
size_t stk_strlen(const char *s);

#endif
