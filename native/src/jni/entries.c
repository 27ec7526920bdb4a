/* Walking a directory tree another party wrote (a step's workspace): openat2 with RESOLVE_*,
 * fstat of what was actually opened, getdents64, the *at calls that act on one entry of an
 * open directory, and the calls that change an open descriptor's inode itself (never a name). Each entry point is one system call; the walk itself is Java's
 * (dev.stockade.internal.SafeTree). Names travel as byte arrays: a name a step created need
 * not be UTF-8. */
#define _GNU_SOURCE
#include "dev_stockade_internal_NativeBridge.h"
#include "errors.h"
#include "fs_calls.h"
#include "java_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Indices of the long[] fstat returns; NativeBridge.STAT_* mirrors them. */
enum {
    STAT_MODE,
    STAT_SIZE,
    STAT_DEV,
    STAT_INO,
    STAT_UID,
    STAT_GID,
    STAT_NLINK,
    STAT_RDEV_MAJOR,
    STAT_RDEV_MINOR,
    STAT_MTIME_SEC,
    STAT_MTIME_NSEC,
    STAT_FIELDS
};

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_openat2(JNIEnv *env, jclass type,
                                                                        jint dirfd, jbyteArray path,
                                                                        jint flags, jint mode,
                                                                        jlong resolve)
{
    (void)type;
    if (mode < 0 || mode > 07777) {
        stk_throw_illegal_argument(env, "openat2: mode must be within 0..07777");
        return -1;
    }
    char *native_path = stk_path_bytes(env, path, "path");
    if (native_path == NULL) {
        return -1;
    }
    int fd = stk_openat2(dirfd, native_path, flags, (mode_t)mode, (uint64_t)resolve);
    if (fd < 0) {
        stk_throw_errno_detail(env, "openat2", errno, native_path);
    }
    free(native_path);
    return fd;
}

JNIEXPORT jlongArray JNICALL Java_dev_stockade_internal_NativeBridge_fstat(JNIEnv *env,
                                                                            jclass type, jint fd)
{
    (void)type;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        stk_throw_errno(env, "fstat", errno);
        return NULL;
    }
    jlong fields[STAT_FIELDS];
    fields[STAT_MODE] = (jlong)st.st_mode;
    fields[STAT_SIZE] = (jlong)st.st_size;
    fields[STAT_DEV] = (jlong)st.st_dev;
    fields[STAT_INO] = (jlong)st.st_ino;
    fields[STAT_UID] = (jlong)st.st_uid;
    fields[STAT_GID] = (jlong)st.st_gid;
    fields[STAT_NLINK] = (jlong)st.st_nlink;
    fields[STAT_RDEV_MAJOR] = (jlong)major(st.st_rdev);
    fields[STAT_RDEV_MINOR] = (jlong)minor(st.st_rdev);
    fields[STAT_MTIME_SEC] = (jlong)st.st_mtim.tv_sec;
    fields[STAT_MTIME_NSEC] = (jlong)st.st_mtim.tv_nsec;
    jlongArray result = (*env)->NewLongArray(env, STAT_FIELDS);
    if (result != NULL) {
        (*env)->SetLongArrayRegion(env, result, 0, STAT_FIELDS, fields);
    }
    return result;
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_getdents64(JNIEnv *env,
                                                                           jclass type, jint fd,
                                                                           jbyteArray buffer)
{
    (void)type;
    if (buffer == NULL) {
        stk_throw_null(env, "buffer");
        return -1;
    }
    jsize size = (*env)->GetArrayLength(env, buffer);
    void *native = malloc(size > 0 ? (size_t)size : 1);
    if (native == NULL) {
        stk_throw_errno(env, "getdents64", ENOMEM);
        return -1;
    }
    long n = stk_getdents64(fd, native, (size_t)size);
    if (n < 0) {
        stk_throw_errno(env, "getdents64", errno);
    } else {
        (*env)->SetByteArrayRegion(env, buffer, 0, (jsize)n, (const jbyte *)native);
    }
    free(native);
    return (jint)n;
}

