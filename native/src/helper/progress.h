/*
 * The set-up progress page (stockade.h, STK_PROGRESS_FD): where the monitor and pid 1 say which
 * step set-up is in, for the Java side to read when set-up misses its deadline. A step that
 * hangs in the kernel (a FUSE server or an NFS server that never answers) cannot report
 * anything itself; the last store before it names it.
 *
 * The stores are plain volatile stores into a MAP_SHARED page: async-signal-safe, so pid 1 and
 * the command's process (until its execve, which drops the mapping) use them too. Without a
 * page (the helper started without fd STK_PROGRESS_FD) they go to a private word nobody reads.
 */
#ifndef STK_PROGRESS_H
#define STK_PROGRESS_H

#include <stddef.h>

#include "stockade.h"

/* In the helper's main, after the inherited fds were closed: maps fd STK_PROGRESS_FD when it
 * is a memfd of STK_PROGRESS_SIZE bytes sealed against shrinking (so the mapping can never
 * fault), then closes the fd: the page lives on in the mapping, which pid 1 inherits and the
 * command's execve drops, so nothing in the sandbox can reach it. Anything else at that fd is
 * closed and ignored. */
void stk_progress_attach(void);

/* The step set-up is in from now on (no mount). Each change also adds the CLOCK_MONOTONIC time
 * since the last change to the step being left and lists a step entered for the first time
 * (stockade.h's rule); clock_gettime is async-signal-safe (vDSO). */
void stk_progress_step(enum stk_step step);

/* The step, working on the spec's mount at index. */
void stk_progress_mount(enum stk_step step, size_t index);

/* pid 1, once the command's execve succeeded: the command's last step gets its time and the
 * page's timings are complete (no step is entered; nothing writes the page after this). */
void stk_progress_finish(void);

/* The warm monitor, right before it hands the command to pid 1 (which waits in "command" and
 * writes nothing meanwhile): the idle wait counts for nothing. */
void stk_progress_restart_clock(void);

#endif
