#include "spec.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "frame.h"
#include "stockade.h"

/*
 * Two passes over the payload: the first checks every field's framing and counts what needs
 * storage, the second copies. A malformed spec is rejected before anything is allocated, and
 * the second pass can trust the framing.
 *
 * Why one file of about 600 lines: the two passes read the same wire format field by field and
 * must agree on every field's layout; kept side by side, a change to one field's check and copy
 * is one edit in one place, and a reader can hold them against each other. The checks are the
 * last guard against a corrupted or hostile spec (the Java side reports every bound first: a
 * policy's at SandboxPolicy.build(), a call's when start() resolves it; design rule 9).
 */

static const char *tag_name(uint16_t tag)
{
    switch (tag) {
    case STK_F_ARG: return "ARG";
    case STK_F_ENV: return "ENV";
    case STK_F_CWD: return "CWD";
    case STK_F_NAMESPACES: return "NAMESPACES";
    case STK_F_UID: return "UID";
    case STK_F_GID: return "GID";
    case STK_F_HOSTNAME: return "HOSTNAME";
    case STK_F_MOUNT: return "MOUNT";
    case STK_F_RLIMIT: return "RLIMIT";
    case STK_F_TIMEOUT_MS: return "TIMEOUT_MS";
    case STK_F_KILL_GRACE_MS: return "KILL_GRACE_MS";
    case STK_F_SECCOMP_BPF: return "SECCOMP_BPF";
    case STK_F_REPORT: return "REPORT";
    case STK_F_GUARD_BPF: return "GUARD_BPF";
    case STK_F_USER_LIMIT: return "USER_LIMIT";
    case STK_F_PTY_MAX: return "PTY_MAX";
    case STK_F_MEMORY_MAX: return "MEMORY_MAX";
    case STK_F_MEMORY_SWAP_MAX: return "MEMORY_SWAP_MAX";
    case STK_F_PIDS_MAX: return "PIDS_MAX";
    case STK_F_CPU_MAX: return "CPU_MAX";
    case STK_F_MAX_OUTPUT: return "MAX_OUTPUT";
    case STK_F_EGRESS: return "EGRESS";
    case STK_F_WARM: return "WARM";
    default: return NULL;
    }
}

static int invalid(struct stk_error *err, const char *field, const char *problem)
{
    stk_fail(err, STK_STEP_SPEC, EINVAL, field);
    stk_error_append(err, ": ");
    stk_error_append(err, problem);
    return -1;
}

static int invalid_index(struct stk_error *err, const char *field, size_t index,
                         const char *problem)
{
    stk_fail(err, STK_STEP_SPEC, EINVAL, field);
    stk_error_append(err, " #");
    stk_error_append_u64(err, index);
    stk_error_append(err, ": ");
    stk_error_append(err, problem);
    return -1;
}

/* Strings are raw bytes without NUL (stockade.h). */
static int check_string(const uint8_t *v, size_t len, struct stk_error *err, const char *field,
                        size_t index)
{
    if (len > STK_MAX_STRING) {
        return invalid_index(err, field, index, "longer than STK_MAX_STRING");
    }
    if (memchr(v, '\0', len) != NULL) {
        return invalid_index(err, field, index, "contains a NUL byte");
    }
    return 0;
}

/* Mount destinations are compared as strings when pid 1 decides where it may create a mount
 * point, so only the canonical form is accepted: absolute, no "." or ".." component, no empty
 * component (no "//", no trailing '/'), and not "/" itself. */
static bool canonical_mount_path(const uint8_t *p, size_t len)
{
    if (len < 2 || p[0] != '/' || p[len - 1] == '/') {
        return false;
    }
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || p[i] == '/') {
            size_t n = i - start;
            if (n == 0 || (n == 1 && p[start] == '.') ||
                (n == 2 && p[start] == '.' && p[start + 1] == '.')) {
                return false;
            }
            start = i + 1;
        }
    }
    return true;
}

struct counts {
    size_t args, envs, mounts, rlimits, reports, bpf_insns, guard_insns, string_bytes, strings;
    size_t user_limits;
    bool seen[STK_F_WARM + 1]; /* indexed by tag: the highest one + 1 */
    bool user_limit_seen[STK_USER_LIMIT_COUNT];
};

/* src is a host path the helper opens: absolute, at most STK_MAX_MOUNT_PATH bytes. */
static int check_host_src(const uint8_t *src, size_t src_len, const char *type, size_t index,
                          struct stk_error *err)
{
    if (src_len == 0 || src[0] != '/' || src_len > STK_MAX_MOUNT_PATH) {
        invalid_index(err, "MOUNT", index, type);
        stk_error_append(err, " src must be an absolute path of at most ");
        stk_error_append_u64(err, STK_MAX_MOUNT_PATH);
        stk_error_append(err, " bytes");
        return -1;
    }
    return 0;
}

