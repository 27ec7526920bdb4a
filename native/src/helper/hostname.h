/* The sandbox's hostname (only with CLONE_NEWUTS, so the host's name never changes). */
#ifndef STK_HOSTNAME_H
#define STK_HOSTNAME_H

#include <stddef.h>

#include "error.h"

/* Step "hostname". Async-signal-safe. */
int stk_hostname_set(const char *name, size_t len, struct stk_error *err);

#endif
