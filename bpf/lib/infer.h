/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Protocol inference on the first bytes of a connection's data: is this an
 * HTTP/1.x request, a response, the HTTP/2 preface, or certainly something
 * else (TLS, ssh)? A pure function over a small buffer so that the same code
 * runs in the BPF programs and in the unit tests (tests/unit/capture/test-infer.c),
 * which compile it with ordinary C types.
 */
#pragma once

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum ht_infer {
        HT_INFER_UNKNOWN  = 0, /* not enough evidence either way (mid-stream body bytes, short read) */
        HT_INFER_REQUEST  = 1, /* "METHOD " */
        HT_INFER_RESPONSE = 2, /* "HTTP/1." */
        HT_INFER_HTTP2    = 3, /* "PRI * HTTP/2.0" connection preface */
        HT_INFER_OTHER    = 4, /* certainly not HTTP: TLS record, ssh banner */
        HT_INFER_HTTP2_SETTINGS = 5, /* an HTTP/2 server's first SETTINGS frame: only from a connection's first byte */
        HT_INFER_HTTP2_REQUEST  = 6, /* an HTTP/2 request's HEADERS frame: only mid-stream */
        HT_INFER_HTTP2_RESPONSE = 7, /* an HTTP/2 response's HEADERS frame: only mid-stream */
};

/*
 * An HTTP/2 server may send its SETTINGS before it has read the client's
 * preface (RFC 9113 §3.4; gRPC's chttp2 always does), so a connection's
 * first bytes can be the server's. Its frame header is strict enough to
 * tell: a length that is a multiple of 6 (at most 10 settings), type 4,
 * no flags (not an ACK), stream 0, and a first setting id that RFC 9113
 * defines (1..9). Only meaningful at a connection's first byte: mid-stream,
 * any frame can look like this.
 */
static __always_inline int ht_infer_h2_settings(const unsigned char *b, unsigned n) {
        unsigned len;

        if (n < 9)
                return 0;
        len = (unsigned) b[0] << 16 | (unsigned) b[1] << 8 | b[2];
        if (len % 6 != 0 || len > 60 || b[3] != 0x04 || b[4] != 0 ||
            b[5] != 0 || b[6] != 0 || b[7] != 0 || b[8] != 0)
                return 0;
        if (len > 0 && (n < 11 || b[9] != 0 || b[10] < 1 || b[10] > 9))
                return 0;
        return 1;
}

static __always_inline int ht_prefix(const unsigned char *b, unsigned n, const char *p, unsigned plen) {
        if (n < plen)
                return 0;
        for (unsigned i = 0; i < plen; i++)
                if (b[i] != (unsigned char) p[i])
                        return 0;
        return 1;
}

/*
 * b holds the first n (<= HT_INFER_BYTES) bytes of a syscall's data. The
 * method list is the registered methods common on the wire (RFC 9110 plus
 * PATCH and the WebDAV ones servers actually see); a method must be followed
 * by a space, so "GETTER" or "POSTGRES" never match.
 */
/*
 * Joined mid-stream, an HTTP/2 connection shows neither its preface nor its
 * first SETTINGS: it is recognised at a HEADERS frame that begins an
 * operation, by a strict header (type 1, END_HEADERS set, no flags but
 * END_STREAM, PADDED and PRIORITY, a length of 1..16384, an odd stream id:
 * requests and their responses) whose header block starts with a static
 * table pseudo-header (RFC 7541 Appendix A) that HPACK encoders put first:
 * :method, :path or :scheme (0x82..0x87) for a request, :status
 * (0x88..0x8e) for a response. Returns HT_INFER_HTTP2_REQUEST/_RESPONSE or 0.
 */
static __always_inline int ht_infer_h2_headers(const unsigned char *b, unsigned n) {
        unsigned len, off = 9;
        unsigned char first;

        if (n < 10)
                return 0;
        len = (unsigned) b[0] << 16 | (unsigned) b[1] << 8 | b[2];
        if (b[3] != 0x01 || len == 0 || len > 16384 || !(b[4] & 0x04) || (b[4] & ~0x2d) || (b[5] & 0x80) ||
            !(b[8] & 1))
                return 0;
        if (b[4] & 0x08)
                off += 1;
        if (b[4] & 0x20)
                off += 5;
        if (off >= n || off >= 16)
                return 0;
        first = b[off & 15];
        if (first >= 0x82 && first <= 0x87)
                return HT_INFER_HTTP2_REQUEST;
        if (first >= 0x88 && first <= 0x8e)
                return HT_INFER_HTTP2_RESPONSE;
        return 0;
}

/*
 * Mid-stream, the operation that carries a HEADERS frame often starts with
 * small connection-control frames the sender flushed with it: gRPC puts a
 * WINDOW_UPDATE or a PING (or its ACK) ahead of a call's HEADERS, nghttp2 a
 * SETTINGS ACK. If b[0..n) begins with one of the fixed-length frames a
 * sender writes on its own (WINDOW_UPDATE, PING, SETTINGS ACK, RST_STREAM,
 * PRIORITY) with a strict header (its exact length, no flags but PING's and
 * SETTINGS' ACK, the stream id its type requires, reserved bit clear),
 * returns its size on the wire (header + payload), so that the caller can
 * look for a HEADERS frame behind it with ht_infer_h2_headers(); else 0.
 * Like ht_infer_h2_headers(), only meaningful mid-stream.
 */
