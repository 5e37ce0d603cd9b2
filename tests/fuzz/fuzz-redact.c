/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as a request-target: redaction must stay within its output
 * bound, and no value of a secret parameter may survive it.
 *
 * Then the free-text redactor (the parse error excerpt) with a planted
 * secret: the input's first bytes pick a secret name, what separates it
 * from the planted value ('=', ':', quotes, blanks) and what stands before
 * the name (a blank, ',', '{', '(', '%20', '"', the text's start, ...); the
 * rest is split into arbitrary text before and after. Whatever that text,
 * the planted value must never come out, neither from redactor_text() nor
 * from excerpt_mask() when the line fits an excerpt.
 */

#define _GNU_SOURCE 1   /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "config/configuration.h"
#include "output/entry.h"
#include "output/excerpt.h"
#include "select/redact.h"

#define SECRET "Zq7SECRETvK"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const Redactor *r, const uint8_t *data, size_t size) {
        char *out = NULL, *again = NULL;
        size_t n = 0, n2 = 0;
        int k;

        k = redactor_url(r, (const char *) data, size, &out, &n);
        if (k < 0)
                return;
        if (k == 0 ? out != NULL || n != size : n > size * (1 + strlen(redactor_mask(r))))
                abort();
        /* Idempotent: redacting the output again gives the same bytes (masks are re-masked in place). */
        if (k == 1) {
                int k2 = redactor_url(r, out, n, &again, &n2);
                if (k2 < 0)
                        return free(out);
                if (k2 == 1 && (n2 != n || memcmp(again, out, n) != 0))
                        abort();
                free(again);
        }
        free(out);
}

static void check_planted(const Redactor *r, const uint8_t *data, size_t size) {
        static const char *const names[] = {
                "token", "password", "api_key", "Authorization", "cookie", "%74oken", "user[password]", "a.secret",
        };
        static const char *const before[] = {
                "", " ", "\t", ",", ";", "&", "?", "{", "(", "[", "\"", "'", "/", "<", ">", "|", ":", "=", "%20", "\\",
        };
        static const char *const seps[] = {
                "=", ":", " = ", ": ", "\t:\t", "=\"", "=\'", "\":\"", "\": \"", "\" : \"", "\':\'", "\"=",
        };
        char text[1024], *out = NULL;
        size_t pre, n = 0, len;
        const char *name, *b, *sep;
        int k;

        if (size < 4 || memmem(data, size, SECRET, strlen(SECRET)))
                return;
        name = names[data[0] % ELEMENTSOF(names)];
        b = before[data[1] % ELEMENTSOF(before)];
        sep = seps[data[2] % ELEMENTSOF(seps)];
        data += 4;
        size -= 4;
        if (size > 512)
                size = 512;
        pre = data[-1] % (size + 1);
        if (b[0] == 0)
                pre = 0;        /* "the text's start" */
        /* A quoted name ('"token":') opens its quote before the name. */
        len = 0;
#define PUT(s, l) (memcpy(text + len, (s), (l)), len += (l))
        PUT(data, pre);
        PUT(b, strlen(b));
        if (sep[0] == '"' || sep[0] == '\'')
                PUT(sep, 1);
        PUT(name, strlen(name));
        PUT(sep, strlen(sep));
        PUT(SECRET, strlen(SECRET));
        PUT(data + pre, size - pre);
#undef PUT

        k = redactor_text(r, text, len, &out, &n);
        if (k < 0)
                return;
        if (k == 0 || n > len * (1 + strlen(redactor_mask(r))) || memmem(out, n, SECRET, strlen(SECRET)))
                abort();
        free(out);

        if (len <= FORMAT_EXCERPT_MAX) {
                char buf[FORMAT_VALUE_MAX + 1];

                if (excerpt_mask(r, (const uint8_t *) text, len, buf, sizeof(buf), &n) < 0)
                        return;
                if (memmem(buf, n, SECRET, strlen(SECRET)))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Redactor *r;

        if (!r) {
                Config *c;
                if (config_new_defaults(&c) < 0 || redactor_new_from_config(c, &r) < 0)
                        abort();
                config_free(c);
        }
        check_url(r, data, size);
        check_planted(r, data, size);
        return 0;
}
