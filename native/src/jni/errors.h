/* Turning a failed call into a Java exception. Every JNI entry point reports failures through
 * these, so Java always sees which call failed and its errno. */
#ifndef STOCKADE_JNI_ERRORS_H
#define STOCKADE_JNI_ERRORS_H

#include <jni.h>

/* Throws NativeBridge.NativeException(call, err, strerror(err)). */
void stk_throw_errno(JNIEnv *env, const char *call, int err);

/* Same, with a detail (a path, a rule number) put in front of the error text, like perror. */
void stk_throw_errno_detail(JNIEnv *env, const char *call, int err, const char *detail);

/* For mistakes of the Java caller (null, malformed arrays): these are bugs, not system errors. */
void stk_throw_null(JNIEnv *env, const char *what);
void stk_throw_illegal_argument(JNIEnv *env, const char *message);

#endif
