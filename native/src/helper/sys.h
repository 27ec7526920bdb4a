/*
 * Thin wrappers for system calls glibc 2.36 does not wrap, or wraps in a way the helper must
 * avoid. The architecture-specific bits live here and nowhere else.
 */
#ifndef STK_SYS_H
#define STK_SYS_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/*
 * fork-like clone with namespace flags. The raw system call, not glibc's clone() or fork():
 * the child continues on the same stack (stack 0), and glibc's fork would run atfork handlers
 * that have no place in a process that may be pid 1 of a new namespace. With stack, parent_tid,
 * child_tid and tls all 0 the differing argument orders of the architectures do not matter.
 */
static inline pid_t stk_clone(unsigned long flags)
{
    return (pid_t)syscall(SYS_clone, flags, 0UL, 0UL, 0UL, 0UL);
}

static inline uint64_t stk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Milliseconds from now_ns until deadline_ns, rounded up (a poll that wakes early only polls
 * again), 0 once it has passed, at most INT_MAX. */
static inline int stk_ms_until(uint64_t deadline_ns, uint64_t now_ns)
{
    if (deadline_ns <= now_ns) {
        return 0;
    }
    uint64_t ms = (deadline_ns - now_ns + 999999u) / 1000000u;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

#endif
