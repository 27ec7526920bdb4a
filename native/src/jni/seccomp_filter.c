/* libseccomp: rules in, verified BPF bytes out. */
#define _GNU_SOURCE
#include "seccomp_filter.h"

#include "bpf_check.h"

#include <errno.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000u
#define PROBE_SYSCALL 39u /* getpid on x86_64; any number works for the probes below */

__attribute__((format(printf, 4, 5))) static int fail(struct stk_filter_error *error,
                                                       const char *call, int err,
                                                       const char *format, ...)
{
    va_list args;
    error->call = call;
    error->err = err;
    va_start(args, format);
    (void)vsnprintf(error->detail, sizeof error->detail, format, args);
    va_end(args);
    return -1;
}

static int set_attributes(scmp_filter_ctx ctx, struct stk_filter_error *error)
{
    static const struct {
        enum scmp_filter_attr attribute;
        uint32_t value;
        const char *name;
    } attributes[] = {
        {SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "SCMP_FLTATR_ACT_BADARCH"},
        /* The helper sets no_new_privs itself and checks it took effect. */
        {SCMP_FLTATR_CTL_NNP, 0, "SCMP_FLTATR_CTL_NNP"},
        {SCMP_FLTATR_CTL_OPTIMIZE, 2, "SCMP_FLTATR_CTL_OPTIMIZE"},
    };
    for (size_t i = 0; i < sizeof attributes / sizeof attributes[0]; i++) {
        int rc = seccomp_attr_set(ctx, attributes[i].attribute, attributes[i].value);
        if (rc != 0) {
            return fail(error, "seccomp_attr_set", -rc, "%s", attributes[i].name);
        }
    }
    return 0;
}

/* A number libseccomp names, or one in the kernel's range that is newer than libseccomp (listed
 * in native/tables/x86_64-syscalls-newer.txt: the kernel grows faster than libseccomp's table, and
 * a rule for such a call is still enforced by number). Negative numbers are libseccomp's
 * pseudo-syscalls and anything far beyond the table is a caller error. */
#define STK_MAX_SYSCALL_NR 1024

static int check_syscall(int syscall, size_t index, struct stk_filter_error *error)
{
    if (syscall >= 0 && syscall < STK_MAX_SYSCALL_NR) {
        return 0;
    }
    char *name = syscall < 0 ? NULL : seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall);
    if (name == NULL) {
        return fail(error, "seccomp_rule_add", EINVAL,
                    "rule %zu: %d is not a syscall number on this architecture", index, syscall);
    }
    free(name);
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct stk_filter_rule *rule, size_t index,
                    struct stk_filter_error *error)
{
    struct scmp_arg_cmp conditions[STK_FILTER_MAX_CONDITIONS];
    if (rule->condition_count > STK_FILTER_MAX_CONDITIONS) {
        return fail(error, "seccomp_rule_add", EINVAL, "rule %zu: %u conditions, at most 6",
                    index, rule->condition_count);
    }
    if (check_syscall(rule->syscall, index, error) != 0) {
        return -1;
    }
    for (unsigned int i = 0; i < rule->condition_count; i++) {
        const struct stk_filter_condition *c = &rule->conditions[i];
        if (c->arg < 0 || c->arg > 5) {
            return fail(error, "seccomp_rule_add", EINVAL,
                        "rule %zu: argument index %lld, must be 0..5", index, (long long)c->arg);
        }
        if (c->op < SCMP_CMP_NE || c->op > SCMP_CMP_MASKED_EQ) {
            return fail(error, "seccomp_rule_add", EINVAL,
                        "rule %zu: comparison %lld, must be 1..7", index, (long long)c->op);
        }
        conditions[i].arg = (unsigned int)c->arg;
        conditions[i].op = (enum scmp_compare)c->op;
        conditions[i].datum_a = c->datum_a;
        conditions[i].datum_b = c->datum_b;
    }
    int rc = seccomp_rule_add_array(ctx, rule->action, rule->syscall, rule->condition_count,
                                    conditions);
    if (rc != 0) {
        return fail(error, "seccomp_rule_add", -rc, "rule %zu (syscall %d, action 0x%08x)", index,
                    rule->syscall, rule->action);
    }
    return 0;
}

