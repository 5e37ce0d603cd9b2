/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the four files of the HTTP/1.x parser share, and nothing else may
 * include: parser.c (the per-direction state machine: message life, sync,
 * gaps, the public entry points), parser-head.c (start line and header
 * fields), parser-body.c (body framing: Content-Length,
 * Transfer-Encoding, Connection, the chunked coding) and parser-resync.c
 * (a start line recognised after sync was lost). parser.h is the contract.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http1/parser.h"

/*
 * Bytes of one line kept once a head is past head_max (or memory was
 * refused): we no longer store the line but still need to read framing
 * fields (Content-Length, Transfer-Encoding, Connection) to stay in sync.
 * Legitimate framing lines are far shorter; a longer one is an error.
 */
#define HTTP1_SCRATCH_MAX 256u


typedef enum Http1State {
        STATE_START,            /* between messages */
        STATE_HEAD,             /* start line and header fields */
        STATE_BODY,             /* Content-Length body: remaining bytes left */
        STATE_CHUNK_SIZE,       /* hex digits of a chunk-size line */
        STATE_CHUNK_EXT,        /* after the digits: extension up to LF */
        STATE_CHUNK_SIZE_LF,    /* CR seen right after the digits, LF expected */
        STATE_CHUNK_DATA,       /* chunk payload: remaining bytes left */
        STATE_CHUNK_CR,         /* CRLF after chunk payload */
        STATE_CHUNK_LF,
        STATE_TRAILER,          /* trailer section after the last chunk, up to an empty line */
        STATE_CLOSE_DELIMITED,  /* body up to the end of the stream */
        STATE_DESYNC,           /* lost: waiting for a segment start that looks like a message */
        STATE_STOPPED,          /* switched protocols or finished: nothing more to parse */
} Http1State;

struct Http1Parser {
        Http1Kind kind;
        Http1State state;
        const Http1Limits *limits;
        Http1Memory *mem;
        Stats *stats;
        const Http1ParserCallbacks *cb;  /* the caller's (it outlives the parser), or no_callbacks */
        void *userdata;
        int r;                          /* first callback error during the current call */

        uint64_t offset;                /* stream offset of the next byte to be consumed */
        uint64_t ts;                    /* of the current feed or gap */
        uint32_t tid;

        Http1Message *cur;              /* message being parsed, NULL between messages */
        uint64_t cur_offset;            /* stream offset of its first byte */
        uint64_t remaining;             /* BODY / CHUNK_DATA: bytes left */
        bool maybe_tunnel;              /* last request asked for CONNECT/Upgrade: non-HTTP may follow */

        /* head scanning */
        size_t line_len;                /* bytes of the current line so far (stored or not) */
        bool prev_cr;                   /* the byte before this position was CR */
        bool start_done;                /* start line parsed */
        bool overflow;                  /* not storing head bytes any more */
        bool head_finalized;            /* stored field lines parsed, pointers set */
        size_t line_off;                /* start of the current line in cur->buf */
        size_t fields_off;              /* start of the first field line in cur->buf */
        uint64_t line_start_offset;     /* stream offset of the current line */
        /*
         * The line being read once the head is not stored any more: allocated
         * when that starts (rarely: a head past head_max or refused memory),
         * freed with the message, so that the ~10,000 idle connections a
         * server holds do not each carry it (issue 14). scratch_cap is
         * HTTP1_SCRATCH_MAX, or 0 (scratch_none) if that allocation failed:
         * the line then reads as empty and the head fails to parse.
         */
        uint8_t *scratch;               /* scratch_cap bytes + a NUL after the kept ones: field_line()'s sentinel */
        size_t scratch_cap;
        size_t scratch_len;

        /* start line pieces, as offsets into cur->buf (valid when stored) */
        bool start_stored;
        size_t method_len, target_off, target_len, reason_off;

        /* framing, from the header fields */
        uint64_t content_length;
        bool has_content_length;
        bool chunked;                   /* last transfer coding is chunked */
        bool te_other;                  /* Transfer-Encoding present, last coding not chunked */
        bool conn_close;
        bool keep_alive;
        bool upgrade;                   /* Upgrade header field present */
        bool counted_overflow;          /* head_overflows already counted for this message */

        /* chunk-size line, trailers */
        uint64_t chunk_size;
        unsigned chunk_digits;
        size_t chunk_ext_len;
        uint64_t trailer_bytes;
};

/*
 * tchar (RFC 9110 §5.6.2): the characters of a token, for method and field
 * names. Static here rather than one extern table, so that each file reading
 * it (the field-name loop is the hottest of the parser) sees its contents.
 */
