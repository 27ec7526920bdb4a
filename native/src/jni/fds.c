/* File descriptors: pipes, socket pairs, open/close, and java.io.FileDescriptor wrapping.
 * Every descriptor is created close-on-exec so a concurrent fork+exec elsewhere in the JVM
 * (ProcessBuilder, another sandbox) never inherits it. */
#define _GNU_SOURCE
#include "dev_stockade_internal_NativeBridge.h"
#include "errors.h"
#include "java_strings.h"
#include "stockade.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Hands a freshly created pair to Java; closes both when Java cannot take them. */
static jintArray fd_pair(JNIEnv *env, const int fds[2])
{
    jintArray pair = (*env)->NewIntArray(env, 2);
    if (pair == NULL) {
        (void)close(fds[0]);
        (void)close(fds[1]);
        return NULL; /* OutOfMemoryError is pending */
    }
    jint values[2] = {fds[0], fds[1]};
    (*env)->SetIntArrayRegion(env, pair, 0, 2, values);
    return pair;
}

JNIEXPORT jintArray JNICALL Java_dev_stockade_internal_NativeBridge_pipe(JNIEnv *env, jclass type)
{
    (void)type;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        stk_throw_errno(env, "pipe2", errno);
        return NULL;
    }
    return fd_pair(env, fds);
}

JNIEXPORT jintArray JNICALL Java_dev_stockade_internal_NativeBridge_socketPair(JNIEnv *env,
                                                                               jclass type)
{
    (void)type;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        stk_throw_errno(env, "socketpair", errno);
        return NULL;
    }
    return fd_pair(env, fds);
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_open(JNIEnv *env, jclass type,
                                                                     jstring path, jint flags,
                                                                     jint mode)
{
    (void)type;
    if (mode < 0 || mode > 07777) {
        stk_throw_illegal_argument(env, "open: mode must be within 0..07777");
        return -1;
    }
    char *native_path = stk_utf8(env, path, "path");
    if (native_path == NULL) {
        return -1;
    }
    int fd;
    /* Opening a FIFO blocks and can be interrupted by a signal; the caller asked for the file,
     * not for an EINTR. */
    do {
        fd = open(native_path, flags | O_CLOEXEC, (mode_t)mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        stk_throw_errno_detail(env, "open", errno, native_path);
    }
    free(native_path);
    return fd;
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_duplicate(JNIEnv *env, jclass type,
                                                                          jint fd, jint lowest)
{
    (void)type;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, lowest);
    if (copy < 0) {
        stk_throw_errno(env, "fcntl(F_DUPFD_CLOEXEC)", errno);
    }
    return copy;
}

/* Whether fd is a terminal (isatty): ENOTTY and EBADF are "no", as for isatty itself. */
JNIEXPORT jboolean JNICALL Java_dev_stockade_internal_NativeBridge_isTerminal(JNIEnv *env,
                                                                           jclass type, jint fd)
{
    (void)env;
    (void)type;
    return isatty(fd) == 1 ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_close(JNIEnv *env, jclass type,
                                                                      jint fd)
{
    (void)type;
    /* Linux releases the descriptor even when close reports EINTR; retrying could close a
     * descriptor another thread has just been given the same number. */
    if (close(fd) != 0 && errno != EINTR) {
        stk_throw_errno(env, "close", errno);
    }
}

JNIEXPORT jobject JNICALL Java_dev_stockade_internal_NativeBridge_newFileDescriptor(JNIEnv *env,
                                                                                     jclass type,
                                                                                     jint fd)
{
    (void)type;
    jclass descriptor_type = (*env)->FindClass(env, "java/io/FileDescriptor");
    if (descriptor_type == NULL) {
        return NULL;
    }
    jmethodID init = (*env)->GetMethodID(env, descriptor_type, "<init>", "()V");
    if (init == NULL) {
        return NULL;
    }
    /* The private field the JDK's own streams read and close; a JDK without it fails here
     * with NoSuchFieldError instead of producing a descriptor that silently holds -1. */
    jfieldID fd_field = (*env)->GetFieldID(env, descriptor_type, "fd", "I");
    if (fd_field == NULL) {
        return NULL;
    }
    jobject descriptor = (*env)->NewObject(env, descriptor_type, init);
    if (descriptor == NULL) {
        return NULL;
    }
    (*env)->SetIntField(env, descriptor, fd_field, fd);
    return descriptor;
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_fdNumber(JNIEnv *env, jclass type,
                                                                         jobject descriptor)
{
    (void)type;
    if (descriptor == NULL) {
        stk_throw_null(env, "descriptor");
        return -1;
    }
    jclass descriptor_type = (*env)->GetObjectClass(env, descriptor);
    jfieldID fd_field = (*env)->GetFieldID(env, descriptor_type, "fd", "I");
    if (fd_field == NULL) {
        return -1;
    }
    return (*env)->GetIntField(env, descriptor, fd_field);
}

/* recvmsg into buffer[offset, offset + length): the bytes read (0 at EOF); a descriptor passed
 * with them (SCM_RIGHTS, received close-on-exec) is stored in passed[0], else -1 is. Any more
 * descriptors than one are closed: the helper sends at most one. */
JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_receive(JNIEnv *env, jclass type,
                                                                        jint fd,
                                                                        jbyteArray buffer,
                                                                        jint offset, jint length,
                                                                        jintArray passed)
{
    (void)type;
    if (buffer == NULL || passed == NULL) {
        stk_throw_null(env, buffer == NULL ? "buffer" : "passed");
        return -1;
    }
    jsize size = (*env)->GetArrayLength(env, buffer);
    if (offset < 0 || length < 0 || offset > size - length ||
        (*env)->GetArrayLength(env, passed) < 1) {
        stk_throw_illegal_argument(env, "receive: offset/length outside the buffer");
        return -1;
    }
    void *native = malloc(length > 0 ? (size_t)length : 1);
    if (native == NULL) {
        stk_throw_errno(env, "recvmsg", ENOMEM);
        return -1;
    }
    struct iovec iov = {.iov_base = native, .iov_len = (size_t)length};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do {
        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    jint received = -1;
    if (n >= 0) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                continue;
            }
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int one;
                memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof one);
                if (received < 0) {
                    received = one;
                } else {
                    (void)close(one);
                }
            }
        }
        (*env)->SetByteArrayRegion(env, buffer, offset, (jsize)n, (const jbyte *)native);
        (*env)->SetIntArrayRegion(env, passed, 0, 1, &received);
    } else {
        stk_throw_errno(env, "recvmsg", errno);
    }
    free(native);
    return (jint)n;
}