static int check_bind(uint32_t flags, uint64_t size, const uint8_t *src, size_t src_len,
                      size_t index, struct stk_error *err)
{
    const uint32_t known = STK_MOUNT_READONLY | STK_MOUNT_IDMAP | STK_MOUNT_SPECIAL |
                           STK_MOUNT_IDMAP_OWNER;
    if ((flags & ~known) != 0) {
        return invalid_index(err, "MOUNT", index, "unknown flags for BIND");
    }
    /* A writable idmapped bind would create files owned by host root, set-user-ID
     * included. */
    if ((flags & STK_MOUNT_IDMAP) != 0 && (flags & STK_MOUNT_READONLY) == 0) {
        return invalid_index(err, "MOUNT", index, "IDMAP needs READONLY");
    }
    /* One idmapping per mount; IDMAP_OWNER exists for writing. */
    if ((flags & STK_MOUNT_IDMAP_OWNER) != 0 &&
        (flags & (STK_MOUNT_READONLY | STK_MOUNT_IDMAP)) != 0) {
        return invalid_index(err, "MOUNT", index, "IDMAP_OWNER excludes READONLY and IDMAP");
    }
    if (size != 0) {
        return invalid_index(err, "MOUNT", index, "BIND with a size");
    }
    return check_host_src(src, src_len, "BIND", index, err);
}

static int check_protect(uint32_t flags, uint64_t size, const uint8_t *src, size_t src_len,
                         size_t index, struct stk_error *err)
{
    const uint32_t known = STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY;
    if ((flags & ~known) != 0) {
        return invalid_index(err, "MOUNT", index, "unknown flags for PROTECT");
    }
    if ((flags & STK_MOUNT_DIRECTORY) != 0 && (flags & STK_MOUNT_CREATE) == 0) {
        return invalid_index(err, "MOUNT", index, "PROTECT DIRECTORY needs CREATE");
    }
    /* A placeholder exists only to be covered read-only: a writable one would let the
     * sandbox create the very path that was missing. */
    if ((flags & STK_MOUNT_CREATE) != 0 && (flags & STK_MOUNT_READONLY) == 0) {
        return invalid_index(err, "MOUNT", index, "PROTECT CREATE needs READONLY");
    }
    if (size != 0) {
        return invalid_index(err, "MOUNT", index, "PROTECT with a size");
    }
    return check_host_src(src, src_len, "PROTECT", index, err);
}

/* The per-type rules of stockade.h's stk_mount_type and stk_mount_flags comments. */
static int check_mount_kind(uint32_t type, uint32_t flags, uint64_t size, const uint8_t *src,
                            size_t src_len, size_t index, struct stk_error *err)
{
    switch (type) {
    case STK_MOUNT_BIND: return check_bind(flags, size, src, src_len, index, err);
    case STK_MOUNT_TMPFS:
        if ((flags & ~(uint32_t)STK_MOUNT_PRIVATE) != 0) {
            return invalid_index(err, "MOUNT", index, "TMPFS takes no flags but PRIVATE");
        }
        if (src_len != 0) {
            return invalid_index(err, "MOUNT", index, "TMPFS with a src");
        }
        /* size=0 would mean no bound at all: half of the host's memory. */
        return size == 0 ? invalid_index(err, "MOUNT", index, "TMPFS needs a size") : 0;
    case STK_MOUNT_SYMLINK:
        if (flags != 0 || size != 0) {
            return invalid_index(err, "MOUNT", index, "SYMLINK takes no flags and no size");
        }
        if (src_len == 0 || src_len > STK_MAX_MOUNT_PATH) {
            invalid_index(err, "MOUNT", index, "SYMLINK src must be 1 to ");
            stk_error_append_u64(err, STK_MAX_MOUNT_PATH);
            stk_error_append(err, " bytes");
            return -1;
        }
        return 0;
    case STK_MOUNT_OVERLAY:
        if ((flags & ~(uint32_t)STK_MOUNT_TRANSACTIONAL) != 0) {
            return invalid_index(err, "MOUNT", index, "OVERLAY takes no flags but TRANSACTIONAL");
        }
        if (size == 0) {
            return invalid_index(err, "MOUNT", index, "OVERLAY needs a size (its upper tmpfs)");
        }
        return check_host_src(src, src_len, "OVERLAY", index, err);
    case STK_MOUNT_FILE:
        if (flags != 0) {
            return invalid_index(err, "MOUNT", index, "FILE takes no flags");
        }
        if (size > STK_MAX_FILE_MODE) {
            invalid_index(err, "MOUNT", index, "FILE mode (size) above ");
            stk_error_append_u64(err, STK_MAX_FILE_MODE);
            return -1;
        }
        return 0;
    case STK_MOUNT_PROTECT: return check_protect(flags, size, src, src_len, index, err);
    default: return invalid_index(err, "MOUNT", index, "unknown mount type");
    }
}

