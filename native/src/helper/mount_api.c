#include "mount_api.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "stockade.h"

int stk_mount_open_beneath(int root, const char *dst, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const char *rel = dst[0] == '/' ? dst + 1 : dst;
    return (int)syscall(SYS_openat2, root, rel[0] == '\0' ? "." : rel, &how, sizeof how);
}

bool stk_mount_is_under(const char *path, const char *base)
{
    size_t n = stk_strlen(base);
    return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const struct stk_mount *stk_mount_covering(const struct stk_spec *spec, size_t index,
                                           const char *dst)
{
    /* Of two mounts that both contain dst one path holds the other, and the later one is on
     * top either way: below the earlier one, or over it (hiding it). */
    for (size_t j = index; j-- > 0;) {
        uint32_t type = spec->mounts[j].type;
        if (type != STK_MOUNT_SYMLINK && type != STK_MOUNT_FILE &&
            stk_mount_is_under(dst, spec->mounts[j].dst)) {
            return &spec->mounts[j];
        }
    }
    return NULL;
}

/* Every tree is made private as it gets its flags: a clone of a shared host mount would
 * otherwise join the host's peer group, and mounts made below it inside the sandbox would
 * propagate back to the host and outlive the sandbox. */
int stk_mount_set_attrs(int fd, unsigned int at_flags, uint64_t attrs, int userns_fd)
{
    struct mount_attr a;
    memset(&a, 0, sizeof a);
    a.attr_set = attrs;
    a.propagation = MS_PRIVATE;
    if (userns_fd >= 0) {
        a.attr_set |= MOUNT_ATTR_IDMAP;
        a.userns_fd = (uint64_t)userns_fd;
    }
    return mount_setattr(fd, "", AT_EMPTY_PATH | at_flags, &a, sizeof a);
}

int stk_mount_attach(int mount_fd, int target_fd)
{
    return move_mount(mount_fd, "", target_fd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int configure(int fs_fd, const struct stk_new_fs *fs, enum stk_step step,
                     struct stk_error *err)
{
    const char *const *options = fs->options;
    for (size_t i = 0; options != NULL && options[i] != NULL; i += 2) {
        int rc = options[i + 1] == NULL
                     ? fsconfig(fs_fd, FSCONFIG_SET_FLAG, options[i], NULL, 0)
                     : fsconfig(fs_fd, FSCONFIG_SET_STRING, options[i], options[i + 1], 0);
        if (rc < 0) {
            stk_fail_on(err, step, errno, "fsconfig", fs->type);
            stk_error_append(err, " ");
            stk_error_append(err, options[i]);
            return -1;
        }
    }
    if (fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        return stk_fail_on(err, step, errno, "fsconfig(FSCONFIG_CMD_CREATE)", fs->type);
    }
    return 0;
}

int stk_mount_new_fs(const struct stk_new_fs *fs, enum stk_step step, struct stk_error *err)
{
    int fs_fd = fsopen(fs->type, FSOPEN_CLOEXEC);
    if (fs_fd < 0) {
        return stk_fail_on(err, step, errno, "fsopen", fs->type);
    }
    int mnt = -1;
    if (configure(fs_fd, fs, step, err) == 0) {
        mnt = fsmount(fs_fd, FSMOUNT_CLOEXEC, fs->attrs);
        if (mnt < 0) {
            stk_fail_on(err, step, errno, "fsmount", fs->type);
        }
    }
    stk_close_fd(&fs_fd);
    return mnt;
}

int stk_mount_new_fs_at(int target, const struct stk_new_fs *fs, enum stk_step step,
                        const char *what, const char *subject, struct stk_error *err)
{
    int mnt = stk_mount_new_fs(fs, step, err);
    if (mnt < 0) {
        return -1;
    }
    int rc = 0;
    if (stk_mount_attach(mnt, target) < 0) {
        rc = stk_fail_on(err, step, errno, what, subject);
    }
    stk_close_fd(&mnt);
    return rc;
}

void stk_mount_tmpfs_bounds(uint64_t size, struct stk_tmpfs_bounds *b)
{
    uint64_t inodes = size / STK_TMPFS_BYTES_PER_INODE;
    if (inodes < STK_TMPFS_MIN_INODES) {
        inodes = STK_TMPFS_MIN_INODES;
    }
    stk_format_u64(b->size, size);
    stk_format_u64(b->inodes, inodes);
}
