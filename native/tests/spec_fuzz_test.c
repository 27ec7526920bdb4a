/*
 * Fuzzing the helper's SPEC decoder (native/src/helper/spec.c) in-process: valid specs are
 * mutated (bit flips, random bytes, truncation, duplicated and spliced fields, field headers
 * with random tags and lengths) and every result must be either a decoded spec that keeps the
 * decoder's promises or an ERROR with step "spec" and errno EINVAL/EPROTO. No crash, no hang;
 * run under ASan/UBSan in CI, where any out-of-bounds access fails the test.
 *
 *     spec_fuzz_test [iterations] [seed]      (defaults: 200000, 1)
 *
 * Deterministic: the same seed replays the same inputs; a failure prints the iteration.
 */
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "spec.h"
#include "spec_writer.h"
#include "stockade.h"

static uint64_t rng_state;

static uint64_t next_random(void)
{
    /* xorshift64*: small, fast, and enough to drive mutations reproducibly */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
    return n == 0 ? 0 : (size_t)(next_random() % n);
}

/* ---- seeds ---- */

#define SEEDS 5
static struct spec_buf seeds[SEEDS];
/* A warm sandbox's COMMAND payloads (no magic or version: ARG, ENV, CWD only). */
#define COMMAND_SEEDS 2
static struct spec_buf command_seeds[COMMAND_SEEDS];

static void make_seeds(void)
{
    const struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, 0x7fff0000u)};
    for (int i = 0; i < SEEDS - 1; i++) {
        spec_init(&seeds[i]);
        spec_args(&seeds[i], (const char *const[]){"/bin/true", "a", "bc", NULL});
    }
    /* A warm spec: no ARG, ENV or CWD. */
    spec_init(&seeds[SEEDS - 1]);
    spec_bytes_field(&seeds[SEEDS - 1], STK_F_WARM, NULL, 0);
    spec_u64(&seeds[SEEDS - 1], STK_F_TIMEOUT_MS, 1000);
    spec_tmpfs(&seeds[SEEDS - 1], "/tmp", 4096);
    for (int i = 0; i < COMMAND_SEEDS; i++) {
        spec_init_command(&command_seeds[i]);
        spec_args(&command_seeds[i], (const char *const[]){"true", "a", "", "bc", NULL});
    }
    spec_string(&command_seeds[1], STK_F_ENV, "PATH=/usr/bin::/bin");
    spec_string(&command_seeds[1], STK_F_ENV, "A=");
    spec_string(&command_seeds[1], STK_F_CWD, "/tmp");
    /* Any bytes may be a token: NUL and 0xff among them. */
    static const uint8_t token[STK_EGRESS_TOKEN_SIZE] = {0x00, 0xff, 't', 'o', 0x00, 'k', 0x80,
                                                         'n', 1, 2, 3, 4, 5, 6, 7, 0x00};
    spec_egress(&seeds[0], STK_EGRESS_PORT, STK_EGRESS_MAX_CONNECTIONS, token, STK_EGRESS_SOCKET,
                strlen(STK_EGRESS_SOCKET));
    spec_string(&seeds[1], STK_F_ENV, "PATH=/usr/bin");
    spec_string(&seeds[1], STK_F_CWD, "/tmp");
    spec_u32(&seeds[1], STK_F_NAMESPACES, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS);
    spec_string(&seeds[1], STK_F_HOSTNAME, "box");
    spec_tmpfs(&seeds[1], "/tmp", 4096);
    spec_bind(&seeds[1], "/usr", "/opt/usr", true);
    spec_rlimit(&seeds[2], RLIMIT_NOFILE, 64, 128);
    spec_u64(&seeds[2], STK_F_TIMEOUT_MS, 1000);
    spec_u64(&seeds[2], STK_F_KILL_GRACE_MS, 10);
    spec_u32(&seeds[2], STK_F_UID, 1000);
    spec_u32(&seeds[2], STK_F_GID, 1000);
    spec_bpf(&seeds[3], allow, 1);
    /* Every mount type and flag, IDMAP_OWNER with the guard it needs. */
    spec_guard_bpf(&seeds[3], allow, 1);
    spec_u32(&seeds[3], STK_F_NAMESPACES, CLONE_NEWUSER | CLONE_NEWNS);
    spec_tmpfs(&seeds[3], "/tmp", 4096);
    spec_mount(&seeds[3], STK_MOUNT_TMPFS, STK_MOUNT_PRIVATE, 8192, "", "/home/u");
    spec_mount(&seeds[3], STK_MOUNT_SYMLINK, 0, 0, "usr/bin", "/bin");
    spec_mount(&seeds[3], STK_MOUNT_OVERLAY, 0, 1u << 20, "/srv/m2", "/home/u/.m2");
    spec_mount(&seeds[3], STK_MOUNT_OVERLAY, STK_MOUNT_TRANSACTIONAL, 1u << 20, "/src", "/src");
    spec_mount(&seeds[3], STK_MOUNT_FILE, 0, 0644, "u:x:1:1::/home/u:/bin/sh\n", "/etc/passwd");
    spec_mount(&seeds[3], STK_MOUNT_FILE, 0, 0, "", "/etc/shadow");
    spec_mount(&seeds[3], STK_MOUNT_BIND, STK_MOUNT_IDMAP_OWNER, 0, "/ws", "/ws");
    spec_mount(&seeds[3], STK_MOUNT_PROTECT, 0, 0, "/ws/.git", "/ws/.git");
    spec_mount(&seeds[3], STK_MOUNT_PROTECT, STK_MOUNT_READONLY | STK_MOUNT_CREATE |
               STK_MOUNT_DIRECTORY, 0, "/ws/.git/hooks", "/ws/.git/hooks");
    spec_report(&seeds[3], 101, 1);
    spec_report(&seeds[3], 3, 0);
    spec_report(&seeds[3], 4095, 4095);
    for (int i = 0; i < SEEDS; i++) {
        size_t len;
        spec_finish(&seeds[i], &len);
    }
    for (int i = 0; i < COMMAND_SEEDS; i++) {
        size_t len;
        spec_finish(&command_seeds[i], &len);
    }
}