static int check_mount(const uint8_t *v, size_t len, size_t index, struct counts *c,
                       struct stk_error *err)
{
    if (len < 24) {
        return invalid_index(err, "MOUNT", index, "shorter than its fixed part");
    }
    uint32_t type = stk_get_u32(v);
    uint32_t flags = stk_get_u32(v + 4);
    uint64_t size = stk_get_u64(v + 8);
    uint32_t src_len = stk_get_u32(v + 16);
    if (src_len > len - 24) {
        return invalid_index(err, "MOUNT", index, "src length beyond the field");
    }
    const uint8_t *src = v + 20;
    size_t rest = len - 20 - src_len;
    if (rest < 4) {
        return invalid_index(err, "MOUNT", index, "dst length missing");
    }
    uint32_t dst_len = stk_get_u32(src + src_len);
    if (dst_len != rest - 4) {
        return invalid_index(err, "MOUNT", index, "dst length does not match the field");
    }
    const uint8_t *dst = src + src_len + 4;
    if (check_string(src, src_len, err, "MOUNT src", index) < 0 ||
        check_string(dst, dst_len, err, "MOUNT dst", index) < 0) {
        return -1;
    }
    if (dst_len > STK_MAX_MOUNT_PATH || !canonical_mount_path(dst, dst_len)) {
        invalid_index(err, "MOUNT", index,
                      "dst must be a canonical absolute path other than / "
                      "(no . or .. or empty components, at most ");
        stk_error_append_u64(err, STK_MAX_MOUNT_PATH);
        stk_error_append(err, " bytes)");
        return -1;
    }
    if (check_mount_kind(type, flags, size, src, src_len, index, err) < 0) {
        return -1;
    }
    c->string_bytes += (size_t)src_len + dst_len + 2;
    return 0;
}

/* The cgroup limits: a value the kernel would refuse or misread (memory.max below a few pages
 * ends every process at once; "max" is what no value means) is refused here. */
static int check_cgroup_field(uint16_t tag, const uint8_t *v, size_t len, struct stk_error *err)
{
    const char *name = tag_name(tag);
    if (tag == STK_F_CPU_MAX) {
        if (len != 8) {
            return invalid(err, name, "length is not 8");
        }
        uint32_t quota = stk_get_u32(v);
        uint32_t period = stk_get_u32(v + 4);
        if (period < STK_MIN_CPU_PERIOD_US || period > STK_MAX_CPU_PERIOD_US ||
            quota < STK_MIN_CPU_QUOTA_US) {
            return invalid(err, name, "period must be 1000..1000000 us and quota at least 1000 us");
        }
        return 0;
    }
    if (len != 8) {
        return invalid(err, name, "length is not 8");
    }
    uint64_t value = stk_get_u64(v);
    /* Below 2^62: the kernel's page counters and v1's signed files hold it as given. */
    if (value >= (1ull << 62)) {
        return invalid(err, name, "above 2^62");
    }
    if (tag == STK_F_MEMORY_MAX && value < STK_MIN_MEMORY_MAX) {
        invalid(err, name, "below ");
        stk_error_append_u64(err, STK_MIN_MEMORY_MAX);
        return -1;
    }
    if (tag == STK_F_PIDS_MAX && (value == 0 || value > STK_MAX_PIDS)) {
        invalid(err, name, "must be 1..");
        stk_error_append_u64(err, STK_MAX_PIDS);
        return -1;
    }
    return 0;
}

/* The socket path is connect()ed by the forwarder: it must fit a sockaddr_un with its NUL. */
static int check_egress(const uint8_t *v, size_t len, struct counts *c, struct stk_error *err)
{
    if (len < 8 + STK_EGRESS_TOKEN_SIZE + 1) {
        return invalid(err, "EGRESS", "shorter than port, max_connections, token and path");
    }
    uint32_t port = stk_get_u32(v);
    uint32_t max = stk_get_u32(v + 4);
    if (port == 0 || port > 65535) {
        return invalid(err, "EGRESS", "port must be 1..65535");
    }
    if (max == 0 || max > STK_EGRESS_MAX_CONNECTIONS) {
        invalid(err, "EGRESS", "max_connections must be 1..");
        stk_error_append_u64(err, STK_EGRESS_MAX_CONNECTIONS);
        return -1;
    }
    const uint8_t *path = v + 8 + STK_EGRESS_TOKEN_SIZE;
    size_t path_len = len - 8 - STK_EGRESS_TOKEN_SIZE;
    if (check_string(path, path_len, err, "EGRESS", 0) < 0) {
        return -1;
    }
    if (path[0] != '/' || path_len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        invalid(err, "EGRESS", "the socket path must be absolute and shorter than ");
        stk_error_append_u64(err, sizeof(((struct sockaddr_un *)0)->sun_path));
        stk_error_append(err, " bytes");
        return -1;
    }
    c->string_bytes += path_len + 1;
    return 0;
}

