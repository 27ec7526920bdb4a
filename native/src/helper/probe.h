/*
 * `stockade-helper probe`: tries, for real and as the calling user, each kernel feature the
 * sandbox uses and prints one line per feature on stdout (format in docs/protocol.md):
 *     name=yes [key=value ...]
 *     name=no errno=N [key=value ...] reason=free text to the end of the line
 */
#ifndef STK_PROBE_H
#define STK_PROBE_H

#include <stdbool.h>

/* Returns the exit code (0 unless stdout fails). cgroup_only (`probe cgroup`): only the
 * cgroup lines, which the Java side reads to decide how to apply a policy's limits. */
int stk_probe_run(bool cgroup_only);

#endif
