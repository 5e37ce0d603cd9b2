/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parse error excerpt with its secrets masked: 64 raw bytes of a stream
 * that failed to parse, so no structure can be trusted; each line is masked
 * on its own (see excerpt.h and docs/journal-fields.md, "Redaction").
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "output/entry.h"
#include "output/excerpt.h"
#include "select/redact.h"

/* Append what fits of s[0..n) to buf (at most size bytes in all). */
static void append(char *buf, size_t size, size_t *len, const void *s, size_t n) {
        size_t k = MIN(n, size - *len);

        memcpy(buf + *len, s, k);
        *len += k;
}

/* One line of a parse error excerpt, secrets masked (redactor_text()), appended raw to buf. */
static int excerpt_mask_line(const Redactor *r, const char *s, size_t n, char *buf, size_t size, size_t *len) {
        _cleanup_(freep) char *out = NULL;
        size_t ol;
        int m;

        m = redactor_text(r, s, n, &out, &ol);
        if (m < 0)
                return m;
        if (m > 0)
                append(buf, size, len, out, ol);
        else
                append(buf, size, len, s, n);
        return 0;
}

int excerpt_mask(const Redactor *r, const uint8_t *in, size_t n, char *buf, size_t size, size_t *ret_len) {
        const char *s = (const char *) in;
        size_t len = 0;

        if (n > FORMAT_EXCERPT_MAX)
                return -EINVAL;

        for (size_t a = 0; a < n;) {
                size_t b = a, c;
                int k;

                while (b < n && s[b] != '\r' && s[b] != '\n')
                        b++;
                k = excerpt_mask_line(r, s + a, b - a, buf, size, &len);
                if (k < 0)
                        return k;
                for (c = b; c < n && (s[c] == '\r' || s[c] == '\n'); c++)
                        ;
                append(buf, size, &len, s + b, c - b);
                a = c;
        }
        *ret_len = len;
        return 0;
}
