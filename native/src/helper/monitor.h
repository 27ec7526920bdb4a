/*
 * The monitor: the helper process itself, outside every new namespace. It clones the
 * sandbox's pid 1, writes its maps, relays its reports to the control socket as STARTED /
 * EXITED, enforces the timeout, and kills the sandbox on a KILL request or when the control
 * socket closes (the watching is in monitor_loop.c).
 */
#ifndef STK_MONITOR_H
#define STK_MONITOR_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Runs one sandbox for spec. Returns 0 after STARTED and EXITED were sent on fd 3, or -1 with
 * the set-up error in *err, which the caller sends as the one ERROR (then nothing else was
 * sent). Either way *own_crash says whether pid 1 or the egress forwarder died of a signal the
 * helper did not send (STK_EXIT_OWN_CRASH). */
int stk_monitor_run(const struct stk_spec *spec, bool *own_crash, struct stk_error *err);

#endif
