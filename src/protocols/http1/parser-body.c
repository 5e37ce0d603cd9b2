/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Body framing of an HTTP/1.x message (RFC 9112 §6, §7): the length a
 * head announces (Content-Length, Transfer-Encoding) and the chunked
 * coding. Part of the parser (parser.c); no state of its own.
 */

#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "protocols/http1/parser-internal.h"

/*
 * Longest chunk extension accepted. Nobody sends more than a few bytes;
 * the bound stops arbitrary bytes being taken for one endless chunk-size
 * line (never buffered, but it would hide the loss of sync).
 */
#define HTTP1_CHUNK_EXT_MAX 4096u

static inline int hex_value(uint8_t c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* ---- framing fields ---- */

void http1_transfer_encoding(Http1Parser *p, const char *v, size_t len) {
        /* only the last coding matters for framing (RFC 9112 §6.3) */
        size_t b = len, a;

        while (b > 0 && (is_ows(v[b - 1]) || v[b - 1] == ','))
                b--;
        if (b == 0)
                return;
        a = b;
        while (a > 0 && v[a - 1] != ',')
                a--;
        while (a < b && is_ows(v[a]))
                a++;
        /* drop transfer parameters */
        {
                const char *semi = memchr(v + a, ';', b - a);
                if (semi)
                        b = semi - v;
                while (b > a && is_ows(v[b - 1]))
                        b--;
        }
        p->chunked = b - a == 7 && strncasecmp(v + a, "chunked", 7) == 0;
        p->te_other = !p->chunked;
}

/* The Connection header's close and keep-alive tokens, in one pass over the list. */
void http1_connection_tokens(Http1Parser *p, const char *v, size_t len) {
        /* comma-separated tokens with OWS, case-insensitive */
        while (len > 0) {
                const char *comma = memchr(v, ',', len);
                size_t l = comma ? (size_t) (comma - v) : len, a = 0, b = l;

                while (a < b && is_ows(v[a]))
                        a++;
                while (b > a && is_ows(v[b - 1]))
                        b--;
                /*
                 * A value is not tokens only (a bare CR is kept, and CR | 0x20
                 * is '-'): name_is() for the letters, '-' compared exactly.
                 */
                if (b - a == 10 && name_is(v + a, 10, "keep-alive") && v[a + 4] == '-')
                        p->keep_alive = true;
                else if (b - a == 5 && strncasecmp(v + a, "close", 5) == 0)
                        p->conn_close = true;
                if (!comma)
                        break;
                v = comma + 1;
                len -= l + 1;
        }
}

/* ---- chunked framing ---- */

void http1_chunk_size_done(Http1Parser *p) {
        if (p->chunk_size == 0) {
                p->state = STATE_TRAILER;
                p->line_len = 0;
                p->prev_cr = false;
        } else {
                p->state = STATE_CHUNK_DATA;
                p->remaining = p->chunk_size;
        }
        p->chunk_size = 0;
        p->chunk_digits = 0;
        p->chunk_ext_len = 0;
}

size_t http1_chunk_size_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        size_t i;

        for (i = 0; i < avail; i++) {
                uint8_t c = q[i];
                int d = hex_value(c);

                if (d >= 0) {
                        if (p->chunk_size > (UINT64_MAX >> 4) ||
                            (p->chunk_size << 4 | (unsigned) d) > HTTP1_CONTENT_LENGTH_MAX) {
                                p->cur->m.wire_bytes += i;
                                http1_fail(p, "chunk size overflow", p->offset + i, q + i, avail - i);
                                return i + 1;
                        }
                        p->chunk_size = p->chunk_size << 4 | (unsigned) d;
                        p->chunk_digits++;
                        continue;
                }
                if (p->chunk_digits == 0 || !(c == ';' || is_ows(c) || c == '\r' || c == '\n')) {
                        p->cur->m.wire_bytes += i;
                        http1_fail(p, "invalid chunk size", p->offset + i, q + i, avail - i);
                        return i + 1;
                }
                p->cur->m.wire_bytes += i + 1;
                if (c == '\r')
                        p->state = STATE_CHUNK_SIZE_LF;
                else if (c == '\n')
                        http1_chunk_size_done(p);
                else
                        p->state = STATE_CHUNK_EXT;
                return i + 1;
        }
        p->cur->m.wire_bytes += avail;
        return avail;
}

size_t http1_chunk_ext_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        const uint8_t *lf = memchr(q, '\n', avail);
        size_t k = lf ? (size_t) (lf - q) + 1 : avail;

        p->chunk_ext_len += k;
        if (p->chunk_ext_len > HTTP1_CHUNK_EXT_MAX) {
                http1_fail(p, "chunk extension too long", p->offset, q, avail);
                return k;
        }
        p->cur->m.wire_bytes += k;
        if (lf)
                http1_chunk_size_done(p);
        return k;
}

size_t http1_trailer_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        const uint8_t *lf = memchr(q, '\n', avail);
        size_t k = lf ? (size_t) (lf - q) + 1 : avail;

        size_t limit = MAX(p->limits->head_max, (size_t) HTTP1_SCRATCH_MAX);

        if (k > limit - p->trailer_bytes) {
                /*
                 * Trailers are not kept, but an endless trailer section means we
                 * are lost. Failed at the first byte past the limit, so that the
                 * error's offset and the bytes counted do not depend on how the
                 * stream was chunked (trailer_bytes never exceeds the limit).
                 */
                size_t in = limit - p->trailer_bytes;

                p->trailer_bytes = limit;
                p->cur->m.wire_bytes += in;
                http1_fail(p, "trailer section too long", p->offset + in, q + in, avail - in);
                return k;
        }
        p->trailer_bytes += k;
        p->cur->m.wire_bytes += k;
        if (!lf) {
                p->line_len += k;
                p->prev_cr = q[k - 1] == '\r';
                return k;
        }
        {
                size_t content = p->line_len + k - 1;
                bool cr = k >= 2 ? q[k - 2] == '\r' : p->prev_cr;

                p->line_len = 0;
                p->prev_cr = false;
                if (content - (cr ? 1 : 0) == 0)
                        http1_message_complete(p, STATE_START, 0, true);
        }
        return k;
}
