#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "mount_api.h"
#include "stockade.h"

/* tmpfs counts whole pages: every file takes at least one. Each file also adds
 * STK_TMPFS_BYTES_PER_INODE, so that the inode count derived from the size (mount_api.c)
 * holds every file and the root whatever the floor. */
#define PAGE 4096u

bool stk_files_any(const struct stk_spec *spec)
{
    for (size_t i = 0; i < spec->mount_count; i++) {
        if (spec->mounts[i].type == STK_MOUNT_FILE) {
            return true;
        }
    }
    return false;
}

int stk_files_fs(const struct stk_spec *spec, struct stk_error *err)
{
    uint64_t bytes = 2u * STK_TMPFS_BYTES_PER_INODE;
    for (size_t i = 0; i < spec->mount_count; i++) {
        if (spec->mounts[i].type == STK_MOUNT_FILE) {
            bytes += (stk_strlen(spec->mounts[i].src) + PAGE - 1) / PAGE * PAGE +
                     STK_TMPFS_BYTES_PER_INODE;
        }
    }
    struct stk_tmpfs_bounds bounds;
    stk_mount_tmpfs_bounds(bytes, &bounds);
    const char *const options[] = {"mode", "0755", "size", bounds.size,
                                   "nr_inodes", bounds.inodes, NULL};
    const struct stk_new_fs tmpfs = {"tmpfs", options,
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
    return stk_mount_new_fs(&tmpfs, STK_STEP_FILE, err);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The file's name in the tmpfs: the mount's index, unique per spec. */
static void file_name(size_t index, char out[21])
{
    stk_format_u64(out, index);
}

int stk_files_make(int fs, const struct stk_spec *spec, size_t index, struct stk_error *err)
{
    const struct stk_mount *m = &spec->mounts[index];
    char name[21];
    file_name(index, name);
    int fd = openat(fs, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return stk_fail_on(err, STK_STEP_FILE, errno, "creating the file for", m->dst);
    }
    /* fchmod, not the open mode: the umask must not change what the spec asked for. */
    int rc = write_all(fd, m->src, stk_strlen(m->src));
    if (rc == 0) {
        rc = fchmod(fd, (mode_t)m->size);
    }
    if (rc < 0) {
        stk_fail_on(err, STK_STEP_FILE, errno, "writing the file for", m->dst);
    }
    stk_close_fd(&fd);
    if (rc < 0) {
        return -1;
    }
    int tree = open_tree(fs, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (tree < 0) {
        return stk_fail_on(err, STK_STEP_FILE, errno, "open_tree of the file for", m->dst);
    }
    if (stk_mount_set_attrs(tree, 0,
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                MOUNT_ATTR_NOEXEC,
                            -1) < 0) {
        stk_fail_on(err, STK_STEP_FILE, errno, "mount_setattr read-only", m->dst);
        stk_close_fd(&tree);
    }
    return tree;
}
