/*
 * Signal state shared by the helper's processes. The monitor blocks the sandbox set before it
 * clones pid 1, so pid 1 is born with those signals blocked (a SIGTERM can never kill it
 * half-way through set-up) and reads them with sigwaitinfo; the command's process unblocks
 * everything right before execve.
 */
#ifndef STK_SIGNALS_H
#define STK_SIGNALS_H

#include <signal.h>

/* What the monitor forwards to pid 1 and pid 1 forwards to the command. */
void stk_signals_forwarded(sigset_t *set);

/* The forwarded signals, SIGCHLD (pid 1 reaps), and STK_SIG_TERMINATE. */
void stk_signals_sandbox(sigset_t *set);

/* Monitor -> pid 1: "SIGTERM every process in the sandbox" (graceful kill, timeout). */
#define STK_SIG_TERMINATE SIGUSR1

/* Every disposition back to SIG_DFL and nothing blocked: the helper makes no assumption
 * about what its spawner left behind. */
void stk_signals_reset(void);

#endif
