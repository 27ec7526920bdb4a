/*
 * OVERLAY mounts: overlayfs with the host directory src as its only lower layer and a fresh,
 * never attached tmpfs of the mount's size as upper and work: the sandbox writes there, the
 * host directory is never written.
 */
#ifndef STK_OVERLAY_H
#define STK_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

/* Who owns the upper layer's root (the overlay's root directory): the sandbox user, so that
 * the command can create files at the top of the overlay. */
struct stk_overlay_owner {
    /* the monitor (host root) builds it: the upper layer chowned to the ids below, the lower
     * layer idmapped so that its owner appears as them */
    bool chown_upper;
    uint32_t uid, gid; /* the sandbox's ids as the builder sees them */
};

/*
 * Builds m's overlay as a detached mount (nosuid, nodev) and returns its fd, -1 with err
 * (step "overlay"). The lower layer is opened here without following any symbolic link, so
 * this runs where the host's paths are visible: the monitor for a root caller (overlayfs takes
 * only layers of the builder's own mount namespace or of a detached tree, and its mounter's
 * credentials must reach a root-owned source), pid 1 otherwise (in_userns: the overlay's own
 * xattrs are then user.overlay.*, which a user namespace may write: "userxattr"). fsconfig
 * with FSCONFIG_SET_FD (kernel 6.8 and later): no path string is parsed again.
 * A TRANSACTIONAL mount's upper directory is also returned in *kept_upper (O_PATH); it is
 * not written otherwise.
 */
int stk_overlay_make(const struct stk_mount *m, bool in_userns,
                     const struct stk_overlay_owner *owner, int *kept_upper,
                     struct stk_error *err);

#endif
