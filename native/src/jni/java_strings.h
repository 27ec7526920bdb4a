/* Java strings to C strings for system calls. */
#ifndef STOCKADE_JNI_JAVA_STRINGS_H
#define STOCKADE_JNI_JAVA_STRINGS_H

#include <jni.h>

/* A malloc'd, NUL-terminated, standard UTF-8 copy of s (not JNI's "modified UTF-8", which would
 * hand the kernel different bytes than Java's own file APIs use). NULL with an exception pending
 * when s is null, contains NUL or an unpaired surrogate, or memory runs out. `what` names the
 * argument in the exception message. */
char *stk_utf8(JNIEnv *env, jstring s, const char *what);

/* A malloc'd NULL-terminated vector of stk_utf8 copies of every element; free with
 * stk_free_utf8_array. NULL with an exception pending on any failure. */
char **stk_utf8_array(JNIEnv *env, jobjectArray array, const char *what);

void stk_free_utf8_array(char **strings);

/* A malloc'd NUL-terminated copy of the bytes of a file name or path exactly as Java holds
 * them (names read from a directory are not necessarily UTF-8). NULL with an exception pending
 * when bytes is null, empty, contains a NUL byte, or memory runs out. */
char *stk_path_bytes(JNIEnv *env, jbyteArray bytes, const char *what);

#endif