static int check_field(uint16_t tag, const uint8_t *v, size_t len, struct counts *c,
                       struct stk_error *err)
{
    const char *name = tag_name(tag);
    bool repeated = tag == STK_F_ARG || tag == STK_F_ENV || tag == STK_F_MOUNT ||
                    tag == STK_F_RLIMIT || tag == STK_F_REPORT || tag == STK_F_USER_LIMIT;
    if (!repeated && c->seen[tag]) {
        return invalid(err, name, "appears more than once");
    }
    c->seen[tag] = true;
    switch (tag) {
    case STK_F_ARG:
        if (c->args == STK_MAX_ARGS) {
            return invalid(err, "ARG", "more than STK_MAX_ARGS arguments");
        }
        if (check_string(v, len, err, "ARG", c->args) < 0) {
            return -1;
        }
        c->args++;
        c->strings++;
        c->string_bytes += len + 1;
        return 0;
    case STK_F_ENV:
        if (c->envs == STK_MAX_ENV) {
            return invalid(err, "ENV", "more than STK_MAX_ENV variables");
        }
        if (check_string(v, len, err, "ENV", c->envs) < 0) {
            return -1;
        }
        {
            const uint8_t *eq = memchr(v, '=', len);
            if (eq == NULL || eq == v) {
                return invalid_index(err, "ENV", c->envs, "not of the form NAME=VALUE");
            }
        }
        c->envs++;
        c->strings++;
        c->string_bytes += len + 1;
        return 0;
    case STK_F_CWD:
        if (check_string(v, len, err, "CWD", 0) < 0) {
            return -1;
        }
        if (len == 0 || v[0] != '/') {
            return invalid(err, "CWD", "not an absolute path");
        }
        c->string_bytes += len + 1;
        return 0;
    case STK_F_NAMESPACES:
        if (len != 4) {
            return invalid(err, "NAMESPACES", "length is not 4");
        }
        if ((stk_get_u32(v) & ~(uint32_t)STK_ALLOWED_NAMESPACES) != 0) {
            return invalid(err, "NAMESPACES", "bits other than CLONE_NEWUSER|NEWPID|NEWNS|"
                                              "NEWNET|NEWIPC|NEWUTS|NEWCGROUP");
        }
        return 0;
    case STK_F_UID:
    case STK_F_GID:
        if (len != 4) {
            return invalid(err, name, "length is not 4");
        }
        if (stk_get_u32(v) == UINT32_MAX) {
            return invalid(err, name, "(uid_t)-1 is not an id");
        }
        return 0;
    case STK_F_HOSTNAME:
        if (check_string(v, len, err, "HOSTNAME", 0) < 0) {
            return -1;
        }
        if (len == 0 || len > STK_MAX_HOSTNAME) {
            return invalid(err, "HOSTNAME", "must be 1..64 bytes");
        }
        c->string_bytes += len + 1;
        return 0;
    case STK_F_MOUNT:
        if (c->mounts == STK_MAX_MOUNTS) {
            return invalid(err, "MOUNT", "more than STK_MAX_MOUNTS mounts");
        }
        if (check_mount(v, len, c->mounts, c, err) < 0) {
            return -1;
        }
        c->mounts++;
        return 0;
    case STK_F_RLIMIT:
        if (c->rlimits == STK_MAX_RLIMITS) {
            return invalid(err, "RLIMIT", "more than STK_MAX_RLIMITS limits");
        }
        if (len != 24) {
            return invalid_index(err, "RLIMIT", c->rlimits, "length is not 24");
        }
        if (stk_get_u32(v) >= RLIM_NLIMITS) {
            return invalid_index(err, "RLIMIT", c->rlimits, "resource >= RLIM_NLIMITS");
        }
        if (stk_get_u32(v + 4) != 0) {
            return invalid_index(err, "RLIMIT", c->rlimits, "reserved word is not 0");
        }
        if (stk_get_u64(v + 8) > stk_get_u64(v + 16)) {
            return invalid_index(err, "RLIMIT", c->rlimits, "soft limit above hard limit");
        }
        c->rlimits++;
        return 0;
    case STK_F_TIMEOUT_MS:
    case STK_F_KILL_GRACE_MS:
        if (len != 8) {
            return invalid(err, name, "length is not 8");
        }
        if (stk_get_u64(v) > STK_MAX_DURATION_MS) {
            invalid(err, name, "above ");
            stk_error_append_u64(err, STK_MAX_DURATION_MS);
            stk_error_append(err, " ms");
            return -1;
        }
        return 0;
    case STK_F_SECCOMP_BPF:
    case STK_F_GUARD_BPF:
        if (len % 8 != 0) {
            return invalid(err, name, "length is not a multiple of 8");
        }
        if (len == 0 || len / 8 > STK_MAX_BPF_INSNS) {
            invalid(err, name, "must hold 1..");
            stk_error_append_u64(err, STK_MAX_BPF_INSNS);
            stk_error_append(err, " instructions");
            return -1;
        }
        if (tag == STK_F_SECCOMP_BPF) {
            c->bpf_insns = len / 8;
        } else {
            c->guard_insns = len / 8;
        }
        return 0;
    case STK_F_REPORT:
        if (c->reports == STK_MAX_REPORTS) {
            invalid(err, "REPORT", "more than ");
            stk_error_append_u64(err, STK_MAX_REPORTS);
            stk_error_append(err, " syscalls");
            return -1;
        }
        if (len != 8 && len != 56) {
            return invalid_index(err, "REPORT", c->reports, "length is not 8 or 56");
        }
        if (stk_get_u32(v) >= STK_MAX_REPORT_NR) {
            invalid_index(err, "REPORT", c->reports, "syscall number >= ");
            stk_error_append_u64(err, STK_MAX_REPORT_NR);
            return -1;
        }
        if (stk_get_u32(v + 4) > STK_MAX_REPORT_ERRNO) {
            invalid_index(err, "REPORT", c->reports, "errno above ");
            stk_error_append_u64(err, STK_MAX_REPORT_ERRNO);
            return -1;
        }
        /* The command hands the listener to pid 1 with sendmsg after the filter is in place;
         * a notification for that call would wait for an answer nobody can give yet. */
        if (stk_get_u32(v) == (uint32_t)SYS_sendmsg) {
            return invalid_index(err, "REPORT", c->reports,
                                 "sendmsg cannot be reported (it hands the listener to pid 1)");
        }
        c->reports++;
        return 0;
    case STK_F_USER_LIMIT:
        if (len != 16) {
            return invalid_index(err, "USER_LIMIT", c->user_limits, "length is not 16");
        }
        if (stk_get_u32(v) >= STK_USER_LIMIT_COUNT) {
            return invalid_index(err, "USER_LIMIT", c->user_limits, "unknown limit");
        }
        if (c->user_limit_seen[stk_get_u32(v)]) {
            return invalid_index(err, "USER_LIMIT", c->user_limits, "limit given twice");
        }
        if (stk_get_u32(v + 4) != 0) {
            return invalid_index(err, "USER_LIMIT", c->user_limits, "reserved word is not 0");
        }
        if (stk_get_u64(v + 8) > STK_MAX_USER_LIMIT_VALUE) {
            return invalid_index(err, "USER_LIMIT", c->user_limits, "value above 2^31-1");
        }
        c->user_limit_seen[stk_get_u32(v)] = true;
        c->user_limits++;
        return 0;
    case STK_F_PTY_MAX:
        if (len != 4) {
            return invalid(err, "PTY_MAX", "length is not 4");
        }
        if (stk_get_u32(v) == 0 || stk_get_u32(v) > STK_MAX_PTYS) {
            return invalid(err, "PTY_MAX", "must be 1..1048576");
        }
        return 0;
    case STK_F_MEMORY_MAX:
    case STK_F_MEMORY_SWAP_MAX:
    case STK_F_PIDS_MAX:
    case STK_F_CPU_MAX:
        return check_cgroup_field(tag, v, len, err);
    case STK_F_MAX_OUTPUT:
        if (len != 16) {
            return invalid(err, "MAX_OUTPUT", "length is not 16");
        }
        if (stk_get_u64(v) == 0 || stk_get_u64(v) > STK_MAX_OUTPUT_BYTES) {
            return invalid(err, "MAX_OUTPUT", "bytes must be 1..2^62");
        }
        if (stk_get_u32(v + 8) != STK_OUTPUT_DROP && stk_get_u32(v + 8) != STK_OUTPUT_KILL) {
            return invalid(err, "MAX_OUTPUT", "unknown action");
        }
        if (stk_get_u32(v + 12) != 0) {
            return invalid(err, "MAX_OUTPUT", "reserved word is not 0");
        }
        return 0;
    case STK_F_EGRESS:
        return check_egress(v, len, c, err);
    case STK_F_WARM:
        if (len != 0) {
            return invalid(err, "WARM", "length is not 0");
        }
        return 0;
    default:
        return -1; /* unreachable: unknown tags are rejected by the caller */
    }
}

