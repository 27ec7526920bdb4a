/*
 * pid 1's side of REPORT rules (seccomp user notification). Every notification is answered
 * with its syscall's errno, or let through for errno 0, and counted per syscall (and per
 * distinct value of the argument bits its report rules test) in a table
 * allocated by the monitor before the clone: however often a step calls a reported syscall,
 * memory stays flat and at most two VIOLATION records per count reach the monitor, one when
 * it is first used and one with the final count before EXITED.
 *
 * The table is a MAP_SHARED mapping the monitor makes before the clone: when pid 1 is killed
 * (a timeout without grace, a KILL request, the output bound) it cannot send its final counts,
 * and the monitor sends them from the table itself once pid 1 is reaped.
 */
#ifndef STK_NOTIFY_H
#define STK_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"
#include "status.h"

/* Slots for syscalls the filter sends to notification without a REPORT field (answered with
 * EPERM). Beyond these, such calls are still answered but not recorded. */
#define STK_NOTIFY_SPARE 64u

/* One count: a syscall, and among its calls those with the same (args & masks), so that calls
 * different report rules caught are counted apart. */
struct stk_notify_slot {
    struct stk_violation v;
    uint64_t masks[6];   /* listed slots: from the REPORT field; 0 = one count per syscall */
    uint64_t key[6];     /* args & masks of the calls counted here, once keyed */
    bool keyed;
    uint64_t sent_count; /* count of the last VIOLATION sent; 0 = none yet */
};

/* Shared between pid 1 (which writes it) and the monitor (which reads it once pid 1 is gone). */
struct stk_notify_table {
    uint64_t used;                 /* slots in use */
    struct stk_notify_slot slots[]; /* listed (sorted by nr), then spare ones in use: further
                                     * keys of listed syscalls, and unlisted syscalls */
};

struct stk_notify {
    struct stk_notify_table *table; /* MAP_SHARED, table_size bytes; NULL without REPORT */
    size_t table_size;
    size_t listed, capacity;
    void *request; /* the kernel's struct seccomp_notif size, at least ours */
    size_t request_size;
    void *response; /* likewise struct seccomp_notif_resp */
    size_t response_size;
    bool started; /* STARTED went out: VIOLATION records may follow */
};

/* Monitor, before the clone, only when the spec has REPORT fields: the table and the
 * notification buffers (sized as this kernel reports them). Step "seccomp". */
int stk_notify_prepare(struct stk_notify *n, const struct stk_spec *spec, struct stk_error *err);
void stk_notify_free(struct stk_notify *n);

/* pid 1, when the listener is readable: receives one notification, answers it and counts it.
 * Returns 0, or -1 with errno when the listener cannot be used any more. */
int stk_notify_handle(struct stk_notify *n, int listener, int status_fd);

/* pid 1, right after STARTED: the first VIOLATION of every syscall seen before it. */
void stk_notify_started(struct stk_notify *n, int status_fd);

/* pid 1, right before EXITED: the final count of every syscall whose count changed since its
 * last VIOLATION. */
void stk_notify_flush(struct stk_notify *n, int status_fd);

#endif
