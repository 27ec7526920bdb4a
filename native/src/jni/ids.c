/* The caller's user and group ids (the Java side picks the in-sandbox ids from them). */
#include "dev_stockade_internal_NativeBridge.h"

#include <unistd.h>

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_getuid(JNIEnv *env, jclass type)
{
    (void)env;
    (void)type;
    return (jint)getuid();
}

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_getgid(JNIEnv *env, jclass type)
{
    (void)env;
    (void)type;
    return (jint)getgid();
}
