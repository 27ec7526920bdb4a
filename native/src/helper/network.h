/* The sandbox's network namespace: it starts with a loopback interface that is down. */
#ifndef STK_NETWORK_H
#define STK_NETWORK_H

#include "error.h"

/* Brings "lo" up, so servers and clients inside can use 127.0.0.1 and ::1. Step "loopback".
 * Async-signal-safe. */
int stk_loopback_up(struct stk_error *err);

#endif
