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

/*
 * One line of a parse error excerpt, secrets masked, appended raw to buf.
 * "Name: value" with a secret header name keeps "Name:" and its blanks and
 * loses the value to the mask. Any other line is read as a query (the
 * target in a request line, a form body, a URL in another header): values
 * of secret parameters are masked wherever "name=value" appears.
 */
static int excerpt_mask_line(const Redactor *r, const char *s, size_t n, char *buf, size_t size, size_t *len) {
        _cleanup_(freep) char *out = NULL;
        char q[FORMAT_EXCERPT_MAX + 1];
        const char *colon = memchr(s, ':', n);
        size_t k, ol;
        int m;

        if (colon) {
                k = colon - s;
                while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
                        k--;    /* "Name :" is invalid HTTP, but it must not leak either */
                if (k > 0 && redactor_header_is_secret(r, s, k)) {
                        size_t v = colon - s + 1;

                        while (v < n && (s[v] == ' ' || s[v] == '\t'))
                                v++;
                        append(buf, size, len, s, v);
                        if (v < n)
                                append(buf, size, len, redactor_mask(r), strlen(redactor_mask(r)));
                        return 0;
                }
        }

        /* A '?' in front makes the whole line a parameter list for redactor_url(). */
        q[0] = '?';
        memcpy(q + 1, s, n);
        m = redactor_url(r, q, n + 1, &out, &ol);
        if (m < 0)
                return m;
        if (m > 0)
                append(buf, size, len, out + 1, ol - 1);
        else
                append(buf, size, len, s, n);
        return 0;
}

int excerpt_mask(const Redactor *r, const uint8_t *in, size_t n, char *buf, size_t size, size_t *ret_len) {
        const char *s = (const char *) in;
        size_t len = 0;

        /* Each line is copied into a FORMAT_EXCERPT_MAX + 1 byte buffer. */
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
