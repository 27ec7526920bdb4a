/* A classic-BPF interpreter for seccomp programs, used to check what a compiled filter does
 * before anyone installs it. */
#ifndef STOCKADE_JNI_BPF_CHECK_H
#define STOCKADE_JNI_BPF_CHECK_H

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

#endif