static const bool tchar[256] = {
        ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
        ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
        ['8'] = 1, ['9'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
        ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
        ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
        ['Y'] = 1, ['Z'] = 1,
        ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
        ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
        ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
        ['y'] = 1, ['z'] = 1,
};

static inline bool is_digit(uint8_t c) {
        return c >= '0' && c <= '9';
}

static inline bool is_ows(uint8_t c) {
        return c == ' ' || c == '\t';
}

static inline void remember(Http1Parser *p, int r) {
        if (r < 0 && p->r >= 0)
                p->r = r;
}

/* The head stops being stored: the line being read goes to scratch from now on (see Http1Parser.scratch). */
static inline void http1_scratch_begin(Http1Parser *p) {
        static uint8_t scratch_none[1];

        if (p->scratch)
                return;
        p->scratch = malloc(HTTP1_SCRATCH_MAX + 1);
        p->scratch_cap = p->scratch ? HTTP1_SCRATCH_MAX : 0;
        if (!p->scratch)
                p->scratch = scratch_none;
}

/*
 * Largest Content-Length accepted: 2^62 leaves room for adding up body,
 * head and gap counters in uint64_t without overflow checks everywhere.
 */
#define HTTP1_CONTENT_LENGTH_MAX (UINT64_C(1) << 62)

/*
 * A Content-Length value: NULL, or why it is refused. Here rather than in
 * parser-body.c: it runs for nearly every head, and the call across files
 * cost instructions on every exchange; inline, it is part of
 * http1_head_consume() as it was before the parser was split.
 */
static inline const char *http1_content_length(Http1Parser *p, const char *v, size_t len) {
        /* RFC 9110 §8.6: a list of identical values may be taken as one */
        while (true) {
                const char *comma = memchr(v, ',', len);
                size_t l = comma ? (size_t) (comma - v) : len, a = 0, b = l;
                uint64_t x = 0;

                while (a < b && is_ows(v[a]))
                        a++;
                while (b > a && is_ows(v[b - 1]))
                        b--;
                if (a == b)
                        return "invalid Content-Length";
                for (size_t i = a; i < b; i++) {
                        if (!is_digit(v[i]) || x > HTTP1_CONTENT_LENGTH_MAX / 10)
                                return "invalid Content-Length";
                        x = x * 10 + (v[i] - '0');
                        if (x > HTTP1_CONTENT_LENGTH_MAX)
                                return "invalid Content-Length";
                }
                if (p->has_content_length && p->content_length != x)
                        return "conflicting Content-Length";
                p->has_content_length = true;
                p->content_length = x;
                if (!comma)
                        return NULL;
                v = comma + 1;
                len -= l + 1;
        }
}

static inline uint64_t load8(const char *s) {
        uint64_t x;

        memcpy(&x, s, sizeof(x));
        return x;
}

/*
 * Whether a field name of n >= 8 token characters is `lower` (n bytes: lower
 * case letters and '-') in any case, eight bytes at a time instead of a call
 * to strncasecmp(): OR 0x20 maps only the two cases of a letter to the
 * letter, and among token characters only '-' itself to '-'.
 */
static inline __attribute__((always_inline)) bool name_is(const char *s, size_t n, const char *lower) {
        const uint64_t fold = UINT64_C(0x2020202020202020);
        size_t i;

        for (i = 0; i + 8 <= n; i += 8)
                if ((load8(s + i) | fold) != load8(lower + i))
                        return false;
        return i == n || (load8(s + n - 8) | fold) == load8(lower + n - 8);
}

/*
 * A request target's bytes eight at a time (SWAR, bytes as lanes of a
 * uint64_t); a word that fails is looked at again byte by byte. Two exact
 * per-lane tests, no carry leaving a lane: (x & 0x7f..) + (0x80 - lo) sets
 * a lane's high bit iff its low 7 bits are >= lo, and
 * ~(((y & 0x7f..) + 0x7f..) | y) sets it iff the lane of y is 0. (Checked
 * against the byte rule for every byte in every lane. The same for field
 * names, letters, digits and '-', cost more than the byte loop on names of
 * 4-14 bytes: not done.)
 */
#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t swar_zero_lanes(uint64_t y) {
        return ~(((y & ~SWAR_HIGHS) + ~SWAR_HIGHS) | y) & SWAR_HIGHS;
}

/* No byte of the eight is a control character, SP or DEL (the request target's rule). */
static inline bool target_word_ok(uint64_t x) {
        /* lanes >= 0x80 are allowed: only the low lanes are tested against 0x21 */
        uint64_t low = ~(x | ((x & ~SWAR_HIGHS) + SWAR_ONES * (0x80 - 0x21))) & SWAR_HIGHS;

        return !low && !swar_zero_lanes(x ^ (SWAR_ONES * 0x7f));
}

/* parser.c */
void http1_message_complete(Http1Parser *p, Http1State next, unsigned flags, bool now);
void http1_fail(Http1Parser *p, const char *error, uint64_t offset, const void *excerpt, size_t excerpt_len);

/* parser-head.c */
size_t http1_head_consume(Http1Parser *p, const uint8_t *q, size_t avail);
void http1_head_finalize(Http1Parser *p, size_t end, const char **ret_error, size_t *ret_line);
bool http1_start_line_salvage(Http1Parser *p);

/* parser-body.c */
void http1_transfer_encoding(Http1Parser *p, const char *v, size_t len);
void http1_connection_tokens(Http1Parser *p, const char *v, size_t len);
void http1_chunk_size_done(Http1Parser *p);
size_t http1_chunk_size_consume(Http1Parser *p, const uint8_t *q, size_t avail);
size_t http1_chunk_ext_consume(Http1Parser *p, const uint8_t *q, size_t avail);
size_t http1_trailer_consume(Http1Parser *p, const uint8_t *q, size_t avail);
