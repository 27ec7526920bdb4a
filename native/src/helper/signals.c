#include "signals.h"

#include <stddef.h>

void stk_signals_forwarded(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

void stk_signals_sandbox(sigset_t *set)
{
    stk_signals_forwarded(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, STK_SIG_TERMINATE);
}

void stk_signals_reset(void)
{
    struct sigaction dfl;
    dfl.sa_handler = SIG_DFL;
    dfl.sa_flags = 0;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        /* SIGKILL/SIGSTOP and glibc's internal signals refuse with EINVAL: nothing to do. */
        sigaction(sig, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