static int read_header(const uint8_t *payload, size_t len, struct stk_error *err)
{
    if (len < 8) {
        return stk_fail(err, STK_STEP_SPEC, EPROTO, "payload shorter than magic and version");
    }
    if (stk_get_u32(payload) != STK_MAGIC) {
        return stk_fail(err, STK_STEP_SPEC, EPROTO, "bad magic (not a Stockade spec)");
    }
    uint32_t version = stk_get_u32(payload + 4);
    if (version != STK_VERSION) {
        stk_fail(err, STK_STEP_SPEC, EPROTO, "protocol version ");
        stk_error_append_u64(err, version);
        stk_error_append(err, ", this helper speaks version ");
        stk_error_append_u64(err, STK_VERSION);
        return -1;
    }
    return 0;
}

/* The fields a COMMAND frame may carry: the command part of a spec. */
static bool command_field(uint16_t tag)
{
    return tag == STK_F_ARG || tag == STK_F_ENV || tag == STK_F_CWD;
}

/* First pass: framing, per-field checks, counts, from off (8 in a SPEC: after magic and
 * version; 0 in a COMMAND, which has only the command's fields). */
static int check_all(const uint8_t *payload, size_t len, size_t off, bool command,
                     struct counts *c, struct stk_error *err)
{
    while (off < len) {
        if (len - off < 8) {
            stk_fail(err, STK_STEP_SPEC, EINVAL, "truncated field header at offset ");
            stk_error_append_u64(err, off);
            return -1;
        }
        uint16_t tag = stk_get_u16(payload + off);
        uint16_t reserved = stk_get_u16(payload + off + 2);
        uint32_t flen = stk_get_u32(payload + off + 4);
        if (tag_name(tag) == NULL) {
            stk_fail(err, STK_STEP_SPEC, EINVAL, "unknown tag ");
            stk_error_append_u64(err, tag);
            stk_error_append(err, " at offset ");
            stk_error_append_u64(err, off);
            return -1;
        }
        if (reserved != 0) {
            return invalid(err, tag_name(tag), "reserved field header bits are not 0");
        }
        if (command && !command_field(tag)) {
            return invalid(err, tag_name(tag), "not allowed in COMMAND (only ARG, ENV and CWD)");
        }
        if (flen > len - off - 8) {
            stk_fail(err, STK_STEP_SPEC, EINVAL, tag_name(tag));
            stk_error_append(err, ": truncated field (length ");
            stk_error_append_u64(err, flen);
            stk_error_append(err, " beyond the payload)");
            return -1;
        }
        if (check_field(tag, payload + off + 8, flen, c, err) < 0) {
            return -1;
        }
        off += 8 + (size_t)flen;
    }
    bool warm = c->seen[STK_F_WARM];
    if (warm && (c->seen[STK_F_ARG] || c->seen[STK_F_ENV] || c->seen[STK_F_CWD])) {
        return invalid(err, "WARM", "a warm spec has no ARG, ENV or CWD (COMMAND carries them)");
    }
    if (c->args == 0 && !warm) {
        return invalid(err, "ARG", "at least one is required (argv[0] is the program)");
    }
    if (c->reports > 0 && !c->seen[STK_F_SECCOMP_BPF]) {
        return invalid(err, "REPORT", "needs SECCOMP_BPF (only a filter sends notifications)");
    }
    return 0;
}

