/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recognising a start line when looking for the way back after sync was
 * lost (parser.h's sync rules): http1_looks_like_start(), a guess from the
 * first bytes of a syscall's data. Part of the parser; no state of its own.
 */

#include <string.h>

#include "basic/macro.h"
#include "protocols/http1/parser-internal.h"

/* Longest method recognised when looking for a resync point ("PROPPATCH", "VERSION-CONTROL"). */
#define HTTP1_METHOD_MAX 32u

static bool looks_like_status_line(const uint8_t *s, size_t len, bool complete) {
        /* "HTTP/1.d DDD", then end of line or SP */
        static const char pattern[] = "HTTP/1.# ###";

        for (size_t i = 0; i < 12; i++) {
                if (i >= len)
                        return !complete && i >= 5;
                if (pattern[i] == '#' ? !is_digit(s[i]) : s[i] != (uint8_t) pattern[i])
                        return false;
        }
        return len == 12 || s[12] == ' ';
}

static bool looks_like_request_line(const uint8_t *s, size_t len, bool complete) {
        size_t i = 0, t;

        /* real methods are upper case; that is all we trust when guessing */
        while (i < len && i <= HTTP1_METHOD_MAX && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
                i++;
        if (i == 0 || i > HTTP1_METHOD_MAX || i >= len || s[i] != ' ')
                return false;
        t = ++i;
        while (i < len && s[i] > ' ' && s[i] != 0x7f)
                i++;
        if (i == len)
                return !complete;
        if (i == t || s[i] != ' ')
                return false;
        i++;
        if (!complete && len - i < 8)
                return memcmp(s + i, "HTTP/1.", MIN(len - i, (size_t) 7)) == 0;
        return len - i == 8 && memcmp(s + i, "HTTP/1.", 7) == 0 && is_digit(s[i + 7]);
}

bool http1_looks_like_start(const uint8_t *buf, size_t n, Http1Kind kind) {
        const uint8_t *lf;
        size_t len;

        if (!buf || n == 0)
                return false;
        lf = memchr(buf, '\n', n);
        len = lf ? (size_t) (lf - buf) : n;
        if (lf && len > 0 && buf[len - 1] == '\r')
                len--;

        if (kind != HTTP1_KIND_REQUEST && looks_like_status_line(buf, len, lf))
                return true;
        if (kind != HTTP1_KIND_RESPONSE && looks_like_request_line(buf, len, lf))
                return true;
        return false;
}