/* ---- mutations, on the payload (the frame without its 8-byte header) ---- */

struct input {
    uint8_t *data;
    size_t len, cap;
};

static void reserve(struct input *in, size_t extra)
{
    if (in->len + extra > in->cap) {
        size_t cap = (in->len + extra) * 2 + 64;
        uint8_t *data = realloc(in->data, cap);
        if (data == NULL) {
            abort();
        }
        in->data = data;
        in->cap = cap;
    }
}

static void insert(struct input *in, size_t at, const uint8_t *bytes, size_t n)
{
    reserve(in, n);
    memmove(in->data + at + n, in->data + at, in->len - at);
    memcpy(in->data + at, bytes, n);
    in->len += n;
}

static void mutate(struct input *in)
{
    int rounds = 1 + (int)below(4);
    for (int r = 0; r < rounds; r++) {
        switch (below(7)) {
        case 0: /* flip a bit, magic and version included */
            if (in->len > 0) {
                in->data[below(in->len)] ^= (uint8_t)(1u << below(8));
            }
            break;
        case 1: /* a random byte, favouring the field headers' interesting values */
            if (in->len > 0) {
                static const uint8_t interesting[] = {0, 1, 8, 12, 13, 14, 0x7f, 0x80, 0xff};
                in->data[below(in->len)] = below(2) == 0
                                               ? interesting[below(sizeof interesting)]
                                               : (uint8_t)next_random();
            }
            break;
        case 2: /* truncate */
            in->len = below(in->len + 1);
            break;
        case 3: { /* a field header with a random tag and length */
            uint8_t header[8];
            uint32_t tag = (uint32_t)below(STK_F_WARM + 2); /* every tag, one unknown above */
            uint32_t len = below(2) == 0 ? (uint32_t)below(32) : (uint32_t)next_random();
            for (int i = 0; i < 4; i++) {
                header[i] = (uint8_t)(tag >> (8 * i));
                header[4 + i] = (uint8_t)(len >> (8 * i));
            }
            header[2] = header[3] = 0;
            insert(in, in->len < 8 ? in->len : 8 + below(in->len - 7), header, sizeof header);
            break;
        }
        case 4: /* duplicate a slice (repeats fields, or half of one) */
            if (in->len > 8) {
                size_t from = 8 + below(in->len - 8);
                size_t n = 1 + below(in->len - from);
                uint8_t *copy = malloc(n);
                if (copy == NULL) {
                    abort();
                }
                memcpy(copy, in->data + from, n);
                insert(in, 8 + below(in->len - 7), copy, n);
                free(copy);
            }
            break;
        case 5: { /* splice another seed's fields in */
            const struct spec_buf *s = &seeds[below(SEEDS)];
            if (s->len > 16) {
                insert(in, in->len < 8 ? in->len : 8 + below(in->len - 7), s->data + 16,
                       s->len - 16);
            }
            break;
        }
        default: /* random garbage appended */
        {
            uint8_t junk[16];
            size_t n = 1 + below(sizeof junk);
            for (size_t i = 0; i < n; i++) {
                junk[i] = (uint8_t)next_random();
            }
            insert(in, in->len, junk, n);
            break;
        }
        }
    }
}

/* ---- checking one result ---- */