JNIEXPORT jlong JNICALL Java_dev_stockade_internal_NativeBridge_lseek(JNIEnv *env, jclass type,
                                                                       jint fd, jlong offset,
                                                                       jint whence)
{
    (void)type;
    off_t at = lseek(fd, (off_t)offset, whence);
    if (at < 0) {
        stk_throw_errno(env, "lseek", errno);
    }
    return (jlong)at;
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_unlinkat(JNIEnv *env, jclass type,
                                                                         jint dirfd,
                                                                         jbyteArray name,
                                                                         jint flags)
{
    (void)type;
    char *native_name = stk_path_bytes(env, name, "name");
    if (native_name == NULL) {
        return;
    }
    if (unlinkat(dirfd, native_name, flags) != 0) {
        stk_throw_errno_detail(env, "unlinkat", errno, native_name);
    }
    free(native_name);
}

/* The three calls below change the inode fd refers to (an O_PATH descriptor too) through an
 * empty name and AT_EMPTY_PATH: nothing is looked up by name, so a name swapped for another
 * file (a hard link to someone else's) after fd was opened and examined is never what changes. */
JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_fchmod(JNIEnv *env, jclass type,
                                                                       jint fd, jint mode)
{
    (void)type;
    if (mode < 0 || mode > 07777) {
        stk_throw_illegal_argument(env, "fchmodat2: mode must be within 0..07777");
        return;
    }
    if (stk_fchmod_fd(fd, (mode_t)mode) != 0) {
        stk_throw_errno(env, "fchmodat2", errno);
    }
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_fchown(JNIEnv *env, jclass type,
                                                                       jint fd, jint uid, jint gid)
{
    (void)type;
    if (fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        stk_throw_errno(env, "fchownat", errno);
    }
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_futimens(JNIEnv *env, jclass type,
                                                                         jint fd, jlong seconds,
                                                                         jlong nanos)
{
    (void)type;
    if (nanos < 0 || nanos > 999999999) {
        stk_throw_illegal_argument(env, "utimensat: nanoseconds must be within 0..999999999");
        return;
    }
    const struct timespec times[2] = {{(time_t)seconds, (long)nanos},
                                      {(time_t)seconds, (long)nanos}};
    /* futimens(2) refuses an O_PATH descriptor (EBADF); the empty name takes any. */
    if (utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        stk_throw_errno(env, "utimensat", errno);
    }
}

JNIEXPORT jlong JNICALL Java_dev_stockade_internal_NativeBridge_fstatfsType(JNIEnv *env,
                                                                             jclass type, jint fd)
{
    (void)type;
    struct statfs st;
    if (fstatfs(fd, &st) != 0) {
        stk_throw_errno(env, "fstatfs", errno);
        return -1;
    }
    return (jlong)st.f_type;
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_mkdirat(JNIEnv *env, jclass type,
                                                                        jint dirfd,
                                                                        jbyteArray name,
                                                                        jint mode)
{
    (void)type;
    if (mode < 0 || mode > 07777) {
        stk_throw_illegal_argument(env, "mkdirat: mode must be within 0..07777");
        return;
    }
    char *native_name = stk_path_bytes(env, name, "name");
    if (native_name == NULL) {
        return;
    }
    if (mkdirat(dirfd, native_name, (mode_t)mode) != 0) {
        stk_throw_errno_detail(env, "mkdirat", errno, native_name);
    }
    free(native_name);
}

JNIEXPORT jbyteArray JNICALL Java_dev_stockade_internal_NativeBridge_readlinkat(JNIEnv *env,
                                                                                 jclass type,
                                                                                 jint dirfd,
                                                                                 jbyteArray name)
{
    (void)type;
    if (name == NULL) {
        stk_throw_null(env, "name");
        return NULL;
    }
    /* An empty name reads the link dirfd itself is (opened O_PATH|O_NOFOLLOW): no path is
     * looked up again, so the link read is the one examined. */
    char empty[1] = {'\0'};
    char *native_name = (*env)->GetArrayLength(env, name) == 0 ? empty
                                                               : stk_path_bytes(env, name, "name");
    if (native_name == NULL) {
        return NULL;
    }
    /* A link's content is at most PATH_MAX - 1 bytes (symlink() refuses longer ones). */
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, native_name, target, sizeof target);
    jbyteArray result = NULL;
    if (n == (ssize_t)sizeof target) {
        stk_throw_errno_detail(env, "readlinkat", ENAMETOOLONG, native_name);
    } else if (n < 0) {
        stk_throw_errno_detail(env, "readlinkat", errno, native_name);
    } else {
        result = (*env)->NewByteArray(env, (jsize)n);
        if (result != NULL) {
            (*env)->SetByteArrayRegion(env, result, 0, (jsize)n, (const jbyte *)target);
        }
    }
    if (native_name != empty) {
        free(native_name);
    }
    return result;
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_renameatFlags(
    JNIEnv *env, jclass type, jint olddirfd, jbyteArray oldname, jint newdirfd,
    jbyteArray newname, jint flags)
{
    (void)type;
    char *old_native = stk_path_bytes(env, oldname, "oldname");
    if (old_native == NULL) {
        return;
    }
    char *new_native = stk_path_bytes(env, newname, "newname");
    if (new_native == NULL) {
        free(old_native);
        return;
    }
    if (renameat2(olddirfd, old_native, newdirfd, new_native, (unsigned int)flags) != 0) {
        stk_throw_errno_detail(env, "renameat2", errno, new_native);
    }
    free(old_native);
    free(new_native);
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_symlinkat(JNIEnv *env,
                                                                          jclass type,
                                                                          jbyteArray target,
                                                                          jint dirfd,
                                                                          jbyteArray name)
{
    (void)type;
    char *native_target = stk_path_bytes(env, target, "target");
    if (native_target == NULL) {
        return;
    }
    char *native_name = stk_path_bytes(env, name, "name");
    if (native_name == NULL) {
        free(native_target);
        return;
    }
    if (symlinkat(native_target, dirfd, native_name) != 0) {
        stk_throw_errno_detail(env, "symlinkat", errno, native_name);
    }
    free(native_target);
    free(native_name);
}

/* fgetxattr on a descriptor open for reading: the value, or NULL (no exception) when the file
 * has no such attribute (ENODATA). At most 4096 bytes: the overlay's markers are one byte. */
JNIEXPORT jbyteArray JNICALL Java_dev_stockade_internal_NativeBridge_fgetxattr(JNIEnv *env,
                                                                               jclass type,
                                                                               jint fd,
                                                                               jbyteArray name)
{
    (void)type;
    char *native_name = stk_path_bytes(env, name, "name");
    if (native_name == NULL) {
        return NULL;
    }
    char value[4096];
    ssize_t n = fgetxattr(fd, native_name, value, sizeof value);
    jbyteArray result = NULL;
    if (n < 0) {
        if (errno != ENODATA) {
            stk_throw_errno_detail(env, "fgetxattr", errno, native_name);
        }
    } else {
        result = (*env)->NewByteArray(env, (jsize)n);
        if (result != NULL) {
            (*env)->SetByteArrayRegion(env, result, 0, (jsize)n, (const jbyte *)value);
        }
    }
    free(native_name);
    return result;
}
