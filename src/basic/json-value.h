/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small JSON parser for the control protocol: requests arrive from local
 * clients and answers from the daemon, both one line, both bounded by the
 * protocol's size caps. It builds a tree of values; nesting depth is capped
 * so a hostile line cannot exhaust the stack.
 *
 * Numbers keep their text: counters are uint64_t and a double would round
 * them above 2^53, so json_value_u64() converts from the text exactly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

/* Deeper than anything the protocol uses; keeps the recursion bounded. */
#define JSON_PARSE_DEPTH_MAX 32u

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
        JsonType type;
        bool boolean;            /* JSON_BOOLEAN */
        char *string;            /* JSON_STRING: decoded, NUL-terminated; JSON_NUMBER: its text */
        size_t n;                /* JSON_ARRAY, JSON_OBJECT: number of items */
        char **keys;             /* JSON_OBJECT: n member names */
        JsonValue **items;       /* JSON_ARRAY, JSON_OBJECT: n values */
};

/**
 * json_parse() - parse one JSON document
 * @s: the text (need not be NUL-terminated)
 * @n: its length; trailing whitespace (a newline) is allowed
 * @ret: the tree, to json_value_free()
 *
 * Strings with an embedded NUL (\u0000) are refused: every consumer here
 * treats them as C strings.
 *
 * Return: 0, -EINVAL for text that is not JSON, -E2BIG for nesting deeper
 * than JSON_PARSE_DEPTH_MAX, -ENOMEM.
 */
int json_parse(const char *s, size_t n, JsonValue **ret);

JsonValue *json_value_free(JsonValue *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonValue *, json_value_free);

/* The member @key of an object (the last one if repeated), or NULL. */
const JsonValue *json_object_get(const JsonValue *v, const char *key);

/* The string value of @v, or NULL if @v is NULL or not a string. */
const char *json_value_string(const JsonValue *v);

/*
 * The value of a non-negative integer number. Return: 0; -EINVAL if @v is
 * NULL, not a number, negative or fractional; -ERANGE above UINT64_MAX.
 */
int json_value_u64(const JsonValue *v, uint64_t *ret);
