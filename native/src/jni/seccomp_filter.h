/* Compiling a seccomp filter to classic BPF with libseccomp. Plain C (no JNI) so the C tests
 * can install the very programs the Java side gets and try them against the kernel. */
#ifndef STOCKADE_JNI_SECCOMP_FILTER_H
#define STOCKADE_JNI_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define STK_FILTER_MAX_CONDITIONS 6

struct stk_filter_condition {
    int64_t arg;      /* argument index, 0..5 */
    int64_t op;       /* libseccomp SCMP_CMP_* value, 1..7 */
    uint64_t datum_a; /* the value, or the mask for SCMP_CMP_MASKED_EQ */
    uint64_t datum_b; /* the masked value for SCMP_CMP_MASKED_EQ, else 0 */
};

struct stk_filter_rule {
    int syscall;     /* native syscall number */
    uint32_t action; /* SECCOMP_RET_* */
    unsigned int condition_count;
    struct stk_filter_condition conditions[STK_FILTER_MAX_CONDITIONS];
};

struct stk_filter_error {
    const char *call; /* the libseccomp or system call that failed */
    int err;          /* its errno */
    char detail[160]; /* which rule or attribute */
};

/*
 * Builds the filter: default_action for everything no rule matches, a foreign architecture
 * kills the process, on x86_64 the x32 range kills the process, no_new_privs left to the
 * caller, binary-tree dispatch. On success *program is a malloc'd array of struct sock_filter
 * (*length bytes, a multiple of 8, at most 4096 instructions) and 0 is returned; the program's
 * architecture and x32 checks have been verified by running it (bpf_check.h). On failure
 * returns -1 and fills *error.
 */
int stk_filter_compile(uint32_t default_action, const struct stk_filter_rule *rules, size_t count,
                       unsigned char **program, size_t *length, struct stk_filter_error *error);

#endif
