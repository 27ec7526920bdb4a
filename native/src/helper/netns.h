/*
 * The sandbox's network namespace, made beside pid 1 instead of in its clone.
 *
 * Creating a network namespace costs more than every other namespace together (the kernel runs
 * each protocol's per-namespace set-up), and a clone with CLONE_NEWNET pays it before pid 1
 * runs at all. So the monitor clones pid 1 without it, forks a short-lived maker that enters
 * pid 1's user namespace, creates the network namespace there, brings lo up and passes the
 * namespace's fd to pid 1, which builds the view meanwhile and joins it after the mounts. The
 * namespace is the same one the clone would have made: owned by the sandbox's user namespace,
 * with lo up, joined before anything of the sandbox runs.
 */
#ifndef STK_NETNS_H
#define STK_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Forks the maker. pid1_pidfd: pid 1, its maps written; join_user: enter its user namespace
 * first (the spec has CLONE_NEWUSER); channel: the monitor's end of the socketpair whose other
 * end pid 1 holds. Returns the maker's pid, to reap with stk_netns_reap_in_monitor, or 0 when
 * the fork failed. Every failure, the fork's included, reaches pid 1 as an ERROR record on the
 * channel (step "network_namespace"), which pid 1 reports: pid 1 is running by then. */
pid_t stk_netns_make_in_monitor(int pid1_pidfd, bool join_user, int channel);

/* pid 1: waits for the maker's record and joins the namespace it carries (step
 * "network_namespace"; the maker's own failure keeps its step, e.g. "loopback"). Closes
 * *channel on every path. Async-signal-safe. */
int stk_netns_join_in_pid1(int *channel, struct stk_error *err);

/* Ends and reaps the maker (*maker 0 afterwards), safe by pid: it is our unreaped child. Once
 * pid 1 joined (STARTED, READY) the maker has sent and only exits: the wait is short, block.
 * After pid 1's ERROR the maker may be deep in the kernel (rtnl_lock, which no kill
 * interrupts): block false kills it and reaps it only if it is gone, so the monitor's loop
 * never waits for it; its way out (block true) reaps it then. */
void stk_netns_reap_in_monitor(pid_t *maker, bool block);

#endif
