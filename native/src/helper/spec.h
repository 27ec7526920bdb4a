/*
 * The SPEC frame decoded and validated (stockade.h, docs/protocol.md). Decoding copies every
 * string into one block with NUL terminators, so the result is ready for execve and for the
 * mount calls without further allocation.
 */
#ifndef STK_SPEC_H
#define STK_SPEC_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "stockade.h"

struct stk_mount {
    uint32_t type;  /* enum stk_mount_type */
    uint32_t flags; /* enum stk_mount_flags, as the type allows (spec.c) */
    uint64_t size;  /* TMPFS/OVERLAY bytes (at least 1), FILE mode, else 0 */
    const char *src;
    const char *dst;
};

/* One REPORT field: the errno pid 1 answers notifications for syscall nr with (0 = let the
 * call run). */
struct stk_report {
    uint32_t nr;
    uint32_t err;
    uint64_t masks[6]; /* all 0 when the field has none */
};

struct stk_user_limit_value {
    uint32_t limit; /* enum stk_user_limit */
    uint64_t value;
};

struct stk_rlimit {
    uint32_t resource;
    uint64_t soft;
    uint64_t hard;
};

struct stk_spec {
    char **argv; /* NULL-terminated, argc >= 1 (0 in a WARM spec) */
    size_t argc;
    char **envp; /* NULL-terminated */
    size_t envc;
    const char *cwd; /* absolute */
    bool has_namespaces;
    uint32_t namespaces;
    bool has_uid, has_gid;
    uint32_t uid, gid;
    const char *hostname; /* NULL when absent */
    size_t hostname_len;
    struct stk_mount *mounts;
    size_t mount_count;
    struct stk_rlimit *rlimits;
    size_t rlimit_count;
    uint64_t timeout_ms; /* 0 = none */
    uint64_t kill_grace_ms;
    struct sock_filter *bpf; /* NULL when absent */
    size_t bpf_len;          /* instructions */
    struct sock_filter *guard_bpf; /* GUARD_BPF, installed before bpf; NULL when absent */
    size_t guard_bpf_len;
    struct stk_report *reports; /* sorted by nr, no duplicates; NULL when absent */
    size_t report_count;
    struct stk_user_limit_value user_limits[STK_USER_LIMIT_COUNT];
    size_t user_limit_count;
    bool has_pty_max;
    uint32_t pty_max;
    /* The cgroup limits; 0 = not asked for (each nonzero one needs the sandbox's cgroups). */
    uint64_t memory_max;
    bool has_memory_swap_max; /* without it: 0 swap when memory_max is set */
    uint64_t memory_swap_max;
    uint64_t pids_max;
    uint32_t cpu_quota_us, cpu_period_us;
    uint64_t max_output;    /* MAX_OUTPUT bytes; 0 = no field, no relay */
    uint32_t output_action; /* enum stk_output_action */
    /* EGRESS: the forwarder's port inside, its bound, the socket it relays to (NULL = no
     * field, no forwarder). */
    uint16_t egress_port;
    uint32_t egress_max_connections;
    uint8_t egress_token[STK_EGRESS_TOKEN_SIZE]; /* sent first on every stream to the socket */
    const char *egress_socket;
    /* WARM: no ARG, ENV or CWD here (argc 0); the COMMAND frame brings them (warm.h). */
    bool warm;

    char *strings; /* the block every string above points into */
};

/* Decodes the SPEC payload (without frame header). On failure fills err (step "spec", errno
 * EINVAL, or EPROTO for magic/version) and leaves *spec empty. */
int stk_spec_decode(const uint8_t *payload, size_t len, struct stk_spec *spec,
                    struct stk_error *err);

void stk_spec_free(struct stk_spec *spec);

/* A warm sandbox's COMMAND payload (no magic or version; ARG, at least one, ENV and CWD only,
 * under the SPEC's bounds and checks): what decoding it needs. Fails like stk_spec_decode. */
struct stk_command_size {
    size_t argc, envc;
    size_t string_bytes; /* every string with its NUL; at most the payload's length */
};
int stk_command_measure(const uint8_t *payload, size_t len, struct stk_command_size *size,
                        struct stk_error *err);

/* Decodes a payload stk_command_measure accepted into command's argv (argc + 1 slots), envp
 * (envc + 1) and strings (string_bytes), which the caller provides; sets argc, envc and cwd
 * (STK_DEFAULT_CWD when absent). Touches nothing else. */
void stk_command_fill(const uint8_t *payload, size_t len, struct stk_spec *command);

#endif
