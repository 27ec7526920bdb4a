#include "network.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int stk_loopback_up(struct stk_error *err)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return stk_fail(err, STK_STEP_LOOPBACK, errno, "socket(AF_INET)");
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int rc = 0;
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        rc = stk_fail(err, STK_STEP_LOOPBACK, errno, "SIOCGIFFLAGS lo");
    } else {
        ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
            rc = stk_fail(err, STK_STEP_LOOPBACK, errno, "SIOCSIFFLAGS lo IFF_UP");
        }
    }
    close(sock);
    return rc;
}
