/*
 * The sandbox's pid 1: waits until the monitor wrote its maps, sets the sandbox up (mounts,
 * hostname, loopback, ids, capabilities), forks the command, reports STARTED or ERROR on the
 * status channel, then reaps every process and forwards signals until the command exits,
 * reports its status and exits (the kernel then kills whatever is left in the pid namespace).
 */
#ifndef STK_INIT_H
#define STK_INIT_H

#include "plan.h"

/* sync_fd: the monitor's release pipe (read end); status_fd: records to the monitor. */
_Noreturn void stk_init_run(struct stk_plan *plan, int sync_fd, int status_fd);

#endif
