/* Classic BPF interpreter with seccomp's rules: data is struct seccomp_data, loads are 32-bit
 * and aligned, and jumps only go forward, so every run ends. */
#include "bpf_check.h"

#include <string.h>

#define SCRATCH_WORDS 16

/* What the run may read: the whole of seccomp_data, or only nr and arch (the words before
 * instruction_pointer) when the arguments are unknown. */
enum known { KNOWN_ALL, KNOWN_NR_AND_ARCH };

/* 0, or -1 for a load the kernel refuses, or 1 for a word the run does not know. */
static int load_word(const struct seccomp_data *data, enum known known, uint32_t offset,
                     uint32_t *value)
{
    if (offset % 4 != 0 || offset > sizeof *data - 4) {
        return -1;
    }
    if (known == KNOWN_NR_AND_ARCH &&
        offset >= offsetof(struct seccomp_data, instruction_pointer)) {
        return 1;
    }
    memcpy(value, (const unsigned char *)data + offset, sizeof *value);
    return 0;
}

static int alu(uint16_t op, uint32_t a, uint32_t operand, uint32_t *out)
{
    switch (op) {
    case BPF_ADD: *out = a + operand; return 0;
    case BPF_SUB: *out = a - operand; return 0;
    case BPF_MUL: *out = a * operand; return 0;
    case BPF_DIV: *out = a / operand; return 0;
    case BPF_OR: *out = a | operand; return 0;
    case BPF_AND: *out = a & operand; return 0;
    case BPF_XOR: *out = a ^ operand; return 0;
    /* The kernel runs classic BPF as eBPF's 32-bit shifts, which take the count modulo 32
     * (its interpreter and the x86 JIT alike); a constant count of 32 or more it refuses. */
    case BPF_LSH: *out = a << (operand & 31u); return 0;
    case BPF_RSH: *out = a >> (operand & 31u); return 0;
    case BPF_NEG: *out = (uint32_t)0 - a; return 0;
    default: return -1;
    }
}

static int jump_taken(uint16_t op, uint32_t a, uint32_t operand, int *taken)
{
    switch (op) {
    case BPF_JEQ: *taken = a == operand; return 0;
    case BPF_JGT: *taken = a > operand; return 0;
    case BPF_JGE: *taken = a >= operand; return 0;
    case BPF_JSET: *taken = (a & operand) != 0; return 0;
    default: return -1;
    }
}

/* 0 with *result, 1 when the run needed a word it does not know, -1 for a refused program. */
static int run(const struct sock_filter *program, size_t count, const struct seccomp_data *data,
               enum known known, uint32_t *result)
{
    uint32_t a = 0;
    uint32_t x = 0;
    uint32_t scratch[SCRATCH_WORDS] = {0};
    size_t pc = 0;

    while (pc < count) {
        const struct sock_filter *insn = &program[pc];
        uint32_t operand = BPF_SRC(insn->code) == BPF_X ? x : insn->k;
        size_t next = pc + 1;
        switch (BPF_CLASS(insn->code)) {
        case BPF_LD:
            if (insn->code == (BPF_LD | BPF_W | BPF_ABS)) {
                int loaded = load_word(data, known, insn->k, &a);
                if (loaded != 0) {
                    return loaded;
                }
            } else if (insn->code == (BPF_LD | BPF_W | BPF_LEN)) {
                a = (uint32_t)sizeof *data;
            } else if (insn->code == (BPF_LD | BPF_IMM)) {
                a = insn->k;
            } else if (insn->code == (BPF_LD | BPF_MEM) && insn->k < SCRATCH_WORDS) {
                a = scratch[insn->k];
            } else {
                return -1;
            }
            break;
        case BPF_LDX:
            if (insn->code == (BPF_LDX | BPF_W | BPF_LEN)) {
                x = (uint32_t)sizeof *data;
            } else if (insn->code == (BPF_LDX | BPF_IMM)) {
                x = insn->k;
            } else if (insn->code == (BPF_LDX | BPF_MEM) && insn->k < SCRATCH_WORDS) {
                x = scratch[insn->k];
            } else {
                return -1;
            }
            break;
        case BPF_ST:
        case BPF_STX:
            if (insn->code != BPF_ST && insn->code != BPF_STX) {
                return -1; /* mode bits: seccomp_check_filter accepts plain ST and STX only */
            }
            if (insn->k >= SCRATCH_WORDS) {
                return -1;
            }
            scratch[insn->k] = BPF_CLASS(insn->code) == BPF_ST ? a : x;
            break;
        case BPF_ALU:
            /* What the kernel refuses at load time (bpf_check_classic, seccomp_check_filter):
             * a constant divisor of 0, a constant shift of 32 or more, NEG of X. */
            if (BPF_SRC(insn->code) == BPF_K &&
                ((BPF_OP(insn->code) == BPF_DIV && insn->k == 0) ||
                 ((BPF_OP(insn->code) == BPF_LSH || BPF_OP(insn->code) == BPF_RSH) &&
                  insn->k >= 32))) {
                return -1;
            }
            if (BPF_OP(insn->code) == BPF_NEG && BPF_SRC(insn->code) != BPF_K) {
                return -1;
            }
            if (BPF_OP(insn->code) == BPF_DIV && operand == 0) {
                *result = 0; /* classic BPF ends the program with 0 on division by zero */
                return 0;
            }
            if (alu(BPF_OP(insn->code), a, operand, &a) != 0) {
                return -1;
            }
            break;
        case BPF_JMP:
            if (BPF_OP(insn->code) == BPF_JA) {
                next = pc + 1 + insn->k;
            } else {
                int taken;
                if (jump_taken(BPF_OP(insn->code), a, operand, &taken) != 0) {
                    return -1;
                }
                next = pc + 1 + (taken ? insn->jt : insn->jf);
            }
            break;
        case BPF_RET:
            if (BPF_RVAL(insn->code) == BPF_K) {
                *result = insn->k;
            } else if (BPF_RVAL(insn->code) == BPF_A) {
                *result = a;
            } else {
                return -1;
            }
            return 0;
        case BPF_MISC:
            if (BPF_MISCOP(insn->code) == BPF_TAX) {
                x = a;
            } else if (BPF_MISCOP(insn->code) == BPF_TXA) {
                a = x;
            } else {
                return -1;
            }
            break;
        default:
            return -1;
        }
        pc = next;
    }
    return -1; /* fell off the end: the kernel rejects such a program */
}

int stk_bpf_run(const struct sock_filter *program, size_t count, const struct seccomp_data *data,
                uint32_t *result)
{
    return run(program, count, data, KNOWN_ALL, result);
}

int stk_bpf_run_syscall(const struct sock_filter *program, size_t count, uint32_t arch,
                        int32_t nr, uint32_t *result)
{
    struct seccomp_data data;
    memset(&data, 0, sizeof data);
    data.nr = nr;
    data.arch = arch;
    int rc = run(program, count, &data, KNOWN_NR_AND_ARCH, result);
    return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}
