/*
 * The monitor: the helper process itself, outside every new namespace. It clones the
 * sandbox's pid 1, writes its maps, relays its reports to the control socket as STARTED /
 * ERROR / EXITED, enforces the timeout, and kills the sandbox on a KILL request or when the
 * control socket closes.
 */
#ifndef STK_MONITOR_H
#define STK_MONITOR_H

#include "spec.h"

/* Runs one sandbox for spec; returns the helper's exit code (0 after EXITED, else the ERROR's
 * exit code). Exactly one of ERROR, or STARTED followed by EXITED, is sent on fd 3. */
int stk_monitor_run(const struct stk_spec *spec);

#endif
