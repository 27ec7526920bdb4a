/* JNI side of seccomp: syscall name lookup and filter compilation (seccomp_filter.c). */
#include "dev_stockade_internal_NativeBridge.h"
#include "errors.h"
#include "java_strings.h"
#include "seccomp_filter.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>

#define LONGS_PER_CONDITION 4

JNIEXPORT jint JNICALL Java_dev_stockade_internal_NativeBridge_resolveSyscall(JNIEnv *env,
                                                                               jclass type,
                                                                               jstring name)
{
    (void)type;
    char *native_name = stk_utf8(env, name, "name");
    if (native_name == NULL) {
        return -1;
    }
    int nr = seccomp_syscall_resolve_name(native_name);
    free(native_name);
    /* libseccomp answers with negative pseudo-numbers for syscalls that exist only on other
     * architectures (socketcall on x86_64); for this machine those do not exist. */
    return nr < 0 ? -1 : nr;
}

/* Checks the parallel arrays agree with each other; a mismatch is a bug in the Java caller. */
static int check_shape(JNIEnv *env, jintArray syscalls, jintArray actions,
                       jintArray condition_counts, jlongArray conditions, jsize *rule_count)
{
    if (syscalls == NULL || actions == NULL || condition_counts == NULL || conditions == NULL) {
        stk_throw_null(env, syscalls == NULL     ? "syscalls"
                            : actions == NULL    ? "actions"
                            : condition_counts == NULL ? "conditionCounts"
                                                       : "conditions");
        return -1;
    }
    jsize count = (*env)->GetArrayLength(env, syscalls);
    if ((*env)->GetArrayLength(env, actions) != count ||
        (*env)->GetArrayLength(env, condition_counts) != count) {
        stk_throw_illegal_argument(
            env, "compileSeccomp: syscalls, actions and conditionCounts differ in length");
        return -1;
    }
    *rule_count = count;
    return 0;
}

/* Copies the Java arrays into rules[]; fills the caller's array of `count` rules. */
static int read_rules(JNIEnv *env, jsize count, const jint *syscalls, const jint *actions,
                      const jint *condition_counts, jlongArray conditions,
                      struct stk_filter_rule *rules)
{
    jsize total_longs = (*env)->GetArrayLength(env, conditions);
    jsize at = 0;
    for (jsize i = 0; i < count; i++) {
        char message[128];
        jint n = condition_counts[i];
        if (n < 0 || n > STK_FILTER_MAX_CONDITIONS) {
            (void)snprintf(message, sizeof message,
                           "compileSeccomp: rule %d has %d conditions, must be 0..6", (int)i,
                           (int)n);
            stk_throw_illegal_argument(env, message);
            return -1;
        }
        if (total_longs - at < n * LONGS_PER_CONDITION) {
            stk_throw_illegal_argument(env, "compileSeccomp: conditions array is too short");
            return -1;
        }
        rules[i].syscall = syscalls[i];
        rules[i].action = (uint32_t)actions[i];
        rules[i].condition_count = (unsigned int)n;
        for (jint c = 0; c < n; c++) {
            jlong values[LONGS_PER_CONDITION];
            (*env)->GetLongArrayRegion(env, conditions, at, LONGS_PER_CONDITION, values);
            at += LONGS_PER_CONDITION;
            rules[i].conditions[c].arg = values[0];
            rules[i].conditions[c].op = values[1];
            rules[i].conditions[c].datum_a = (uint64_t)values[2];
            rules[i].conditions[c].datum_b = (uint64_t)values[3];
        }
    }
    if (at != total_longs) {
        stk_throw_illegal_argument(
            env, "compileSeccomp: conditions array is longer than conditionCounts says");
        return -1;
    }
    return 0;
}

JNIEXPORT jbyteArray JNICALL Java_dev_stockade_internal_NativeBridge_compileSeccomp(
    JNIEnv *env, jclass type, jint default_action, jintArray syscalls, jintArray actions,
    jintArray condition_counts, jlongArray conditions)
{
    (void)type;
    jsize count;
    if (check_shape(env, syscalls, actions, condition_counts, conditions, &count) != 0) {
        return NULL;
    }
    jbyteArray result = NULL;
    jint *nrs = NULL;
    jint *acts = NULL;
    jint *counts = NULL;
    unsigned char *program = NULL;
    size_t length = 0;
    struct stk_filter_error error = {NULL, 0, {0}};
    /* calloc(0) may return NULL; one spare element keeps "no rules" an ordinary case. */
    struct stk_filter_rule *rules = calloc((size_t)count + 1, sizeof *rules);
    if (rules == NULL) {
        stk_throw_errno(env, "calloc", ENOMEM);
        return NULL;
    }
    if ((nrs = (*env)->GetIntArrayElements(env, syscalls, NULL)) == NULL ||
        (acts = (*env)->GetIntArrayElements(env, actions, NULL)) == NULL ||
        (counts = (*env)->GetIntArrayElements(env, condition_counts, NULL)) == NULL) {
        goto out; /* OutOfMemoryError is pending */
    }
    if (read_rules(env, count, nrs, acts, counts, conditions, rules) != 0) {
        goto out;
    }
    if (stk_filter_compile((uint32_t)default_action, rules, (size_t)count, &program, &length,
                           &error) != 0) {
        stk_throw_errno_detail(env, error.call, error.err, error.detail);
        goto out;
    }
    result = (*env)->NewByteArray(env, (jsize)length);
    if (result != NULL) {
        (*env)->SetByteArrayRegion(env, result, 0, (jsize)length, (const jbyte *)program);
    }
out:
    if (counts != NULL) {
        (*env)->ReleaseIntArrayElements(env, condition_counts, counts, JNI_ABORT);
    }
    if (acts != NULL) {
        (*env)->ReleaseIntArrayElements(env, actions, acts, JNI_ABORT);
    }
    if (nrs != NULL) {
        (*env)->ReleaseIntArrayElements(env, syscalls, nrs, JNI_ABORT);
    }
    free(program);
    free(rules);
    return result;
}