static void copy_program(struct sock_filter *out, const uint8_t *v, size_t insns)
{
    for (size_t i = 0; i < insns; i++) {
        const uint8_t *insn = v + 8 * i;
        out[i].code = stk_get_u16(insn);
        out[i].jt = insn[2];
        out[i].jf = insn[3];
        out[i].k = stk_get_u32(insn + 4);
    }
}

static char *copy_string(char **cursor, const uint8_t *v, size_t len)
{
    char *s = *cursor;
    memcpy(s, v, len);
    s[len] = '\0';
    *cursor += len + 1;
    return s;
}

static void fill(const uint8_t *payload, size_t len, size_t off, struct stk_spec *s)
{
    char *cursor = s->strings;
    while (off < len) {
        uint16_t tag = stk_get_u16(payload + off);
        size_t flen = stk_get_u32(payload + off + 4);
        const uint8_t *v = payload + off + 8;
        switch (tag) {
        case STK_F_ARG: s->argv[s->argc++] = copy_string(&cursor, v, flen); break;
        case STK_F_ENV: s->envp[s->envc++] = copy_string(&cursor, v, flen); break;
        case STK_F_CWD: s->cwd = copy_string(&cursor, v, flen); break;
        case STK_F_NAMESPACES:
            s->has_namespaces = true;
            s->namespaces = stk_get_u32(v);
            break;
        case STK_F_UID:
            s->has_uid = true;
            s->uid = stk_get_u32(v);
            break;
        case STK_F_GID:
            s->has_gid = true;
            s->gid = stk_get_u32(v);
            break;
        case STK_F_HOSTNAME:
            s->hostname = copy_string(&cursor, v, flen);
            s->hostname_len = flen;
            break;
        case STK_F_MOUNT: {
            struct stk_mount *m = &s->mounts[s->mount_count++];
            size_t src_len = stk_get_u32(v + 16);
            m->type = stk_get_u32(v);
            m->flags = stk_get_u32(v + 4);
            m->size = stk_get_u64(v + 8);
            m->src = copy_string(&cursor, v + 20, src_len);
            m->dst = copy_string(&cursor, v + 24 + src_len, stk_get_u32(v + 20 + src_len));
            break;
        }
        case STK_F_RLIMIT: {
            struct stk_rlimit *r = &s->rlimits[s->rlimit_count++];
            r->resource = stk_get_u32(v);
            r->soft = stk_get_u64(v + 8);
            r->hard = stk_get_u64(v + 16);
            break;
        }
        case STK_F_TIMEOUT_MS: s->timeout_ms = stk_get_u64(v); break;
        case STK_F_KILL_GRACE_MS: s->kill_grace_ms = stk_get_u64(v); break;
        case STK_F_SECCOMP_BPF:
            s->bpf_len = flen / 8;
            copy_program(s->bpf, v, s->bpf_len);
            break;
        case STK_F_GUARD_BPF:
            s->guard_bpf_len = flen / 8;
            copy_program(s->guard_bpf, v, s->guard_bpf_len);
            break;
        case STK_F_USER_LIMIT: {
            struct stk_user_limit_value *l = &s->user_limits[s->user_limit_count++];
            l->limit = stk_get_u32(v);
            l->value = stk_get_u64(v + 8);
            break;
        }
        case STK_F_PTY_MAX:
            s->has_pty_max = true;
            s->pty_max = stk_get_u32(v);
            break;
        case STK_F_MEMORY_MAX: s->memory_max = stk_get_u64(v); break;
        case STK_F_MEMORY_SWAP_MAX:
            s->has_memory_swap_max = true;
            s->memory_swap_max = stk_get_u64(v);
            break;
        case STK_F_PIDS_MAX: s->pids_max = stk_get_u64(v); break;
        case STK_F_CPU_MAX:
            s->cpu_quota_us = stk_get_u32(v);
            s->cpu_period_us = stk_get_u32(v + 4);
            break;
        case STK_F_MAX_OUTPUT:
            s->max_output = stk_get_u64(v);
            s->output_action = stk_get_u32(v + 8);
            break;
        case STK_F_EGRESS:
            s->egress_port = (uint16_t)stk_get_u32(v);
            s->egress_max_connections = stk_get_u32(v + 4);
            memcpy(s->egress_token, v + 8, STK_EGRESS_TOKEN_SIZE);
            s->egress_socket = copy_string(&cursor, v + 8 + STK_EGRESS_TOKEN_SIZE,
                                           flen - 8 - STK_EGRESS_TOKEN_SIZE);
            break;
        case STK_F_REPORT: {
            struct stk_report *r = &s->reports[s->report_count++];
            r->nr = stk_get_u32(v);
            r->err = stk_get_u32(v + 4);
            for (size_t a = 0; a < 6; a++) {
                r->masks[a] = flen == 56 ? stk_get_u64(v + 8 + 8 * a) : 0;
            }
            break;
        }
        case STK_F_WARM: s->warm = true; break;
        default: break;
        }
        off += 8 + flen;
    }
}

