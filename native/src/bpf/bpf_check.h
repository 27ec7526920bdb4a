/* A classic-BPF interpreter for seccomp programs, used to check what a compiled filter does
 * before anyone installs it. */
#ifndef STOCKADE_BPF_CHECK_H
#define STOCKADE_BPF_CHECK_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Runs program (count instructions) on data with the semantics the kernel gives a seccomp
 * filter. Returns 0 and the filter's return value in *result, or -1 when the program is not
 * one the kernel would accept (unknown instruction, a load outside seccomp_data, a jump out of
 * the program, running off its end).
 */
int stk_bpf_run(const struct sock_filter *program, size_t count, const struct seccomp_data *data,
                uint32_t *result);

/*
 * As stk_bpf_run for system call nr of arch, whatever its arguments and instruction pointer:
 * returns 1 and the filter's return value in *result when the program reads neither on its way
 * (the value is then the one for every call of nr), 0 when it reads one of them (the value
 * depends on them), -1 when the program is not one the kernel would accept.
 */
int stk_bpf_run_syscall(const struct sock_filter *program, size_t count, uint32_t arch,
                        int32_t nr, uint32_t *result);

#endif
