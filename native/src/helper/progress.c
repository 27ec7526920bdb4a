#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "sys.h"

_Static_assert(STK_PROGRESS_TIMES_OFFSET % 8 == 0 && STK_PROGRESS_CLOCK_OFFSET % 8 == 0,
               "the page's u64s are aligned");
_Static_assert(STK_PROGRESS_TIMES_OFFSET + 8 * STK_PROGRESS_STEP_SLOTS <=
                       STK_PROGRESS_ORDER_OFFSET &&
                   STK_PROGRESS_ORDER_OFFSET + STK_PROGRESS_STEP_SLOTS <= STK_PROGRESS_SIZE,
               "the page's arrays do not overlap and fit");
_Static_assert(STK_STEP_RESOLVE < STK_PROGRESS_STEP_SLOTS, "every step has a slot");

/* Where the stores go without a page: the same layout, read by nobody. */
static uint64_t private_page[STK_PROGRESS_SIZE / 8];
static volatile unsigned char *page = (volatile unsigned char *)private_page;

#define U32_AT(offset) (*(volatile uint32_t *)(page + (offset)))
#define U64_AT(offset) (*(volatile uint64_t *)(page + (offset)))

/* Only a memfd can carry seals; without F_SEAL_SHRINK the Java side (or anyone holding the fd)
 * could truncate it under the mapping and make a store fault. */
static int usable(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
        return 0;
    }
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)STK_PROGRESS_SIZE;
}

void stk_progress_attach(void)
{
    int fd = STK_PROGRESS_FD;
    if (fcntl(fd, F_GETFD) < 0) {
        return; /* not passed */
    }
    if (usable(fd)) {
        void *mapped = mmap(NULL, STK_PROGRESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (mapped != MAP_FAILED) {
            page = mapped;
        }
    }
    stk_close_fd(&fd);
    /* What the helper did up to here (its exec, the fd sweep) is the Java side's "helper". */
    stk_progress_step(STK_STEP_SPEC);
}

/* The header's rule: the time since the last change goes to the step being left. A page the
 * Java side never stamped (clock 0) starts the count here. Values outside the slots (a page
 * some other writer scribbled on) are not counted rather than stored out of bounds. */
static void account(uint64_t now)
{
    uint64_t last = U64_AT(STK_PROGRESS_CLOCK_OFFSET);
    uint32_t left = U32_AT(STK_PROGRESS_STEP_OFFSET);
    if (last != 0 && now >= last && left < STK_PROGRESS_STEP_SLOTS) {
        U64_AT(STK_PROGRESS_TIMES_OFFSET + 8u * left) += now - last;
    }
    U64_AT(STK_PROGRESS_CLOCK_OFFSET) = now;
}

static void enter(enum stk_step step, uint32_t mount)
{
    uint64_t now = stk_now_ns();
    account(now);
    uint32_t count = U32_AT(STK_PROGRESS_ORDER_COUNT_OFFSET);
    if (count > STK_PROGRESS_STEP_SLOTS) {
        count = STK_PROGRESS_STEP_SLOTS;
    }
    uint32_t i = 0;
    while (i < count && page[STK_PROGRESS_ORDER_OFFSET + i] != (unsigned char)step) {
        i++;
    }
    if (i == count && count < STK_PROGRESS_STEP_SLOTS) {
        page[STK_PROGRESS_ORDER_OFFSET + count] = (unsigned char)step;
        U32_AT(STK_PROGRESS_ORDER_COUNT_OFFSET) = count + 1;
    }
    U32_AT(STK_PROGRESS_MOUNT_OFFSET) = mount;
    U32_AT(STK_PROGRESS_STEP_OFFSET) = (uint32_t)step;
}

void stk_progress_step(enum stk_step step)
{
    enter(step, 0);
}

void stk_progress_mount(enum stk_step step, size_t index)
{
    enter(step, (uint32_t)(index + 1));
}

void stk_progress_finish(void)
{
    account(stk_now_ns());
}

void stk_progress_restart_clock(void)
{
    U64_AT(STK_PROGRESS_CLOCK_OFFSET) = stk_now_ns();
}
