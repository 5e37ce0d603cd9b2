/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny JSON builder for the control protocol's answers: objects, arrays,
 * strings, unsigned numbers and booleans, appended to one bounded buffer.
 *
 * Errors are sticky: after the first failure (out of room, out of memory,
 * nesting too deep) every call is a no-op and json_build_finish() reports
 * it, so a caller writes a whole answer without checking each call. The
 * size cap bounds what one answer can cost the daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

/* Objects and arrays nested deeper than this are a bug in the caller. */
#define JSON_BUILD_DEPTH_MAX 16u

typedef struct JsonBuild {
        char *buf;
        size_t len, allocated, max;
        int error;                              /* first error, sticky */
        unsigned depth;
        bool need_comma[JSON_BUILD_DEPTH_MAX + 1];
} JsonBuild;

/* @max: the largest document allowed, in bytes; beyond it -ENOBUFS. */
void json_build_init(JsonBuild *b, size_t max);
void json_build_done(JsonBuild *b);

/*
 * @key is the member name inside an object and must be NULL inside an
 * array or at the top level.
 */
void json_build_object_begin(JsonBuild *b, const char *key);
void json_build_object_end(JsonBuild *b);
void json_build_array_begin(JsonBuild *b, const char *key);
void json_build_array_end(JsonBuild *b);
/* @s may hold any bytes: invalid UTF-8 and control characters are escaped. */
void json_build_string(JsonBuild *b, const char *key, const char *s);
void json_build_u64(JsonBuild *b, const char *key, uint64_t v);
void json_build_i64(JsonBuild *b, const char *key, int64_t v);
/* @v with @decimals digits after the point (at most 9), e.g. 12.500; not finite: null. */
void json_build_fixed(JsonBuild *b, const char *key, double v, unsigned decimals);
void json_build_bool(JsonBuild *b, const char *key, bool v);
void json_build_null(JsonBuild *b, const char *key);

/**
 * json_build_finish() - complete the document
 * @b: the builder; reset to empty (its buffer handed over) on success
 * @newline: append "\n" (JSON lines)
 * @ret: the NUL-terminated document, to free()
 * @ret_len: its length without the NUL; may be NULL
 *
 * Return: 0, or the first error: -ENOBUFS (over the cap), -ENOMEM,
 * -EINVAL (unbalanced begin/end).
 */
int json_build_finish(JsonBuild *b, bool newline, char **ret, size_t *ret_len);
