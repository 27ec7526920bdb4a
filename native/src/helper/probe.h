/*
 * `stockade-helper probe`: tries, for real and as the calling user, each kernel feature the
 * sandbox uses and prints one line per feature on stdout (format in docs/protocol.md):
 *     name=yes [key=value ...]
 *     name=no errno=N [key=value ...] reason=free text to the end of the line
 */
#ifndef STK_PROBE_H
#define STK_PROBE_H

/* Which lines a probe prints: every feature's (`probe`), or only those of the one part the Java
 * side needs to decide how to apply a policy, each probed once per JVM, so that a spawn does
 * not wait for the whole probe: `probe cgroup` (a policy's limits), `probe seccomp` (whether
 * report rules can use user notification). */
enum stk_probe_part {
    STK_PROBE_ALL,
    STK_PROBE_CGROUP,
    STK_PROBE_SECCOMP,
};

/* Returns the exit code (0 unless stdout fails). */
int stk_probe_run(enum stk_probe_part part);

#endif
