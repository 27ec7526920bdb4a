/* Exceptions thrown from native code. */
#define _GNU_SOURCE
#include "errors.h"

#include <stdio.h>
#include <string.h>

#define NATIVE_EXCEPTION "dev/stockade/internal/NativeBridge$NativeException"

/* The GNU strerror_r: thread-safe (the JVM calls us from many threads) and it returns the
 * message, which may or may not be the buffer passed in. */
static const char *error_text(int err, char *buffer, size_t size)
{
    return strerror_r(err, buffer, size);
}

static void throw_native_exception(JNIEnv *env, const char *call, int err, const char *message)
{
    /* FindClass from a native method resolves with NativeBridge's class loader, which is the
     * one that owns NativeException: looking it up per throw avoids any cached global. */
    jclass type = (*env)->FindClass(env, NATIVE_EXCEPTION);
    if (type == NULL) {
        return; /* NoClassDefFoundError is pending */
    }
    jmethodID init = (*env)->GetMethodID(env, type, "<init>",
                                         "(Ljava/lang/String;ILjava/lang/String;)V");
    if (init == NULL) {
        return;
    }
    jstring call_string = (*env)->NewStringUTF(env, call);
    if (call_string == NULL) {
        return;
    }
    jstring message_string = (*env)->NewStringUTF(env, message);
    if (message_string == NULL) {
        return;
    }
    jobject exception = (*env)->NewObject(env, type, init, call_string, (jint)err,
                                          message_string);
    if (exception != NULL) {
        (*env)->Throw(env, (jthrowable)exception);
    }
}

void stk_throw_errno(JNIEnv *env, const char *call, int err)
{
    char buffer[256];
    throw_native_exception(env, call, err, error_text(err, buffer, sizeof buffer));
}

void stk_throw_errno_detail(JNIEnv *env, const char *call, int err, const char *detail)
{
    char buffer[256];
    char message[1024];
    const char *text = error_text(err, buffer, sizeof buffer);
    /* Truncation only shortens a very long detail; the errno text stays readable. */
    (void)snprintf(message, sizeof message, "%s: %s", detail, text);
    throw_native_exception(env, call, err, message);
}

static void throw_by_name(JNIEnv *env, const char *class_name, const char *message)
{
    jclass type = (*env)->FindClass(env, class_name);
    if (type != NULL) {
        (void)(*env)->ThrowNew(env, type, message);
    }
}

void stk_throw_null(JNIEnv *env, const char *what)
{
    char message[256];
    (void)snprintf(message, sizeof message, "%s is null", what);
    throw_by_name(env, "java/lang/NullPointerException", message);
}

void stk_throw_illegal_argument(JNIEnv *env, const char *message)
{
    throw_by_name(env, "java/lang/IllegalArgumentException", message);
}
