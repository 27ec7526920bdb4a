#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"

/* Where the stores go without a page. */
static uint32_t private_words[2];
static volatile uint32_t *words = private_words;

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
        void *page = mmap(NULL, STK_PROGRESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (page != MAP_FAILED) {
            words = (volatile uint32_t *)page;
        }
    }
    stk_close_fd(&fd);
}

void stk_progress_step(enum stk_step step)
{
    words[STK_PROGRESS_MOUNT_OFFSET / 4] = 0;
    words[STK_PROGRESS_STEP_OFFSET / 4] = (uint32_t)step;
}

void stk_progress_mount(enum stk_step step, size_t index)
{
    words[STK_PROGRESS_MOUNT_OFFSET / 4] = (uint32_t)(index + 1);
    words[STK_PROGRESS_STEP_OFFSET / 4] = (uint32_t)step;
}
