#include "notify.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int stk_notify_prepare(struct stk_notify *n, const struct stk_spec *spec, struct stk_error *err)
{
    memset(n, 0, sizeof *n);
    /* The kernel writes its own struct size on RECV and reads its own on SEND: the buffers
     * follow what it reports, so a newer kernel's larger structs never overrun them. */
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
        return stk_fail(err, STK_STEP_SECCOMP, errno,
                        "SECCOMP_GET_NOTIF_SIZES (REPORT needs seccomp user notification)");
    }
    n->request_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
                          ? sizes.seccomp_notif
                          : sizeof(struct seccomp_notif);
    n->response_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                           ? sizes.seccomp_notif_resp
                           : sizeof(struct seccomp_notif_resp);
    n->listed = spec->report_count;
    n->capacity = n->listed + STK_NOTIFY_SPARE;
    n->table_size = sizeof *n->table + n->capacity * sizeof n->table->slots[0];
    /* Anonymous shared memory comes zeroed, and pid 1's stores stay visible to the monitor
     * after pid 1 is gone. */
    void *table = mmap(NULL, n->table_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
    n->table = table == MAP_FAILED ? NULL : table;
    n->request = calloc(1, n->request_size);
    n->response = calloc(1, n->response_size);
    if (n->table == NULL || n->request == NULL || n->response == NULL) {
        stk_notify_free(n);
        return stk_fail(err, STK_STEP_SECCOMP, ENOMEM, "allocating the report table");
    }
    n->table->used = n->listed;
    for (size_t i = 0; i < n->listed; i++) {
        n->table->slots[i].v.nr = spec->reports[i].nr;
        n->table->slots[i].v.err = spec->reports[i].err;
        memcpy(n->table->slots[i].masks, spec->reports[i].masks,
               sizeof n->table->slots[i].masks);
    }
    return 0;
}

void stk_notify_free(struct stk_notify *n)
{
    if (n->table != NULL) {
        munmap(n->table, n->table_size);
    }
    free(n->request);
    free(n->response);
    memset(n, 0, sizeof *n);
}

/* The listed part is sorted by nr (spec.c); the spare part is short and searched in order. */
static struct stk_notify_slot *find_listed(struct stk_notify *n, uint32_t nr)
{
    size_t lo = 0, hi = n->listed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->table->slots[mid].v.nr == nr) {
            return &n->table->slots[mid];
        }
        if (n->table->slots[mid].v.nr < nr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static bool same_key(const struct stk_notify_slot *s, const uint64_t key[6])
{
    for (int i = 0; i < 6; i++) {
        if (s->key[i] != key[i]) {
            return false;
        }
    }
    return true;
}

/* The slot counting this call: the syscall's listed slot for the first key seen, a spare slot
 * per further key. With no spare slot left, further keys are counted in the listed slot (the
 * count stays exact per syscall, only the split by rule is lost). A syscall without a REPORT
 * field gets a spare slot of its own. NULL when none is left. */
static struct stk_notify_slot *find_slot(struct stk_notify *n, uint32_t nr, const uint64_t *args)
{
    struct stk_notify_slot *listed = find_listed(n, nr);
    uint64_t key[6] = {0, 0, 0, 0, 0, 0};
    if (listed != NULL) {
        for (int i = 0; i < 6; i++) {
            key[i] = args[i] & listed->masks[i];
        }
        if (!listed->keyed) {
            listed->keyed = true;
            memcpy(listed->key, key, sizeof key);
            return listed;
        }
        if (same_key(listed, key)) {
            return listed;
        }
    }
    for (size_t i = n->listed; i < n->table->used; i++) {
        if (n->table->slots[i].v.nr == nr && same_key(&n->table->slots[i], key)) {
            return &n->table->slots[i];
        }
    }
    if (n->table->used == n->capacity) {
        return listed;
    }
    struct stk_notify_slot *slot = &n->table->slots[n->table->used++];
    slot->v.nr = nr;
    /* The filter notified a syscall without a REPORT field: deny it like an unknown rule
     * would, and record it so the report shows the mismatch. */
    slot->v.err = listed != NULL ? listed->v.err : EPERM;
    memcpy(slot->key, key, sizeof key);
    slot->keyed = true;
    return slot;
}

static void send_violation(struct stk_notify_slot *s, int status_fd)
{
    struct stk_record r;
    memset(&r, 0, sizeof r);
    r.kind = STK_REC_VIOLATION;
    r.violation = s->v;
    /* A monitor that is gone takes pid 1 down with it (parent-death signal): nothing to do. */
    stk_record_send(status_fd, &r, -1);
    s->sent_count = s->v.count;
}

int stk_notify_handle(struct stk_notify *n, int listener, int status_fd)
{
    /* RECV refuses a buffer that is not zeroed (the struct is extensible). */
    memset(n->request, 0, n->request_size);
    struct seccomp_notif *req = n->request;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
        /* ENOENT: the caller died (or a signal interrupted its call) after poll saw it. */
        return errno == ENOENT || errno == EINTR ? 0 : -1;
    }
    uint32_t nr = (uint32_t)req->data.nr;
    uint64_t args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = req->data.args[i];
    }
    struct stk_notify_slot *slot = find_slot(n, nr, args);
    uint32_t answer = slot != NULL ? slot->v.err : EPERM;

    memset(n->response, 0, n->response_size);
    struct seccomp_notif_resp *resp = n->response;
    resp->id = req->id;
    if (answer == 0) {
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        resp->error = -(int32_t)answer;
    }
    /* Counted before the answer: once answered, the caller runs on and may get the sandbox
     * killed (the output bound, a kill it waits for) before pid 1 is scheduled again, and the
     * monitor then reads the count pid 1 left in the shared table. */
    if (slot != NULL) {
        if (slot->v.count == 0) {
            slot->v.pid = (int32_t)req->pid;
            for (int i = 0; i < 6; i++) {
                slot->v.args[i] = req->data.args[i];
            }
        }
        slot->v.count++;
    }
    /* ENOENT: the caller is gone or was interrupted by a signal before the answer. Its call
     * did not complete, so it is not counted: a restarted call comes back as a new
     * notification and is counted then. */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0) {
        int saved = errno;
        if (slot != NULL) {
            slot->v.count--;
        }
        return saved == ENOENT ? 0 : -1;
    }
    if (slot == NULL) {
        return 0;
    }
    if (n->started && slot->sent_count == 0) {
        send_violation(slot, status_fd);
    }
    return 0;
}

void stk_notify_started(struct stk_notify *n, int status_fd)
{
    n->started = true;
    for (size_t i = 0; i < n->table->used; i++) {
        if (n->table->slots[i].v.count != 0 && n->table->slots[i].sent_count == 0) {
            send_violation(&n->table->slots[i], status_fd);
        }
    }
}

void stk_notify_flush(struct stk_notify *n, int status_fd)
{
    if (!n->started) {
        return;
    }
    for (size_t i = 0; i < n->table->used; i++) {
        if (n->table->slots[i].v.count != n->table->slots[i].sent_count) {
            send_violation(&n->table->slots[i], status_fd);
        }
    }
}
