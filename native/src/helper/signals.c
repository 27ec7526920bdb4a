#include "signals.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* The kernel's struct sigaction (asm-generic and x86 alike): glibc's sigaction refuses its
 * two internal signals (32 and 33), so those go to the system call directly. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

void stk_signals_reset(void)
{
    struct sigaction dfl;
    dfl.sa_handler = SIG_DFL;
    dfl.sa_flags = 0;
    sigemptyset(&dfl.sa_mask);
    const struct kernel_sigaction kernel_dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig < NSIG; sig++) {
        /* SIGKILL and SIGSTOP refuse with EINVAL: nothing to do. glibc's internal signals
         * refuse too, yet a spawner may have left them ignored (glibc's own posix_spawn does,
         * unless asked not to), and an ignored signal stays ignored across the command's
         * execve; a single-threaded helper has no use for glibc's handlers of them. */
        if (sigaction(sig, &dfl, NULL) < 0 && errno == EINVAL && sig != SIGKILL &&
            sig != SIGSTOP) {
            (void)syscall(SYS_rt_sigaction, sig, &kernel_dfl, NULL, sizeof kernel_dfl.mask);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
