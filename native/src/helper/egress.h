/*
 * The egress forwarder of STK_F_EGRESS (stockade.h, docs/protocol.md): pid 1 listens on
 * 127.0.0.1:port in the sandbox's network namespace and forks a process that accepts there and
 * relays each connection, byte for byte, over a new stream to the spec's UNIX socket, where the
 * caller's proxy decides what may go where. The forwarder parses nothing it relays.
 */
#ifndef STK_EGRESS_H
#define STK_EGRESS_H

#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Bytes a connection buffers in each direction: a reader that stops reading holds at most
 * this much of the forwarder's memory before the other side is no longer read. */
#define STK_EGRESS_BUFFER_BYTES 16384u

/* Called by pid 1 with the spec's EGRESS field present, after its capabilities are dropped and
 * it is non-dumpable (the forwarder inherits both), before the command's fork: listens, maps the
 * buffers, forks the forwarder and closes pid 1's copies. Returns the forwarder's pid (pid 1 reaps
 * it and reports its crash), or -1 with the error, step `egress`. */
pid_t stk_egress_start(const struct stk_spec *spec, struct stk_error *err);

#endif
