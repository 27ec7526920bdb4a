/*
 * The error every set-up step returns: which step failed (enum stk_step, stockade.h), the
 * errno, the exit code the caller sees (STK_EXIT_SETUP, STK_EXIT_NOT_EXECUTABLE,
 * STK_EXIT_NOT_FOUND) and a short detail (a path, a field).
 *
 * It is a fixed-size value, never allocated, and every function here is async-signal-safe, so
 * the same type travels from the command's process (between fork and exec) to pid 1, to the
 * monitor and finally into the ERROR event.
 */
#ifndef STK_ERROR_H
#define STK_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "stockade.h"

struct stk_error {
    enum stk_step step;
    int32_t err;                        /* errno */
    int32_t exit_code;                  /* 125, 126 or 127 */
    char detail[STK_MAX_DETAIL + 1];    /* NUL-terminated, truncated when too long */
};

/* Fills e (exit code STK_EXIT_SETUP) and returns -1, so a step can `return stk_fail(...)`. */
int stk_fail(struct stk_error *e, enum stk_step step, int err, const char *detail);

/* Like stk_fail with the detail "<what> <subject>", e.g. "open_tree /work". */
int stk_fail_on(struct stk_error *e, enum stk_step step, int err, const char *what,
                const char *subject);

/* The step's name on the wire (stockade.h: lower case, underscores), NULL for a value that is
 * not a member of enum stk_step. Async-signal-safe. */
const char *stk_step_name(enum stk_step step);

/* Appends to the detail (truncating); bytes may be unterminated; NUL bytes become '?'. */
void stk_error_append(struct stk_error *e, const char *text);
void stk_error_append_bytes(struct stk_error *e, const char *bytes, size_t len);
void stk_error_append_u64(struct stk_error *e, uint64_t value);

/* Writes value in decimal with a NUL into out; returns the digit count. */
size_t stk_format_u64(char out[21], uint64_t value);

/* Length of a NUL-terminated string; async-signal-safe. */
size_t stk_strlen(const char *s);

#endif
