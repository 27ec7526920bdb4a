/* Installing the spec's BPF program (compiled by the JNI library with libseccomp). */
#ifndef STK_SECCOMP_H
#define STK_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

#include "error.h"

/* Installs the filter (no_new_privs must be set) and verifies the process is in filter mode.
 * Step "seccomp". Async-signal-safe. */
int stk_seccomp_install(const struct sock_filter *insns, size_t count, struct stk_error *err);

#endif