/* sendmsg of buffer[offset, offset + length) with the descriptors of fds attached to its first
 * byte (SCM_RIGHTS): the bytes sent, which may be fewer than length (the caller writes the rest
 * without descriptors). At most STK_FORK_MAX_FDS descriptors: the most a frame carries (a FORK
 * request's). */
JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_sendWithFds(JNIEnv *env,
                                                                        jclass type, jint fd,
                                                                        jbyteArray buffer,
                                                                        jint offset, jint length,
                                                                        jintArray fds)
{
    (void)type;
    if (buffer == NULL || fds == NULL) {
        stk_throw_null(env, buffer == NULL ? "buffer" : "fds");
        return -1;
    }
    jsize size = (*env)->GetArrayLength(env, buffer);
    jsize count = (*env)->GetArrayLength(env, fds);
    if (offset < 0 || length <= 0 || offset > size - length || count < 1 ||
        count > (jsize)STK_FORK_MAX_FDS) {
        stk_throw_illegal_argument(env, "sendWithFds: offset/length outside the buffer, or "
                                        "not 1..STK_FORK_MAX_FDS descriptors");
        return -1;
    }
    void *native = malloc((size_t)length);
    if (native == NULL) {
        stk_throw_errno(env, "sendmsg", ENOMEM);
        return -1;
    }
    (*env)->GetByteArrayRegion(env, buffer, offset, length, (jbyte *)native);
    jint values[STK_FORK_MAX_FDS];
    (*env)->GetIntArrayRegion(env, fds, 0, count, values);
    struct iovec iov = {.iov_base = native, .iov_len = (size_t)length};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(STK_FORK_MAX_FDS * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE((size_t)count * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)count * sizeof(int));
    for (jsize i = 0; i < count; i++) {
        int one = values[i];
        memcpy(CMSG_DATA(c) + (size_t)i * sizeof(int), &one, sizeof one);
    }
    ssize_t n;
    do {
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        stk_throw_errno(env, "sendmsg", errno);
    }
    free(native);
    return (jint)n;
}

/* The set-up progress page (stockade.h, STK_PROGRESS_FD): a memfd of STK_PROGRESS_SIZE zero
 * bytes, sealed so that neither side can shrink it under the helper's mapping (a store there
 * would fault) or grow it, and the seals themselves sealed. */
JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_progressPage(JNIEnv *env,
                                                                              jclass type)
{
    (void)type;
    int fd = memfd_create("stockade-progress", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        stk_throw_errno(env, "memfd_create", errno);
        return -1;
    }
    if (ftruncate(fd, STK_PROGRESS_SIZE) != 0) {
        int err = errno;
        (void)close(fd);
        stk_throw_errno(env, "ftruncate", err);
        return -1;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        int err = errno;
        (void)close(fd);
        stk_throw_errno(env, "fcntl(F_ADD_SEALS)", err);
        return -1;
    }
    return fd;
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_pread(JNIEnv *env, jclass type,
                                                                      jint fd, jbyteArray buffer,
                                                                      jlong offset)
{
    (void)type;
    jsize length = (*env)->GetArrayLength(env, buffer);
    jbyte *bytes = malloc(length == 0 ? 1 : (size_t)length);
    if (bytes == NULL) {
        stk_throw_errno(env, "pread", ENOMEM);
        return -1;
    }
    ssize_t n;
    do {
        n = pread(fd, bytes, (size_t)length, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;
        free(bytes);
        stk_throw_errno(env, "pread", err);
        return -1;
    }
    (*env)->SetByteArrayRegion(env, buffer, 0, (jsize)n, bytes);
    free(bytes);
    return (jint)n;
}

/* The whole buffer in one pwrite (a short write of a memfd page is an error, not a retry). */
JNIEXPORT void JNICALL Java_dev_stockade_internal_NativeBridge_pwrite(JNIEnv *env, jclass type,
                                                                      jint fd, jbyteArray buffer,
                                                                      jlong offset)
{
    (void)type;
    jsize length = (*env)->GetArrayLength(env, buffer);
    jbyte *bytes = (*env)->GetByteArrayElements(env, buffer, NULL);
    if (bytes == NULL) {
        return; /* OutOfMemoryError pending */
    }
    ssize_t n;
    do {
        n = pwrite(fd, bytes, (size_t)length, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : EIO;
    (*env)->ReleaseByteArrayElements(env, buffer, bytes, JNI_ABORT);
    if (n != (ssize_t)length) {
        stk_throw_errno(env, "pwrite", err);
    }
}

/* One poll(2) of one fd; EINTR reads as "nothing yet" (the caller polls again with what is left
 * of its deadline). */
JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_poll(JNIEnv *env, jclass type,
                                                                     jint fd, jint events,
                                                                     jint timeout_ms)
{
    (void)type;
    struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
        stk_throw_errno(env, "poll", errno);
        return -1;
    }
    return n > 0 ? p.revents : 0;
}

/* The most fds one pollAll takes: a line pump's two pipes and its wake-up pipe, with room to
 * spare; a bound keeps the arrays on the stack. */
enum { POLL_ALL_MAX_FDS = 16 };

/* One poll(2) of several fds for the same events: their revents, in the fds' order (all 0 when
 * the time passed or a signal interrupted the wait). A negative fd is skipped, as poll(2) skips
 * it, so a caller can drop a stream that ended without building a new array. */
JNIEXPORT jintArray JNICALL Java_dev_stockade_internal_NativeBridge_pollAll(JNIEnv *env,
                                                                          jclass type,
                                                                          jintArray fds,
                                                                          jint events,
                                                                          jint timeout_ms)
{
    (void)type;
    if (fds == NULL) {
        stk_throw_null(env, "fds");
        return NULL;
    }
    jsize count = (*env)->GetArrayLength(env, fds);
    if (count < 1 || count > POLL_ALL_MAX_FDS) {
        stk_throw_illegal_argument(env, "poll: too many fds (or none)");
        return NULL;
    }
    jint numbers[POLL_ALL_MAX_FDS];
    (*env)->GetIntArrayRegion(env, fds, 0, count, numbers);
    struct pollfd p[POLL_ALL_MAX_FDS];
    for (jsize i = 0; i < count; i++) {
        p[i] = (struct pollfd){.fd = numbers[i], .events = (short)events, .revents = 0};
    }
    int n = poll(p, (nfds_t)count, timeout_ms);
    if (n < 0 && errno != EINTR) {
        stk_throw_errno(env, "poll", errno);
        return NULL;
    }
    jint revents[POLL_ALL_MAX_FDS];
    for (jsize i = 0; i < count; i++) {
        revents[i] = n > 0 ? p[i].revents : 0;
    }
    jintArray result = (*env)->NewIntArray(env, count);
    if (result == NULL) {
        return NULL; /* OutOfMemoryError is pending */
    }
    (*env)->SetIntArrayRegion(env, result, 0, count, revents);
    return result;
}
