/* Installing the spec's BPF program (compiled by the JNI library with libseccomp). */
#ifndef STK_SECCOMP_H
#define STK_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

#include "error.h"

/* Installs the filter (no_new_privs must be set). With listener non-NULL the filter gets a
 * user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), returned there close-on-exec.
 * Step "seccomp". Async-signal-safe. */
int stk_seccomp_install(const struct sock_filter *insns, size_t count, int *listener,
                        struct stk_error *err);

/* Verifies the process is in filter mode (PR_GET_SECCOMP). Step "seccomp". */
int stk_seccomp_verify(struct stk_error *err);

#endif