static int compare_reports(const void *a, const void *b)
{
    uint32_t x = ((const struct stk_report *)a)->nr;
    uint32_t y = ((const struct stk_report *)b)->nr;
    return x < y ? -1 : x > y;
}

/* Checks that need several fields together. */
static int check_combined(const struct stk_spec *s, struct stk_error *err)
{
    /* Sorted here once so pid 1 can binary-search the table for every notification. */
    if (s->report_count > 1) {
        qsort(s->reports, s->report_count, sizeof *s->reports, compare_reports);
    }
    for (size_t i = 1; i < s->report_count; i++) {
        if (s->reports[i].nr == s->reports[i - 1].nr) {
            stk_fail(err, STK_STEP_SPEC, EINVAL, "REPORT: syscall ");
            stk_error_append_u64(err, s->reports[i].nr);
            stk_error_append(err, " given twice");
            return -1;
        }
    }
    for (size_t i = 0; i < s->rlimit_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (s->rlimits[i].resource == s->rlimits[j].resource) {
                return invalid_index(err, "RLIMIT", i, "resource given twice");
            }
        }
    }
    if (s->hostname != NULL && (s->namespaces & CLONE_NEWUTS) == 0) {
        return invalid(err, "HOSTNAME", "needs CLONE_NEWUTS in NAMESPACES");
    }
    if (s->user_limit_count > 0 && (s->namespaces & CLONE_NEWUSER) == 0) {
        return invalid(err, "USER_LIMIT", "needs CLONE_NEWUSER in NAMESPACES (without it the"
                                          " host's own limits would be changed)");
    }
    if (s->has_pty_max && (s->namespaces & CLONE_NEWNS) == 0) {
        return invalid(err, "PTY_MAX", "needs CLONE_NEWNS in NAMESPACES");
    }
    if (s->has_memory_swap_max && s->memory_max == 0) {
        return invalid(err, "MEMORY_SWAP_MAX", "needs MEMORY_MAX");
    }
    if (s->mount_count > 0 && (s->namespaces & CLONE_NEWNS) == 0) {
        return invalid(err, "MOUNT", "needs CLONE_NEWNS in NAMESPACES");
    }
    /* The forwarder listens in the sandbox's own network and reaches the socket through its
     * own view: on the host's network it would be a listener for anyone there. */
    if (s->egress_socket != NULL &&
        (s->namespaces & (CLONE_NEWNET | CLONE_NEWNS)) != (CLONE_NEWNET | CLONE_NEWNS)) {
        return invalid(err, "EGRESS", "needs CLONE_NEWNET and CLONE_NEWNS in NAMESPACES");
    }
    /* One upper layer travels with EXITED. */
    size_t transactional = 0;
    for (size_t i = 0; i < s->mount_count; i++) {
        transactional += (s->mounts[i].flags & STK_MOUNT_TRANSACTIONAL) != 0;
    }
    if (transactional > 1) {
        return invalid(err, "MOUNT", "at most one OVERLAY may be TRANSACTIONAL");
    }
    /* Without the set-id guard a command writing as the source's owner could leave a
     * set-user-ID file of that owner (host root) behind. */
    for (size_t i = 0; i < s->mount_count; i++) {
        if ((s->mounts[i].flags & STK_MOUNT_IDMAP_OWNER) != 0 && s->guard_bpf == NULL) {
            return invalid_index(err, "MOUNT", i, "IDMAP_OWNER needs GUARD_BPF");
        }
    }
    return 0;
}

