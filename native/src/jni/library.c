/* Library load hook. */
#include <jni.h>
#include <seccomp.h>

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    (void)vm;
    (void)reserved;
    /* libseccomp detects the kernel's seccomp features lazily and stores them in globals on
     * first use. Doing it here, while the JVM holds its library-loading lock, means the
     * many-threaded calls later only read those globals instead of racing to write them. */
    (void)seccomp_api_get();
    return JNI_VERSION_1_8;
}
