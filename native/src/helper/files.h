/*
 * FILE mounts: each a regular file with the mount's content and mode, made in one small tmpfs
 * that pid 1 creates for all FILE mounts of the sandbox and never attaches in the new root
 * (mounts.c puts it beneath it, in the old root the pivot detaches: the files are reachable only
 * where they are bound), owned by the sandbox user (pid 1's filesystem ids).
 */
#ifndef STK_FILES_H
#define STK_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

/* Whether spec has a FILE mount. */
bool stk_files_any(const struct stk_spec *spec);

/* The tmpfs for every FILE mount of spec (sized for their contents), detached; -1 with err
 * (step "file"). Only called when the spec has one (stk_files_any). Async-signal-safe. */
int stk_files_fs(const struct stk_spec *spec, struct stk_error *err);

/* Writes FILE mount index of spec into fs and returns a read-only (nosuid, nodev, noexec)
 * detached bind of it, for mounts.c to attach at its destination; -1 with err. */
int stk_files_make(int fs, const struct stk_spec *spec, size_t index, struct stk_error *err);

#endif