static int read_all(int fd, unsigned char *buffer, size_t length, struct stk_filter_error *error)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = pread(fd, buffer + done, length - done, (off_t)done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail(error, "pread", n < 0 ? errno : EIO, "exported BPF program");
        }
        done += (size_t)n;
    }
    return 0;
}

/* libseccomp 2.5 exports only to a file descriptor; a memfd keeps the bytes off any disk. */
static int export_program(scmp_filter_ctx ctx, unsigned char **program, size_t *length,
                          struct stk_filter_error *error)
{
    struct stat st;
    int fd = memfd_create("stockade-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        return fail(error, "memfd_create", errno, "exporting the BPF program");
    }
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc != 0) {
        (void)close(fd);
        return fail(error, "seccomp_export_bpf", -rc, "exporting the BPF program");
    }
    if (fstat(fd, &st) != 0) {
        int err = errno;
        (void)close(fd);
        return fail(error, "fstat", err, "exported BPF program");
    }
    size_t size = (size_t)st.st_size;
    size_t instructions = size / sizeof(struct sock_filter);
    if (size % sizeof(struct sock_filter) != 0 || instructions == 0 ||
        instructions > BPF_MAXINSNS) {
        (void)close(fd);
        return fail(error, "seccomp_export_bpf", E2BIG,
                    "the program is %zu bytes; the kernel takes 1..%d instructions of 8 bytes",
                    size, BPF_MAXINSNS);
    }
    unsigned char *buffer = malloc(size);
    if (buffer == NULL) {
        (void)close(fd);
        return fail(error, "malloc", ENOMEM, "%zu bytes for the BPF program", size);
    }
    if (read_all(fd, buffer, size, error) != 0) {
        free(buffer);
        (void)close(fd);
        return -1;
    }
    (void)close(fd);
    *program = buffer;
    *length = size;
    return 0;
}

static int expect_kill(const struct sock_filter *program, size_t count, uint32_t arch,
                       uint32_t nr, const char *what, struct stk_filter_error *error)
{
    struct seccomp_data data = {0};
    uint32_t result;
    data.nr = (int)nr;
    data.arch = arch;
    if (stk_bpf_run(program, count, &data, &result) != 0) {
        return fail(error, "seccomp_export_bpf", EPROTO,
                    "the generated program is not valid seccomp BPF");
    }
    if ((result & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_KILL_PROCESS) {
        return fail(error, "seccomp_export_bpf", ENOTSUP,
                    "the generated program returns 0x%08x for %s instead of killing the process",
                    result, what);
    }
    return 0;
}

/* The architecture check and, on x86_64, the x32 check are what keep a process from walking
 * around every rule through another syscall table. They come from libseccomp's code
 * generator rather than from our rules, so each program is run once on both cases before it
 * is handed out: a libseccomp that stopped emitting them fails here instead of in production. */
static int verify_program(const unsigned char *bytes, size_t length,
                          struct stk_filter_error *error)
{
    const struct sock_filter *program = (const struct sock_filter *)(const void *)bytes;
    size_t count = length / sizeof(struct sock_filter);
    uint32_t native = seccomp_arch_native();
    uint32_t foreign = native == AUDIT_ARCH_X86_64 ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
    if (expect_kill(program, count, foreign, PROBE_SYSCALL, "a foreign architecture", error) != 0) {
        return -1;
    }
    if (native == AUDIT_ARCH_X86_64 &&
        expect_kill(program, count, native, X32_SYSCALL_BIT | PROBE_SYSCALL, "an x32 syscall",
                    error) != 0) {
        return -1;
    }
    return 0;
}

int stk_filter_compile(uint32_t default_action, const struct stk_filter_rule *rules, size_t count,
                       unsigned char **program, size_t *length, struct stk_filter_error *error)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (ctx == NULL) {
        return fail(error, "seccomp_init", EINVAL, "default action 0x%08x", default_action);
    }
    int rc = set_attributes(ctx, error);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = add_rule(ctx, &rules[i], i, error);
    }
    if (rc == 0) {
        rc = export_program(ctx, program, length, error);
    }
    seccomp_release(ctx);
    if (rc == 0 && verify_program(*program, *length, error) != 0) {
        free(*program);
        *program = NULL;
        rc = -1;
    }
    return rc;
}
