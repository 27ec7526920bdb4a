#include "hostname.h"

#include <errno.h>
#include <unistd.h>

int stk_hostname_set(const char *name, size_t len, struct stk_error *err)
{
    if (sethostname(name, len) < 0) {
        return stk_fail_on(err, STK_STEP_HOSTNAME, errno, "sethostname", name);
    }
    return 0;
}
