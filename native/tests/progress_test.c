/*
 * The progress page's timings (progress.c, stockade.h's rule), in-process: the page is a
 * sealed memfd at fd STK_PROGRESS_FD as the Java side passes it, seen through a second mapping.
 * The invariant checked exactly: the times in the slots add up to the clock's advance since the
 * Java side's stamp, less the idle time a warm monitor's restart skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "stockade.h"

static int failures;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);                  \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

static volatile unsigned char *view;

static uint32_t u32_at(unsigned offset) { return *(volatile uint32_t *)(view + offset); }
static uint64_t u64_at(unsigned offset) { return *(volatile uint64_t *)(view + offset); }
static uint64_t time_of(enum stk_step s) { return u64_at(STK_PROGRESS_TIMES_OFFSET + 8u * s); }

static uint64_t sum_of_times(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < STK_PROGRESS_STEP_SLOTS; i++) {
        sum += u64_at(STK_PROGRESS_TIMES_OFFSET + 8u * i);
    }
    return sum;
}

static void check_order(const unsigned char *expected, uint32_t count)
{
    CHECK(u32_at(STK_PROGRESS_ORDER_COUNT_OFFSET) == count);
    for (uint32_t i = 0; i < count; i++) {
        CHECK(view[STK_PROGRESS_ORDER_OFFSET + i] == expected[i]);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(void)
{
    int fd = memfd_create("progress_test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, STK_PROGRESS_SIZE) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        perror("memfd");
        return 1;
    }
    void *mapped = mmap(NULL, STK_PROGRESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    view = mapped;
    /* The Java side's stamp (ProgressPage.stamped): in "helper" since t0, listed first. */
    uint64_t t0 = now_ns();
    *(volatile uint32_t *)(view + STK_PROGRESS_STEP_OFFSET) = STK_STEP_HELPER;
    *(volatile uint64_t *)(view + STK_PROGRESS_CLOCK_OFFSET) = t0;
    *(volatile uint32_t *)(view + STK_PROGRESS_ORDER_COUNT_OFFSET) = 1;
    view[STK_PROGRESS_ORDER_OFFSET] = STK_STEP_HELPER;
    if (dup2(fd, STK_PROGRESS_FD) != STK_PROGRESS_FD) {
        perror("dup2");
        return 1;
    }

    /* Attach enters "spec": the helper's start is "helper"'s, and the fd is closed. */
    stk_progress_attach();
    CHECK(fcntl(STK_PROGRESS_FD, F_GETFD) < 0 && errno == EBADF);
    CHECK(u32_at(STK_PROGRESS_STEP_OFFSET) == STK_STEP_SPEC);
    CHECK(u64_at(STK_PROGRESS_CLOCK_OFFSET) >= t0);
    CHECK(time_of(STK_STEP_HELPER) == u64_at(STK_PROGRESS_CLOCK_OFFSET) - t0);
    check_order((const unsigned char[]){STK_STEP_HELPER, STK_STEP_SPEC}, 2);

    /* Steps and mounts; a step entered again is listed once, its times summed. */
    stk_progress_step(STK_STEP_CLONE);
    stk_progress_mount(STK_STEP_BIND, 0);
    CHECK(u32_at(STK_PROGRESS_MOUNT_OFFSET) == 1);
    uint64_t bind_first = u64_at(STK_PROGRESS_CLOCK_OFFSET);
    stk_progress_mount(STK_STEP_BIND, 4);
    CHECK(u32_at(STK_PROGRESS_MOUNT_OFFSET) == 5);
    uint64_t bind_once = time_of(STK_STEP_BIND);
    CHECK(bind_once == u64_at(STK_PROGRESS_CLOCK_OFFSET) - bind_first);
    stk_progress_step(STK_STEP_PIVOT_ROOT);
    CHECK(u32_at(STK_PROGRESS_MOUNT_OFFSET) == 0);
    CHECK(time_of(STK_STEP_BIND) >= bind_once);
    stk_progress_step(STK_STEP_CLONE);
    stk_progress_step(STK_STEP_EXECVE);
    check_order((const unsigned char[]){STK_STEP_HELPER, STK_STEP_SPEC, STK_STEP_CLONE,
                                        STK_STEP_BIND, STK_STEP_PIVOT_ROOT, STK_STEP_EXECVE},
                6);
    CHECK(sum_of_times() == u64_at(STK_PROGRESS_CLOCK_OFFSET) - t0);

    /* pid 1's last change: execve gets its time, no step is entered. */
    uint64_t before_finish = u64_at(STK_PROGRESS_CLOCK_OFFSET);
    uint64_t execve_before = time_of(STK_STEP_EXECVE);
    stk_progress_finish();
    CHECK(u32_at(STK_PROGRESS_STEP_OFFSET) == STK_STEP_EXECVE);
    CHECK(u32_at(STK_PROGRESS_ORDER_COUNT_OFFSET) == 6);
    CHECK(time_of(STK_STEP_EXECVE) - execve_before ==
          u64_at(STK_PROGRESS_CLOCK_OFFSET) - before_finish);
    CHECK(sum_of_times() == u64_at(STK_PROGRESS_CLOCK_OFFSET) - t0);

    /* A warm sandbox: "command" entered, then idle; the restart skips the idle time. */
    stk_progress_step(STK_STEP_COMMAND);
    uint64_t idle_from = u64_at(STK_PROGRESS_CLOCK_OFFSET);
    usleep(20000);
    stk_progress_restart_clock();
    uint64_t idle_to = u64_at(STK_PROGRESS_CLOCK_OFFSET);
    CHECK(idle_to >= idle_from + 20000000ull);
    stk_progress_step(STK_STEP_SETSID);
    CHECK(sum_of_times() == u64_at(STK_PROGRESS_CLOCK_OFFSET) - t0 - (idle_to - idle_from));

    /* A step value outside the slots in the page (nobody's to write but the helper's) is not
     * counted, and a full order list takes no more entries. */
    uint64_t sum = sum_of_times();
    *(volatile uint32_t *)(view + STK_PROGRESS_STEP_OFFSET) = 200;
    stk_progress_step(STK_STEP_DEV);
    CHECK(sum_of_times() == sum);
    CHECK(view[STK_PROGRESS_ORDER_OFFSET + 8] == STK_STEP_DEV);
    *(volatile uint32_t *)(view + STK_PROGRESS_ORDER_COUNT_OFFSET) = STK_PROGRESS_STEP_SLOTS;
    unsigned char past = view[STK_PROGRESS_ORDER_OFFSET + STK_PROGRESS_STEP_SLOTS];
    stk_progress_step(STK_STEP_PROC);
    CHECK(u32_at(STK_PROGRESS_ORDER_COUNT_OFFSET) == STK_PROGRESS_STEP_SLOTS);
    CHECK(view[STK_PROGRESS_ORDER_OFFSET + STK_PROGRESS_STEP_SLOTS] == past);
    CHECK(u32_at(STK_PROGRESS_STEP_OFFSET) == STK_STEP_PROC);

    if (failures != 0) {
        fprintf(stderr, "progress_test: %d failed\n", failures);
        return 1;
    }
    printf("progress_test: ok\n");
    return 0;
}
