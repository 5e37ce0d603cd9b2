/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded JSON builder with sticky errors; see json-build.h. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json-build.h"

void json_build_init(JsonBuild *b, size_t max) {
        *b = (JsonBuild) { .max = max };
}

void json_build_done(JsonBuild *b) {
        b->buf = mfree(b->buf);
        b->len = b->allocated = 0;
}

static void append(JsonBuild *b, const char *p, size_t n) {
        if (b->error)
                return;
        /* Keep room for a newline and the NUL that json_build_finish() adds. */
        if (n > b->max || b->len > b->max - n) {
                b->error = -ENOBUFS;
                return;
        }
        if (b->len + n + 2 > b->allocated) {
                size_t a = MAX(b->allocated * 2, b->len + n + 2);
                char *q;

                a = MAX(a, (size_t) 256);
                q = realloc(b->buf, a);
                if (!q) {
                        b->error = -ENOMEM;
                        return;
                }
                b->buf = q;
                b->allocated = a;
        }
        memcpy(b->buf + b->len, p, n);
        b->len += n;
}

static void append_str(JsonBuild *b, const char *s) {
        append(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
        size_t len, i;
        uint32_t c;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, c = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past Unicode are not UTF-8. */
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
            (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return len;
}

static void append_escaped(JsonBuild *b, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s);

        append(b, "\"", 1);
        while (n > 0 && !b->error) {
                char esc[8];
                size_t k;

                if (*p == '"' || *p == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char) *p;
                        append(b, esc, 2);
                        k = 1;
                } else if (*p < 0x20 || *p == 0x7f) {
                        snprintf(esc, sizeof(esc), "\\u%04x", *p);
                        append(b, esc, 6);
                        k = 1;
                } else {
                        k = utf8_sequence(p, n);
                        if (k == 0) {
                                /* Not UTF-8: U+FFFD keeps the document valid JSON. */
                                append_str(b, "\\ufffd");
                                k = 1;
                        } else
                                append(b, (const char *) p, k);
                }
                p += k;
                n -= k;
        }
        append(b, "\"", 1);
}

static void begin_value(JsonBuild *b, const char *key) {
        if (b->error)
                return;
        /* A key outside an object (or none inside one) is a bug in the caller. */
        if (b->need_comma[b->depth])
                append(b, ",", 1);
        b->need_comma[b->depth] = true;
        if (key) {
                append_escaped(b, key);
                append(b, ":", 1);
        }
}

static void open_container(JsonBuild *b, const char *key, char c) {
        begin_value(b, key);
        if (b->error)
                return;
        if (b->depth >= JSON_BUILD_DEPTH_MAX) {
                b->error = -EINVAL;
                return;
        }
        append(b, &c, 1);
        b->need_comma[++b->depth] = false;
}

static void close_container(JsonBuild *b, char c) {
        if (b->error)
                return;
        if (b->depth == 0) {
                b->error = -EINVAL;
                return;
        }
        b->depth--;
        append(b, &c, 1);
}

void json_build_object_begin(JsonBuild *b, const char *key) {
        open_container(b, key, '{');
}

void json_build_object_end(JsonBuild *b) {
        close_container(b, '}');
}

void json_build_array_begin(JsonBuild *b, const char *key) {
        open_container(b, key, '[');
}

void json_build_array_end(JsonBuild *b) {
        close_container(b, ']');
}

void json_build_string(JsonBuild *b, const char *key, const char *s) {
        begin_value(b, key);
        if (s)
                append_escaped(b, s);
        else
                append_str(b, "null");
}

void json_build_u64(JsonBuild *b, const char *key, uint64_t v) {
        char num[24];

        begin_value(b, key);
        snprintf(num, sizeof(num), "%" PRIu64, v);
        append_str(b, num);
}

void json_build_i64(JsonBuild *b, const char *key, int64_t v) {
        char num[24];

        begin_value(b, key);
        snprintf(num, sizeof(num), "%" PRIi64, v);
        append_str(b, num);
}

void json_build_fixed(JsonBuild *b, const char *key, double v, unsigned decimals) {
        char num[64];
        int n;

        /* JSON has no NaN or infinity; a value beyond what a rate or percentage can be is a bug: null. */
        if (!(v > -1e15 && v < 1e15)) {
                json_build_null(b, key);
                return;
        }
        begin_value(b, key);
        n = snprintf(num, sizeof(num), "%.*f", (int) MIN(decimals, 9u), v);
        /* Locale-independent: a decimal comma becomes the point JSON needs. */
        for (int i = 0; i < n && i < (int) sizeof(num); i++)
                if (num[i] == ',')
                        num[i] = '.';
        append_str(b, num);
}

void json_build_bool(JsonBuild *b, const char *key, bool v) {
        begin_value(b, key);
        append_str(b, v ? "true" : "false");
}

void json_build_null(JsonBuild *b, const char *key) {
        begin_value(b, key);
        append_str(b, "null");
}

int json_build_finish(JsonBuild *b, bool newline, char **ret, size_t *ret_len) {
        if (!b->error && b->depth != 0)
                b->error = -EINVAL;
        if (!b->error && b->len == 0)
                b->error = -EINVAL;
        if (b->error) {
                int r = b->error;

                json_build_done(b);
                return r;
        }
        /* append() always leaves room for these two bytes. */
        if (newline)
                b->buf[b->len++] = '\n';
        b->buf[b->len] = 0;

        if (ret_len)
                *ret_len = b->len;
        *ret = TAKE_PTR(b->buf);
        json_build_init(b, b->max);
        return 0;
}