static __always_inline unsigned ht_infer_h2_control_len(const unsigned char *b, unsigned n) {
        unsigned len, stream0;

        if (n < 9 || b[0] != 0 || b[1] != 0 || (b[5] & 0x80))
                return 0;
        len = b[2];
        stream0 = !b[5] && !b[6] && !b[7] && !b[8];
        switch (b[3]) {
        case 0x08: /* WINDOW_UPDATE: any stream */
                return len == 4 && b[4] == 0 ? 13 : 0;
        case 0x06: /* PING, PING ACK */
                return len == 8 && (b[4] & ~0x01) == 0 && stream0 ? 17 : 0;
        case 0x04: /* SETTINGS ACK (a SETTINGS with entries is no frame a sender adds on its own) */
                return len == 0 && b[4] == 0x01 && stream0 ? 9 : 0;
        case 0x03: /* RST_STREAM */
                return len == 4 && b[4] == 0 && !stream0 ? 13 : 0;
        case 0x02: /* PRIORITY */
                return len == 5 && b[4] == 0 && !stream0 ? 14 : 0;
        default:
                return 0;
        }
}

static __always_inline int ht_infer_protocol(const unsigned char *b, unsigned n) {
        if (n < 4)
                return HT_INFER_UNKNOWN;

        if (ht_prefix(b, n, "HTTP/1.", 7))
                return HT_INFER_RESPONSE;
        if (ht_prefix(b, n, "PRI * HTTP/2", 12))
                return HT_INFER_HTTP2;

        switch (b[0]) {
        case 'G':
                if (ht_prefix(b, n, "GET ", 4))
                        return HT_INFER_REQUEST;
                break;
        case 'H':
                if (ht_prefix(b, n, "HEAD ", 5))
                        return HT_INFER_REQUEST;
                break;
        case 'P':
                if (ht_prefix(b, n, "POST ", 5) || ht_prefix(b, n, "PUT ", 4) ||
                    ht_prefix(b, n, "PATCH ", 6) || ht_prefix(b, n, "PROPFIND ", 9) ||
                    ht_prefix(b, n, "PROPPATCH ", 10))
                        return HT_INFER_REQUEST;
                break;
        case 'D':
                if (ht_prefix(b, n, "DELETE ", 7))
                        return HT_INFER_REQUEST;
                break;
        case 'O':
                if (ht_prefix(b, n, "OPTIONS ", 8))
                        return HT_INFER_REQUEST;
                break;
        case 'C':
                if (ht_prefix(b, n, "CONNECT ", 8) || ht_prefix(b, n, "COPY ", 5))
                        return HT_INFER_REQUEST;
                break;
        case 'T':
                if (ht_prefix(b, n, "TRACE ", 6))
                        return HT_INFER_REQUEST;
                break;
        case 'M':
                if (ht_prefix(b, n, "MKCOL ", 6) || ht_prefix(b, n, "MOVE ", 5))
                        return HT_INFER_REQUEST;
                break;
        case 'L':
                if (ht_prefix(b, n, "LOCK ", 5))
                        return HT_INFER_REQUEST;
                break;
        case 'U':
                if (ht_prefix(b, n, "UNLOCK ", 7))
                        return HT_INFER_REQUEST;
                break;
        case 'S':
                if (ht_prefix(b, n, "SSH-", 4))
                        return HT_INFER_OTHER;
                break;
        case 0:
                if (ht_infer_h2_settings(b, n))
                        return HT_INFER_HTTP2_SETTINGS;
                return ht_infer_h2_headers(b, n) ?: HT_INFER_UNKNOWN;
        case 0x14: case 0x15: case 0x16: case 0x17: case 0x18:
                /* TLS record: content type, then version 3.x with x <= 4 (SSL 3.0 ... TLS 1.3). */
                if (b[1] == 0x03 && b[2] <= 0x04)
                        return HT_INFER_OTHER;
                break;
        }

        return HT_INFER_UNKNOWN;
}

/* b[0..n) is a proper prefix of the token p (plen bytes). */
static __always_inline int ht_partial(const unsigned char *b, unsigned n, const char *p, unsigned plen) {
        if (n >= plen)
                return 0;
        for (unsigned i = 0; i < plen; i++)
                if (i < n && b[i] != (unsigned char) p[i])
                        return 0;
        return 1;
}

/*
 * Could b[0..n), too short for ht_infer_protocol() to decide, be the
 * beginning of a message start it recognises (a method and its space,
 * "HTTP/1.", the HTTP/2 preface)? A stream joined mid-way whose reads are
 * short (one byte per read() at worst) keeps such bytes until they decide.
 * Every token of ht_infer_protocol() must be here (the unit test checks).
 */
static __always_inline int ht_infer_partial(const unsigned char *b, unsigned n) {
        if (n == 0)
                return 0;
        switch (b[0]) {
        case 'G':
                return ht_partial(b, n, "GET ", 4);
        case 'H':
                return ht_partial(b, n, "HEAD ", 5) || ht_partial(b, n, "HTTP/1.", 7);
        case 'P':
                return ht_partial(b, n, "POST ", 5) || ht_partial(b, n, "PUT ", 4) ||
                       ht_partial(b, n, "PATCH ", 6) || ht_partial(b, n, "PROPFIND ", 9) ||
                       ht_partial(b, n, "PROPPATCH ", 10) || ht_partial(b, n, "PRI * HTTP/2", 12);
        case 'D':
                return ht_partial(b, n, "DELETE ", 7);
        case 'O':
                return ht_partial(b, n, "OPTIONS ", 8);
        case 'C':
                return ht_partial(b, n, "CONNECT ", 8) || ht_partial(b, n, "COPY ", 5);
        case 'T':
                return ht_partial(b, n, "TRACE ", 6);
        case 'M':
                return ht_partial(b, n, "MKCOL ", 6) || ht_partial(b, n, "MOVE ", 5);
        case 'L':
                return ht_partial(b, n, "LOCK ", 5);
        case 'U':
                return ht_partial(b, n, "UNLOCK ", 7);
        }
        return 0;
}
