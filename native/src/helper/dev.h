/*
 * The sandbox's minimal /dev: a small read-only tmpfs holding the host's null, zero, full,
 * random, urandom and tty nodes (bind-mounted, cloned before the root view hides them), a
 * devpts instance of its own, a shm tmpfs and the usual links. In pid 1. Async-signal-safe.
 */
#ifndef STK_DEV_H
#define STK_DEV_H

#include "error.h"
#include "spec.h"

#define STK_DEV_NODE_COUNT 6

/* The host's device nodes as detached mounts, nosuid, noexec (not nodev: these are the only
 * device files the sandbox can open), into nodes. The caller closes them. Step "dev". */
int stk_dev_clone_nodes(int nodes[STK_DEV_NODE_COUNT], struct stk_error *err);

/* Mounts the new /dev at /dev inside the tree root, populates it from nodes, and makes it
 * read-only. Step "dev". */
int stk_dev_mount(int root, const int nodes[STK_DEV_NODE_COUNT], const struct stk_spec *spec,
                  struct stk_error *err);

#endif