int stk_spec_decode(const uint8_t *payload, size_t len, struct stk_spec *spec,
                    struct stk_error *err)
{
    memset(spec, 0, sizeof *spec);
    if (read_header(payload, len, err) < 0) {
        return -1;
    }
    struct counts c;
    memset(&c, 0, sizeof c);
    if (check_all(payload, len, 8, false, &c, err) < 0) {
        return -1;
    }
    spec->argv = calloc(c.args + 1, sizeof *spec->argv);
    spec->envp = calloc(c.envs + 1, sizeof *spec->envp);
    spec->mounts = calloc(c.mounts + 1, sizeof *spec->mounts);
    spec->rlimits = calloc(c.rlimits + 1, sizeof *spec->rlimits);
    spec->bpf = c.seen[STK_F_SECCOMP_BPF] ? calloc(c.bpf_insns, sizeof *spec->bpf) : NULL;
    spec->guard_bpf =
        c.seen[STK_F_GUARD_BPF] ? calloc(c.guard_insns, sizeof *spec->guard_bpf) : NULL;
    spec->reports = c.reports > 0 ? calloc(c.reports, sizeof *spec->reports) : NULL;
    spec->strings = malloc(c.string_bytes + 1);
    if (spec->argv == NULL || spec->envp == NULL || spec->mounts == NULL ||
        spec->rlimits == NULL || spec->strings == NULL ||
        (c.seen[STK_F_SECCOMP_BPF] && spec->bpf == NULL) ||
        (c.seen[STK_F_GUARD_BPF] && spec->guard_bpf == NULL) ||
        (c.reports > 0 && spec->reports == NULL)) {
        stk_spec_free(spec);
        return stk_fail(err, STK_STEP_SPEC, ENOMEM, "allocating the decoded spec");
    }
    spec->kill_grace_ms = STK_DEFAULT_KILL_GRACE_MS;
    spec->namespaces = STK_ALLOWED_NAMESPACES;
    fill(payload, len, 8, spec);
    if (spec->cwd == NULL) {
        spec->cwd = STK_DEFAULT_CWD;
    }
    if (check_combined(spec, err) < 0) {
        stk_spec_free(spec);
        return -1;
    }
    return 0;
}

void stk_spec_free(struct stk_spec *spec)
{
    free(spec->argv);
    free(spec->envp);
    free(spec->mounts);
    free(spec->rlimits);
    free(spec->bpf);
    free(spec->guard_bpf);
    free(spec->reports);
    free(spec->strings);
    memset(spec, 0, sizeof *spec);
}

int stk_command_measure(const uint8_t *payload, size_t len, struct stk_command_size *size,
                        struct stk_error *err)
{
    struct counts c;
    memset(&c, 0, sizeof c);
    if (check_all(payload, len, 0, true, &c, err) < 0) {
        return -1;
    }
    size->argc = c.args;
    size->envc = c.envs;
    size->string_bytes = c.string_bytes;
    return 0;
}

void stk_command_fill(const uint8_t *payload, size_t len, struct stk_spec *command)
{
    command->argc = command->envc = 0;
    command->cwd = NULL;
    fill(payload, len, 0, command);
    command->argv[command->argc] = NULL;
    command->envp[command->envc] = NULL;
    if (command->cwd == NULL) {
        command->cwd = STK_DEFAULT_CWD;
    }
}