/* stockade.h's rules for one decoded mount, restated independently of spec.c. */
static const char *mount_problem(const struct stk_mount *m, bool guard)
{
    size_t src_len = strlen(m->src);
    bool abs_src = m->src[0] == '/' && src_len <= STK_MAX_MOUNT_PATH;
    uint32_t f = m->flags;
    if (m->dst[0] != '/' || strlen(m->dst) > STK_MAX_MOUNT_PATH) {
        return "mount dst";
    }
    switch (m->type) {
    case STK_MOUNT_BIND:
        if ((f & ~(uint32_t)(STK_MOUNT_READONLY | STK_MOUNT_IDMAP | STK_MOUNT_SPECIAL |
                             STK_MOUNT_IDMAP_OWNER)) != 0 || m->size != 0 || !abs_src ||
            ((f & STK_MOUNT_IDMAP) && !(f & STK_MOUNT_READONLY)) ||
            ((f & STK_MOUNT_IDMAP_OWNER) &&
             ((f & (STK_MOUNT_READONLY | STK_MOUNT_IDMAP)) || !guard))) {
            return "BIND rules";
        }
        return NULL;
    case STK_MOUNT_TMPFS:
        return (f & ~(uint32_t)STK_MOUNT_PRIVATE) || src_len != 0 || m->size == 0 ? "TMPFS rules"
                                                                                 : NULL;
    case STK_MOUNT_SYMLINK:
        return f != 0 || m->size != 0 || src_len == 0 || src_len > STK_MAX_MOUNT_PATH
                   ? "SYMLINK rules"
                   : NULL;
    case STK_MOUNT_OVERLAY:
        return (f & ~(uint32_t)STK_MOUNT_TRANSACTIONAL) != 0 || m->size == 0 || !abs_src
                   ? "OVERLAY rules"
                   : NULL;
    case STK_MOUNT_FILE: return f != 0 || m->size > STK_MAX_FILE_MODE ? "FILE rules" : NULL;
    case STK_MOUNT_PROTECT:
        if ((f & ~(uint32_t)(STK_MOUNT_READONLY | STK_MOUNT_CREATE | STK_MOUNT_DIRECTORY)) ||
            ((f & STK_MOUNT_DIRECTORY) && !(f & STK_MOUNT_CREATE)) ||
            ((f & STK_MOUNT_CREATE) && !(f & STK_MOUNT_READONLY)) || m->size != 0 || !abs_src) {
            return "PROTECT rules";
        }
        return NULL;
    default: return "mount type";
    }
}

static int check(const uint8_t *payload, size_t len, unsigned long iteration)
{
    struct stk_spec spec;
    struct stk_error err;
    memset(&err, 0, sizeof err);
    err.step = STK_STEP_START; /* a step the decoder never names: a failure must set its own */
    int rc = stk_spec_decode(payload, len, &spec, &err);
    if (rc < 0) {
        if (err.step != STK_STEP_SPEC ||
            (err.err != EINVAL && err.err != EPROTO && err.err != ENOMEM) ||
            err.exit_code != 125 || memchr(err.detail, '\0', sizeof err.detail) == NULL) {
            fprintf(stderr, "iteration %lu: unexpected error step=%s errno=%d exit=%d\n",
                    iteration, stk_step_name(err.step), err.err, err.exit_code);
            return -1;
        }
        return 0;
    }
    const char *problem = NULL;
    if ((spec.warm ? spec.argc != 0 || spec.envc != 0 : spec.argc < 1) ||
        spec.argv[spec.argc] != NULL || spec.envp[spec.envc] != NULL) {
        problem = "argv/envp";
    } else if (spec.cwd == NULL || spec.cwd[0] != '/') {
        problem = "cwd";
    } else if (spec.bpf != NULL && (spec.bpf_len < 1 || spec.bpf_len > STK_MAX_BPF_INSNS)) {
        problem = "bpf length";
    } else if (spec.report_count > 0 && spec.bpf == NULL) {
        problem = "REPORT without BPF";
    } else if (spec.report_count > STK_MAX_REPORTS) {
        problem = "report count";
    }
    for (size_t i = 0; problem == NULL && i < spec.report_count; i++) {
        const struct stk_report *r = &spec.reports[i];
        if (r->nr >= STK_MAX_REPORT_NR || r->err > STK_MAX_REPORT_ERRNO ||
            r->nr == (uint32_t)SYS_sendmsg || (i > 0 && r->nr <= spec.reports[i - 1].nr)) {
            problem = "reports not sorted, unique and in range";
        }
    }
    if (problem == NULL && spec.egress_socket != NULL &&
        (spec.egress_port == 0 || spec.egress_max_connections == 0 ||
         spec.egress_max_connections > STK_EGRESS_MAX_CONNECTIONS ||
         spec.egress_socket[0] != '/' || strlen(spec.egress_socket) >= 108 ||
         (spec.namespaces & (CLONE_NEWNET | CLONE_NEWNS)) != (CLONE_NEWNET | CLONE_NEWNS))) {
        problem = "EGRESS rules";
    }
    size_t total = 0;
    for (size_t i = 0; problem == NULL && i < spec.argc; i++) {
        total += strlen(spec.argv[i]); /* under ASan: every string ends inside its block */
    }
    if (problem == NULL && total > len) {
        problem = "argv longer than the payload";
    }
    size_t transactional = 0;
    for (size_t i = 0; problem == NULL && i < spec.mount_count; i++) {
        problem = mount_problem(&spec.mounts[i], spec.guard_bpf != NULL);
        transactional += (spec.mounts[i].flags & STK_MOUNT_TRANSACTIONAL) != 0;
    }
    if (problem == NULL && transactional > 1) {
        problem = "more than one TRANSACTIONAL overlay";
    }
    stk_spec_free(&spec);
    if (problem != NULL) {
        fprintf(stderr, "iteration %lu: decoded spec breaks a promise: %s\n", iteration,
                problem);
        return -1;
    }
    return 1;
}

