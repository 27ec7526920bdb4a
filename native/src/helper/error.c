#include "error.h"

/* Hand-written instead of snprintf: these run between fork and exec, where only
 * async-signal-safe code is allowed. */

size_t stk_strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

int stk_fail(struct stk_error *e, enum stk_step step, int err, const char *detail)
{
    e->step = step;
    e->err = err;
    e->exit_code = STK_EXIT_SETUP;
    e->detail[0] = '\0';
    if (detail != NULL) {
        stk_error_append(e, detail);
    }
    return -1;
}

int stk_fail_on(struct stk_error *e, enum stk_step step, int err, const char *what,
                const char *subject)
{
    stk_fail(e, step, err, what);
    stk_error_append(e, " ");
    stk_error_append(e, subject);
    return -1;
}

void stk_error_append_bytes(struct stk_error *e, const char *bytes, size_t len)
{
    size_t used = stk_strlen(e->detail);
    for (size_t i = 0; i < len && used + 1 < sizeof e->detail; i++) {
        e->detail[used++] = bytes[i] == '\0' ? '?' : bytes[i];
    }
    e->detail[used] = '\0';
}

void stk_error_append(struct stk_error *e, const char *text)
{
    stk_error_append_bytes(e, text, stk_strlen(text));
}

size_t stk_format_u64(char out[21], uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }
    out[n] = '\0';
    return n;
}

void stk_error_append_u64(struct stk_error *e, uint64_t value)
{
    char text[21];
    stk_error_append_bytes(e, text, stk_format_u64(text, value));
}
