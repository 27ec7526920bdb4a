/* UTF-16 (Java) to UTF-8 (the kernel's bytes) conversion. */
#include "java_strings.h"

#include "errors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void throw_bad_string(JNIEnv *env, const char *what, const char *problem)
{
    char message[256];
    (void)snprintf(message, sizeof message, "%s %s", what, problem);
    stk_throw_illegal_argument(env, message);
}

static void throw_out_of_memory(JNIEnv *env)
{
    jclass type = (*env)->FindClass(env, "java/lang/OutOfMemoryError");
    if (type != NULL) {
        (void)(*env)->ThrowNew(env, type, "native string copy");
    }
}

/* Writes the UTF-8 form of units[0..length) into out, which has room for 3 bytes per unit
 * (a surrogate pair, two units, needs 4). Returns the problem, or NULL when the string is fine. */
static const char *encode(const jchar *units, jsize length, char *out)
{
    size_t at = 0;
    for (jsize i = 0; i < length; i++) {
        uint32_t c = units[i];
        if (c == 0) {
            return "contains a NUL character";
        }
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 >= length || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) {
                return "contains an unpaired surrogate";
            }
            c = 0x10000 + ((c - 0xD800) << 10) + ((uint32_t)units[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return "contains an unpaired surrogate";
        }
        if (c < 0x80) {
            out[at++] = (char)c;
        } else if (c < 0x800) {
            out[at++] = (char)(0xC0 | (c >> 6));
            out[at++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[at++] = (char)(0xE0 | (c >> 12));
            out[at++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[at++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[at++] = (char)(0xF0 | (c >> 18));
            out[at++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[at++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[at++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[at] = '\0';
    return NULL;
}

char *stk_utf8(JNIEnv *env, jstring s, const char *what)
{
    if (s == NULL) {
        stk_throw_null(env, what);
        return NULL;
    }
    jsize length = (*env)->GetStringLength(env, s);
    char *out = malloc((size_t)length * 3 + 1);
    if (out == NULL) {
        throw_out_of_memory(env);
        return NULL;
    }
    const jchar *units = (*env)->GetStringChars(env, s, NULL);
    if (units == NULL) {
        free(out);
        return NULL; /* OutOfMemoryError is pending */
    }
    const char *problem = encode(units, length, out);
    (*env)->ReleaseStringChars(env, s, units);
    if (problem != NULL) {
        free(out);
        throw_bad_string(env, what, problem);
        return NULL;
    }
    return out;
}

void stk_free_utf8_array(char **strings)
{
    if (strings == NULL) {
        return;
    }
    for (char **s = strings; *s != NULL; s++) {
        free(*s);
    }
    free(strings);
}

char **stk_utf8_array(JNIEnv *env, jobjectArray array, const char *what)
{
    if (array == NULL) {
        stk_throw_null(env, what);
        return NULL;
    }
    jsize count = (*env)->GetArrayLength(env, array);
    char **strings = calloc((size_t)count + 1, sizeof *strings);
    if (strings == NULL) {
        throw_out_of_memory(env);
        return NULL;
    }
    for (jsize i = 0; i < count; i++) {
        char name[128];
        (void)snprintf(name, sizeof name, "%s[%d]", what, (int)i);
        jstring element = (jstring)(*env)->GetObjectArrayElement(env, array, i);
        strings[i] = stk_utf8(env, element, name);
        /* Long argument lists would otherwise fill the local reference table. */
        (*env)->DeleteLocalRef(env, element);
        if (strings[i] == NULL) {
            stk_free_utf8_array(strings);
            return NULL;
        }
    }
    return strings;
}

char *stk_path_bytes(JNIEnv *env, jbyteArray bytes, const char *what)
{
    if (bytes == NULL) {
        stk_throw_null(env, what);
        return NULL;
    }
    jsize length = (*env)->GetArrayLength(env, bytes);
    if (length == 0) {
        throw_bad_string(env, what, "is empty");
        return NULL;
    }
    char *out = malloc((size_t)length + 1);
    if (out == NULL) {
        throw_out_of_memory(env);
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, bytes, 0, length, (jbyte *)out);
    out[length] = '\0';
    /* A NUL would silently cut the name short: the kernel would see another path. */
    if (memchr(out, '\0', (size_t)length) != NULL) {
        free(out);
        throw_bad_string(env, what, "contains a NUL byte");
        return NULL;
    }
    return out;
}