/* A COMMAND payload: measured, then decoded into exactly the storage measured (ASan catches a
 * byte beyond it), or refused as "spec". */
static int check_command(const uint8_t *payload, size_t len, unsigned long iteration)
{
    struct stk_command_size size;
    struct stk_error err;
    memset(&err, 0, sizeof err);
    err.step = STK_STEP_START;
    if (stk_command_measure(payload, len, &size, &err) < 0) {
        if (err.step != STK_STEP_SPEC || err.err != EINVAL || err.exit_code != 125) {
            fprintf(stderr, "iteration %lu: COMMAND: unexpected error step=%s errno=%d\n",
                    iteration, stk_step_name(err.step), err.err);
            return -1;
        }
        return 0;
    }
    struct stk_spec command;
    memset(&command, 0, sizeof command);
    command.argv = malloc((size.argc + 1) * sizeof *command.argv);
    command.envp = malloc((size.envc + 1) * sizeof *command.envp);
    command.strings = malloc(size.string_bytes == 0 ? 1 : size.string_bytes);
    if (command.argv == NULL || command.envp == NULL || command.strings == NULL) {
        abort();
    }
    stk_command_fill(payload, len, &command);
    const char *problem = NULL;
    if (command.argc < 1 || command.argc != size.argc || command.envc != size.envc ||
        command.argv[command.argc] != NULL || command.envp[command.envc] != NULL) {
        problem = "argv/envp";
    } else if (command.cwd == NULL || command.cwd[0] != '/') {
        problem = "cwd";
    } else if (size.string_bytes > len) {
        problem = "strings longer than the payload";
    }
    for (size_t i = 0; problem == NULL && i < command.envc; i++) {
        const char *eq = strchr(command.envp[i], '=');
        if (eq == NULL || eq == command.envp[i]) {
            problem = "ENV not NAME=VALUE";
        }
    }
    free(command.argv);
    free(command.envp);
    free(command.strings);
    if (problem != NULL) {
        fprintf(stderr, "iteration %lu: decoded COMMAND breaks a promise: %s\n", iteration,
                problem);
        return -1;
    }
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000ul;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1ull;
    if (rng_state == 0) {
        rng_state = 1;
    }
    make_seeds();
    /* The unmutated seeds decode. */
    for (int i = 0; i < SEEDS; i++) {
        if (check(seeds[i].data + 8, seeds[i].len - 8, 0) != 1) {
            fprintf(stderr, "seed %d does not decode\n", i);
            return 1;
        }
    }
    for (int i = 0; i < COMMAND_SEEDS; i++) {
        if (check_command(command_seeds[i].data + 8, command_seeds[i].len - 8, 0) != 1) {
            fprintf(stderr, "COMMAND seed %d does not decode\n", i);
            return 1;
        }
    }
    struct input in = {0};
    unsigned long decoded = 0;
    for (unsigned long it = 1; it <= iterations; it++) {
        /* One in four: a COMMAND payload. */
        bool command = below(4) == 0;
        const struct spec_buf *s =
            command ? &command_seeds[below(COMMAND_SEEDS)] : &seeds[below(SEEDS)];
        in.len = 0;
        reserve(&in, s->len);
        memcpy(in.data, s->data + 8, s->len - 8);
        in.len = s->len - 8;
        mutate(&in);
        int rc = command ? check_command(in.data, in.len, it) : check(in.data, in.len, it);
        if (rc < 0) {
            return 1;
        }
        decoded += (unsigned long)rc;
    }
    free(in.data);
    for (int i = 0; i < SEEDS; i++) {
        spec_free(&seeds[i]);
    }
    for (int i = 0; i < COMMAND_SEEDS; i++) {
        spec_free(&command_seeds[i]);
    }
    fprintf(stderr, "spec_fuzz_test: %lu inputs, %lu decoded, the rest rejected as expected\n",
            iterations, decoded);
    return 0;
}
