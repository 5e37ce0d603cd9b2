/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental HTTP/1.x parser for one direction (RFC 9112). See
 * parser.h for the contract and the sync rules. The hot paths (head
 * accumulation, bodies) work on runs of bytes found with memchr; only the
 * few bytes of chunk-size lines and CRLFs are looked at one by one.
 */

#include <assert.h>
#include <stdalign.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "protocols/http1/parser.h"

/*
 * Bytes of the allocation made when a message starts (the message, then its
 * head). Typical heads (curl ~100 B, responses a few hundred bytes, most
 * browser requests) fit with their field array, so most messages cost exactly
 * one allocation; bigger ones double up to head_max. Kept at 1 KiB in all:
 * glibc serves blocks up to 1032 bytes from its per-thread cache, and
 * malloc+free of anything larger cost ~4 % of the whole pipeline (callgrind).
 */
#define HTTP1_ALLOC_INITIAL 1024u
#define HTTP1_HEAD_INITIAL (HTTP1_ALLOC_INITIAL - sizeof(Http1Message))

/*
 * Bytes of one line kept once a head is past head_max (or memory was
 * refused): we no longer store the line but still need to read framing
 * fields (Content-Length, Transfer-Encoding, Connection) to stay in sync.
 * Legitimate framing lines are far shorter; a longer one is an error.
 */
#define HTTP1_SCRATCH_MAX 256u

/*
 * Longest chunk extension accepted. Nobody sends more than a few bytes;
 * the bound stops arbitrary bytes being taken for one endless chunk-size
 * line (never buffered, but it would hide the loss of sync).
 */
#define HTTP1_CHUNK_EXT_MAX 4096u

/*
 * Field lines whose ends are remembered while a head accumulates, so that
 * parsing it does not search for them again. Typical heads have 5-20;
 * lines past this are found with memchr.
 */
#define HTTP1_LINES_TRACKED 48u

/* Longest method recognised when looking for a resync point ("PROPPATCH", "VERSION-CONTROL"). */
#define HTTP1_METHOD_MAX 32u

/*
 * Largest Content-Length accepted: 2^62 leaves room for adding up body,
 * head and gap counters in uint64_t without overflow checks everywhere.
 */
#define HTTP1_CONTENT_LENGTH_MAX (UINT64_C(1) << 62)

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
        Http1ParserCallbacks cb;
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
        size_t scratch_len;
        uint8_t scratch[HTTP1_SCRATCH_MAX + 1];  /* + a NUL after the kept bytes: field_line()'s sentinel */
        size_t n_lines;                 /* stored field lines (the final empty one included) */
        uint32_t line_ends[HTTP1_LINES_TRACKED]; /* offset of each stored field line's LF in cur->buf */

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

/* Placeholder for strings of a start line that could not be stored (memory or head cap). */
static char empty_string[1];

/* tchar (RFC 9110 §5.6.2): the characters of a token, for method and field names. */
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

static inline int hex_value(uint8_t c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* ---- memory accounting ---- */

bool http1_memory_reserve(Http1Memory *mem, size_t n) {
        if (!mem)
                return true;
        if (mem->max > 0 && (n > mem->max || mem->used > mem->max - n))
                return false;
        if (!mem_budget_reserve(mem->budget, n))
                return false;
        mem->used += n;
        return true;
}

void http1_memory_release(Http1Memory *mem, size_t n) {
        if (!mem)
                return;
        mem_budget_release(mem->budget, n);
        mem->used = n > mem->used ? 0 : mem->used - n;
}

/*
 * Charge without asking: the message struct itself. It is small and their
 * number per connection is bounded by pipeline_max (+ one per direction in
 * progress), and without it the message could not even be counted.
 */
static void http1_memory_charge(Http1Memory *mem, size_t n) {
        if (!mem)
                return;
        mem->used += n;
        if (mem->budget)
                mem->budget->used += n;
}

Http1Message *http1_message_free(Http1Message *m) {
        if (!m)
                return NULL;
        http1_memory_release(m->mem, m->reserved);
        return mfree(m);
}

Http1Message *http1_message_drop_head(Http1Message *m) {
        Http1Message *n;

        if (!m)
                return NULL;
        http1_memory_release(m->mem, m->cap);
        m->reserved -= m->cap;
        m->cap = m->len = 0;
        m->m.method = m->m.target = m->m.reason = empty_string;
        m->m.headers = NULL;
        m->m.n_headers = 0;
        m->m.head_bytes = m->m.body_bytes = m->m.wire_bytes = m->m.gap_bytes = 0;
        m->m.flags |= HTTP_MESSAGE_PIPELINE_OVERFLOW;
        n = realloc(m, sizeof(Http1Message));
        return n ?: m;
}

Http1Method http1_method_from_string(const char *s, size_t len) {
        if (len == 4 && memcmp(s, "HEAD", 4) == 0)
                return HTTP1_METHOD_HEAD;
        if (len == 7 && memcmp(s, "CONNECT", 7) == 0)
                return HTTP1_METHOD_CONNECT;
        return HTTP1_METHOD_OTHER;
}

/* ---- callbacks ---- */

static void remember(Http1Parser *p, int r) {
        if (r < 0 && p->r >= 0)
                p->r = r;
}

static void emit_message(Http1Parser *p, Http1Message *m) {
        if (p->cb.message)
                remember(p, p->cb.message(p, m, p->userdata));
        else
                http1_message_free(m);
}

/* ---- message life ---- */

static void message_reset(Http1Parser *p) {
        p->remaining = 0;
        p->line_len = 0;
        p->prev_cr = false;
        p->start_done = false;
        p->overflow = false;
        p->head_finalized = false;
        p->line_off = 0;
        p->fields_off = 0;
        p->scratch_len = 0;
        p->n_lines = 0;
        p->start_stored = false;
        p->method_len = p->target_off = p->target_len = p->reason_off = 0;
        p->content_length = 0;
        p->has_content_length = p->chunked = p->te_other = false;
        p->conn_close = p->keep_alive = p->upgrade = false;
        p->counted_overflow = false;
        p->chunk_size = 0;
        p->chunk_digits = 0;
        p->chunk_ext_len = 0;
        p->trailer_bytes = 0;
}

static int message_begin(Http1Parser *p) {
        size_t want = MIN(p->limits->head_max, (size_t) HTTP1_HEAD_INITIAL);
        bool capped = false;
        Http1Message *m;

        if (want > 0 && !http1_memory_reserve(p->mem, want)) {
                if (p->stats)
                        p->stats->memory_refused += want;
                want = 0;
                capped = true;
        }

        m = malloc(sizeof(Http1Message) + want);
        if (!m) {
                http1_memory_release(p->mem, want);
                return -ENOMEM;
        }
        memset(m, 0, sizeof(*m));
        http1_memory_charge(p->mem, sizeof(Http1Message));
        m->mem = p->mem;
        m->reserved = sizeof(Http1Message) + want;
        m->cap = want;
        m->m.kind = p->kind == HTTP1_KIND_RESPONSE ? HTTP_MESSAGE_RESPONSE : HTTP_MESSAGE_REQUEST;
        m->m.method = m->m.target = m->m.reason = empty_string;
        m->m.version = 11;
        m->m.first_ns = m->m.last_ns = p->ts;
        m->m.tid = p->tid;

        message_reset(p);
        p->cur = m;
        p->cur_offset = p->line_start_offset = p->offset;
        p->state = STATE_HEAD;
        if (capped) {
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED;
                p->overflow = true;
        }
        return 0;
}

/*
 * Hands the message over. now: its last byte is in the current feed or gap;
 * otherwise (given up, or ended by the end of the stream) last_ns stays the
 * time of the last byte we did see.
 */
static void message_complete(Http1Parser *p, Http1State next, unsigned flags, bool now) {
        Http1Message *m = TAKE_PTR(p->cur);
        bool tunnel;

        m->m.flags |= flags;
        if (now)
                m->m.last_ns = p->ts;
        tunnel = m->m.kind == HTTP_MESSAGE_REQUEST && (m->method_id == HTTP1_METHOD_CONNECT || p->upgrade);
        message_reset(p);
        p->state = next;
        p->maybe_tunnel = tunnel;
        emit_message(p, m);
}

static void head_finalize(Http1Parser *p, size_t end, const char **ret_error, size_t *ret_line);
static const char *start_line(Http1Parser *p, char *line, size_t len, bool complete, bool stored);

/*
 * A start line whose end was never seen (the capture cap turned the rest
 * into a gap, or the stream ended): what is known of it still names the
 * message, so that a long target cannot hide a request from the log. A
 * request needs its whole method and at least one byte of target (the
 * target is then the captured prefix); a response its status code. The
 * known bytes are moved to the start of the message's buffer and
 * NUL-terminated there: the buffer grows by one byte if it can, otherwise
 * the prefix loses its last byte. Returns false when there is nothing to
 * say (the caller drops the message, as before).
 */
static bool start_line_salvage(Http1Parser *p) {
        Http1Message *m = p->cur;
        const char *sp1, *sp2;
        size_t have;

        if (!p->overflow)
                have = m->len - p->line_off;    /* line_off is 0: no line ended yet */
        else {
                /* head_max (or memory) cut the line first: its first bytes are in scratch */
                have = m->cap > 0 ? MIN(p->scratch_len, m->cap - 1) : 0;
                memcpy(m->buf, p->scratch, have);
        }
        if (have == m->cap) {
                Http1Message *n = NULL;

                if (http1_memory_reserve(p->mem, 1)) {
                        n = realloc(m, sizeof(Http1Message) + m->cap + 1);
                        if (!n)
                                http1_memory_release(p->mem, 1);
                }
                if (n) {
                        n->cap++;
                        n->reserved++;
                        p->cur = m = n;
                } else if (have > 0)
                        have--;
        }
        if (have == 0)
                return false;

        if (p->kind != HTTP1_KIND_RESPONSE && !(have >= 5 && memcmp(m->buf, "HTTP/", 5) == 0)) {
                /* a target known whole but a version cut: the target ends at its SP */
                sp1 = memchr(m->buf, ' ', have);
                if (!sp1)
                        return false;
                sp2 = memchr(sp1 + 1, ' ', have - (sp1 + 1 - m->buf));
                if (sp2)
                        have = sp2 - m->buf;
        }
        if (start_line(p, m->buf, have, false, true))
                return false;

        m->len = p->line_off = p->fields_off = have + 1;
        p->start_done = true;
        p->overflow = false;
        m->m.flags |= HTTP_MESSAGE_HEAD_TRUNCATED;
        return true;
}

/*
 * Gives up the message in progress: reported truncated if its start line
 * was seen, or enough of it (start_line_salvage()), dropped otherwise.
 */
static void message_abandon(Http1Parser *p, unsigned flags) {
        Http1Message *m = p->cur;

        if (!m)
                return;
        if (!p->start_done && !start_line_salvage(p)) {
                p->cur = http1_message_free(p->cur);
                message_reset(p);
                return;
        }
        if (p->state == STATE_HEAD) {
                flags |= HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT;
                if (!p->head_finalized)
                        /* keep the complete field lines we have; stop quietly at a bad one */
                        head_finalize(p, p->overflow ? p->cur->len : p->line_off, NULL, NULL);
        }
        message_complete(p, p->state, HTTP_MESSAGE_TRUNCATED | flags, false);
}

static void lose_sync(Http1Parser *p, unsigned flags, bool count) {
        message_abandon(p, flags);
        message_reset(p);
        p->state = STATE_DESYNC;
        p->maybe_tunnel = false;
        if (count && p->stats)
                http1_counters(p->stats)[HTTP1_COUNTER_DESYNCS]++;
        if (p->cb.desync)
                remember(p, p->cb.desync(p, p->userdata));
}

static void fail(Http1Parser *p, const char *error, uint64_t offset, const void *excerpt, size_t excerpt_len) {
        if (p->maybe_tunnel && !p->start_done) {
                /*
                 * After a CONNECT or Upgrade request, bytes that are not a
                 * request are the other protocol, sent before we saw the
                 * response that switched: not an error.
                 */
                p->cur = http1_message_free(p->cur);
                message_reset(p);
                p->state = STATE_STOPPED;
                return;
        }
        if (p->cb.error) {
                Http1Error e = {
                        .error = error,
                        .offset = offset,
                        .excerpt = excerpt,
                        .excerpt_len = MIN(excerpt_len, (size_t) HTTP1_EXCERPT_MAX),
                        .timestamp_ns = p->ts,
                };
                remember(p, p->cb.error(p, &e, p->userdata));
        }
        if (!p->start_done) {
                /* the start line itself is bad: the error says all there is to say (after it: the excerpt may point into cur) */
                p->cur = http1_message_free(p->cur);
                message_reset(p);
        }
        lose_sync(p, 0, false);
}

/* ---- head ---- */

static void head_overflow_begin(Http1Parser *p, unsigned flags) {
        Http1Message *m = p->cur;
        size_t partial;

        m->m.flags |= flags | HTTP_MESSAGE_HEAD_TRUNCATED;
        if (!(flags & HTTP_MESSAGE_MEMORY_CAPPED) && !p->counted_overflow) {
                p->counted_overflow = true;
                if (p->stats)
                        http1_counters(p->stats)[HTTP1_COUNTER_HEAD_OVERFLOWS]++;
        }
        /* the stored part keeps whole lines only; the cut line continues in scratch */
        partial = m->len - p->line_off;
        p->scratch_len = MIN(partial, (size_t) HTTP1_SCRATCH_MAX);
        memcpy(p->scratch, m->buf + p->line_off, p->scratch_len);
        m->len = p->line_off;
        p->overflow = true;
}

static void head_store(Http1Parser *p, const uint8_t *data, size_t len) {
        if (!p->overflow) {
                Http1Message *m = p->cur;
                size_t need = m->len + len;

                if (need > p->limits->head_max)
                        head_overflow_begin(p, 0);
                else if (need > m->cap) {
                        size_t cap = MIN(MAX(m->cap * 2, need), p->limits->head_max);
                        size_t delta = cap - m->cap;
                        Http1Message *n;

                        if (!http1_memory_reserve(p->mem, delta)) {
                                if (p->stats)
                                        p->stats->memory_refused += delta;
                                head_overflow_begin(p, HTTP_MESSAGE_MEMORY_CAPPED);
                        } else if (!(n = realloc(m, sizeof(Http1Message) + cap))) {
                                http1_memory_release(p->mem, delta);
                                head_overflow_begin(p, HTTP_MESSAGE_MEMORY_CAPPED);
                        } else {
                                n->cap = cap;
                                n->reserved += delta;
                                p->cur = n;
                        }
                }
                if (!p->overflow) {
                        memcpy(p->cur->buf + p->cur->len, data, len);
                        p->cur->len += len;
                        return;
                }
        }

        if (p->scratch_len < HTTP1_SCRATCH_MAX) {
                size_t k = MIN(len, HTTP1_SCRATCH_MAX - p->scratch_len);
                memcpy(p->scratch + p->scratch_len, data, k);
                p->scratch_len += k;
        }
}

/*
 * Parses a start line (without CR/LF). complete is false when only a prefix
 * of a long line is known (it did not fit in scratch): the version is then
 * assumed 1.1. When stored, the pieces are NUL-terminated in place.
 */
static const char *start_line(Http1Parser *p, char *line, size_t len, bool complete, bool stored) {
        Http1Message *m = p->cur;
        bool response = len >= 5 && memcmp(line, "HTTP/", 5) == 0;

        if (response) {
                unsigned status;

                if (p->kind == HTTP1_KIND_REQUEST)
                        return "expected a request line";
                if (len < 12 || line[6] != '.' || !is_digit(line[7]) || line[8] != ' ' ||
                    !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]))
                        return "invalid status line";
                if (line[5] != '1')
                        return "unsupported HTTP version";
                if (len > 12 && line[12] != ' ')
                        return "invalid status line";
                status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                if (status < 100)
                        return "invalid status code";
                if (len > 13 && (memchr(line + 13, '\0', len - 13) || memchr(line + 13, '\r', len - 13)))
                        return "invalid character in reason phrase";

                m->m.kind = HTTP_MESSAGE_RESPONSE;
                m->m.status = status;
                m->m.version = 10 + (line[7] - '0');
                if (stored) {
                        p->reason_off = len > 12 ? 13 : len;
                        line[8] = '\0';
                        line[len] = '\0';
                }
        } else {
                const char *sp1, *sp2, *v;
                size_t i, tlen;

                if (p->kind == HTTP1_KIND_RESPONSE)
                        return "expected a status line";

                sp1 = memchr(line, ' ', len);
                if (!sp1 || sp1 == line)
                        return "invalid request line";
                for (i = 0; i < (size_t) (sp1 - line); i++)
                        if (!tchar[(uint8_t) line[i]])
                                return "invalid method";

                if (complete) {
                        /* the version is the last 8 bytes: look for its SP from the end */
                        sp2 = line + len;
                        while (sp2 > sp1 && *--sp2 != ' ')
                                ;
                        if (sp2 == sp1)
                                return "missing HTTP version in request line";
                        v = sp2 + 1;
                        if (line + len - v != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || !is_digit(v[7]))
                                return "invalid request line";
                        if (v[5] != '1')
                                return "unsupported HTTP version";
                        m->m.version = 10 + (v[7] - '0');
                } else
                        sp2 = line + len;

                tlen = sp2 - (sp1 + 1);
                if (tlen == 0)
                        return "invalid request line";
                for (i = 0; i < tlen; i++) {
                        uint8_t c = sp1[1 + i];
                        if (c <= ' ' || c == 0x7f)
                                return "invalid request target";
                }

                m->m.kind = HTTP_MESSAGE_REQUEST;
                m->method_id = http1_method_from_string(line, sp1 - line);
                if (stored) {
                        p->method_len = sp1 - line;
                        p->target_off = sp1 + 1 - line;
                        p->target_len = tlen;
                        line[p->method_len] = '\0';
                        line[p->target_off + tlen] = '\0';
                        line[len] = '\0';
                }
        }

        p->start_stored = stored;
        if (p->kind == HTTP1_KIND_ANY) {
                p->kind = response ? HTTP1_KIND_RESPONSE : HTTP1_KIND_REQUEST;
                if (p->cb.kind)
                        remember(p, p->cb.kind(p, p->kind, p->userdata));
        }
        return NULL;
}

static const char *content_length(Http1Parser *p, const char *v, size_t len) {
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

static void transfer_encoding(Http1Parser *p, const char *v, size_t len) {
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

typedef struct FieldLine {
        size_t name_len;
        size_t value_off;
        size_t value_len;
        bool framing;                   /* Content-Length or Transfer-Encoding */
} FieldLine;

/* The Connection header's close and keep-alive tokens, in one pass over the list. */
static void connection_tokens(Http1Parser *p, const char *v, size_t len) {
        /* comma-separated tokens with OWS, case-insensitive */
        while (len > 0) {
                const char *comma = memchr(v, ',', len);
                size_t l = comma ? (size_t) (comma - v) : len, a = 0, b = l;

                while (a < b && is_ows(v[a]))
                        a++;
                while (b > a && is_ows(v[b - 1]))
                        b--;
                if (b - a == 5 && strncasecmp(v + a, "close", 5) == 0)
                        p->conn_close = true;
                else if (b - a == 10 && strncasecmp(v + a, "keep-alive", 10) == 0)
                        p->keep_alive = true;
                if (!comma)
                        break;
                v = comma + 1;
                len -= l + 1;
        }
}

/*
 * Validates one field line (without CR/LF) and applies it to the framing.
 * line[len] must be a byte that is not a token character (the CR or LF that
 * ended the line, or a NUL after a scratch copy): the name is scanned up to it
 * without a bounds check per byte, the hottest loop of the parser.
 * truncated: only a prefix of the line is known (scratch).
 */
static const char *field_line(Http1Parser *p, const char *line, size_t len, bool truncated, FieldLine *ret) {
        size_t n = 0, a, b;

        assert(!tchar[(uint8_t) line[len]]);
        /* the name and the search for the colon in one pass */
        while (tchar[(uint8_t) line[n]])
                n++;
        if (_unlikely_(n == len || line[n] != ':' || n == 0)) {
                if (!memchr(line, ':', len))
                        return truncated ? "header field line too long" : "invalid header field line";
                return "invalid header field name";
        }

        a = n + 1;
        b = len;
        while (a < b && is_ows(line[a]))
                a++;
        while (b > a && is_ows(line[b - 1]))
                b--;
        /*
         * NUL was refused for the whole head at once (head_finalize). A bare
         * CR is kept: RFC 9112 §2.2 lets a recipient treat it as SP, and
         * outputs escape control characters anyway.
         */

        *ret = (FieldLine) { .name_len = n, .value_off = a, .value_len = b - a };

        /* framing fields all start with c, t or u: skip the comparisons for the others */
        switch ((line[0] | 0x20) == 'c' || (line[0] | 0x20) == 't' || (line[0] | 0x20) == 'u' ? n : 0) {
        case 14:
                if (strncasecmp(line, "content-length", 14) == 0) {
                        ret->framing = true;
                        if (truncated)
                                return "header field line too long";
                        return content_length(p, line + a, b - a);
                }
                break;
        case 17:
                if (strncasecmp(line, "transfer-encoding", 17) == 0) {
                        ret->framing = true;
                        if (truncated)
                                return "header field line too long";
                        transfer_encoding(p, line + a, b - a);
                }
                break;
        case 10:
                if (strncasecmp(line, "connection", 10) == 0)
                        connection_tokens(p, line + a, b - a);
                break;
        case 7:
                if (strncasecmp(line, "upgrade", 7) == 0)
                        p->upgrade = true;
                break;
        }
        return NULL;
}

static void count_field_overflow(Http1Parser *p) {
        p->cur->m.flags |= HTTP_MESSAGE_HEAD_TRUNCATED;
        if (!p->counted_overflow) {
                p->counted_overflow = true;
                if (p->stats)
                        http1_counters(p->stats)[HTTP1_COUNTER_HEAD_OVERFLOWS]++;
        }
}

/*
 * Parses the stored field lines in [fields_off, end) in place, makes room
 * for the kept fields (the single reallocation of the message after its
 * head grew) and points the message's strings into its buffer. With
 * ret_error NULL, stops quietly at the first bad line (used when the head is
 * being abandoned anyway).
 */
static void head_finalize(Http1Parser *p, size_t end, const char **ret_error, size_t *ret_line) {
        Http1Message *m = p->cur;
        HttpHeaderField *fields = NULL, *last = NULL;
        size_t keep, o, k = 0, nul_line = 0;
        bool any = false, last_framing = false;
        const char *nul_error = NULL;

        p->head_finalized = true;

        keep = MIN(p->n_lines, p->limits->fields_max);
        if (keep > 0) {
                size_t at = (m->len + alignof(HttpHeaderField) - 1) & ~(alignof(HttpHeaderField) - 1);
                size_t need = at + keep * sizeof(HttpHeaderField);

                if (need > m->cap) {
                        size_t delta = need - m->cap;
                        Http1Message *n = NULL;

                        if (!http1_memory_reserve(p->mem, delta)) {
                                if (p->stats)
                                        p->stats->memory_refused += delta;
                        } else if (!(n = realloc(m, sizeof(Http1Message) + need)))
                                http1_memory_release(p->mem, delta);

                        if (n) {
                                n->cap = need;
                                n->reserved += delta;
                                p->cur = m = n;
                        } else {
                                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED;
                                keep = 0;
                        }
                }
                if (keep > 0)
                        fields = (HttpHeaderField *) (m->buf + at);
        }
        m->m.headers = fields;
        m->m.n_headers = 0;

        /* strings are NUL-terminated: a NUL inside would cut one short (one search for the whole head) */
        {
                const char *nul = end > p->fields_off ? memchr(m->buf + p->fields_off, '\0', end - p->fields_off) : NULL;
                if (nul) {
                        const char *ls = nul;
                        while (ls > m->buf + p->fields_off && ls[-1] != '\n')
                                ls--;
                        /* parse up to the bad line; report it there unless an earlier line is bad too */
                        end = nul_line = ls - m->buf;
                        nul_error = "invalid character in header field value";
                }
        }

        if (p->start_stored) {
                if (m->m.kind == HTTP_MESSAGE_REQUEST) {
                        m->m.method = m->buf;
                        m->m.target = m->buf + p->target_off;
                } else
                        m->m.reason = m->buf + p->reason_off;
        }

        for (o = p->fields_off; o < end; k++) {
                char *line = m->buf + o, *lf;
                size_t len, next;
                const char *e;
                FieldLine f;

                if (k < HTTP1_LINES_TRACKED && k < p->n_lines)
                        lf = m->buf + p->line_ends[k];
                else
                        lf = memchr(line, '\n', end - o);
                if (!lf || lf >= m->buf + end)
                        break;
                len = lf - line;
                next = o + len + 1;
                if (len > 0 && line[len - 1] == '\r')
                        len--;
                if (len == 0)
                        break;

                if (is_ows(line[0])) {
                        /* obs-fold (RFC 9112 §5.2): joined to the previous value with spaces */
                        size_t a = 0, b = len;

                        if (!any)
                                e = "obs-fold without a preceding field";
                        else if (last_framing)
                                e = "obs-fold in a framing header field";
                        else
                                e = NULL;
                        if (e) {
                                if (ret_error) {
                                        *ret_error = e;
                                        *ret_line = o;
                                }
                                return;
                        }
                        while (a < b && is_ows(line[a]))
                                a++;
                        while (b > a && is_ows(line[b - 1]))
                                b--;
                        if (last && a < b) {
                                char *vend = (char *) last->value + last->value_len;

                                if (last->value_len == 0)
                                        last->value = line + a;
                                else
                                        memset(vend, ' ', line + a - vend);
                                line[b] = '\0';
                                last->value_len = line + b - last->value;
                        }
                        o = next;
                        continue;
                }

                e = field_line(p, line, len, false, &f);
                if (e) {
                        if (ret_error) {
                                *ret_error = e;
                                *ret_line = o;
                        }
                        return;
                }
                any = true;
                last_framing = f.framing;
                if (m->m.n_headers < keep) {
                        last = &fields[m->m.n_headers++];
                        line[f.name_len] = '\0';
                        line[f.value_off + f.value_len] = '\0';
                        *last = (HttpHeaderField) {
                                .name = line,
                                .name_len = f.name_len,
                                .value = line + f.value_off,
                                .value_len = f.value_len,
                        };
                } else {
                        last = NULL;
                        count_field_overflow(p);
                }
                o = next;
        }
        if (nul_error && ret_error) {
                *ret_error = nul_error;
                *ret_line = nul_line;
        }
}

static void head_done(Http1Parser *p) {
        Http1Message *m;
        const char *e = NULL;
        size_t line = 0;
        int d = HTTP1_BODY_DEFAULT;

        head_finalize(p, p->cur->len, &e, &line);
        m = p->cur;
        if (e) {
                fail(p, e, p->cur_offset + line, m->buf + line, m->len - line);
                return;
        }

        if (p->conn_close || (m->m.version == 10 && !p->keep_alive))
                m->m.flags |= HTTP_MESSAGE_CONNECTION_CLOSE;
        if (p->chunked)
                m->m.flags |= HTTP_MESSAGE_CHUNKED;

        if (m->m.kind == HTTP_MESSAGE_REQUEST) {
                if (p->te_other) {
                        /* RFC 9112 §6.3: the request's length cannot be known */
                        fail(p, "Transfer-Encoding without chunked in request", p->cur_offset, m->buf,
                             MIN(m->len, (size_t) HTTP1_EXCERPT_MAX));
                        return;
                }
                if (p->cb.head)
                        remember(p, p->cb.head(p, m, p->userdata));
                if (p->chunked)
                        p->state = STATE_CHUNK_SIZE;
                else if (p->has_content_length && p->content_length > 0) {
                        p->state = STATE_BODY;
                        p->remaining = p->content_length;
                } else
                        message_complete(p, STATE_START, 0, true);
                return;
        }

        if (p->cb.head) {
                d = p->cb.head(p, m, p->userdata);
                remember(p, d);
        }

        if (m->m.status == 101)
                message_complete(p, STATE_STOPPED, HTTP_MESSAGE_UPGRADE, true);
        else if (m->m.status < 200 || m->m.status == 204 || m->m.status == 304 || d == HTTP1_BODY_NONE)
                message_complete(p, STATE_START, 0, true);
        else if (d == HTTP1_BODY_TUNNEL && m->m.status < 300)
                message_complete(p, STATE_STOPPED, HTTP_MESSAGE_UPGRADE, true);
        else if (p->chunked)
                p->state = STATE_CHUNK_SIZE;
        else if (p->te_other)
                p->state = STATE_CLOSE_DELIMITED;
        else if (p->has_content_length) {
                if (p->content_length == 0)
                        message_complete(p, STATE_START, 0, true);
                else {
                        p->state = STATE_BODY;
                        p->remaining = p->content_length;
                }
        } else
                p->state = STATE_CLOSE_DELIMITED;
}

/* A complete line of the head; returns true when the head ended or sync was lost. */
static bool head_line(Http1Parser *p, size_t content, bool cr, uint64_t next_offset) {
        size_t text = content - (cr ? 1 : 0);

        if (!p->start_done) {
                const char *e;
                char *line;
                size_t have;

                if (!p->overflow) {
                        line = p->cur->buf + p->line_off;
                        have = text;
                } else {
                        line = (char *) p->scratch;
                        have = MIN(p->scratch_len, text);
                }
                e = start_line(p, line, have, have == text, !p->overflow);
                if (e) {
                        fail(p, e, p->cur_offset, line, have);
                        return true;
                }
                p->start_done = true;
                p->maybe_tunnel = false;
                p->fields_off = p->cur->len;
        } else if (text == 0) {
                head_done(p);
                return true;
        } else if (p->overflow) {
                size_t have = MIN(p->scratch_len, text);
                const char *e = NULL;
                FieldLine f;

                /* not stored: read it for framing only; obs-fold continuations are ignored */
                if (!is_ows(p->scratch[0])) {
                        p->scratch[have] = '\0';
                        e = field_line(p, (const char *) p->scratch, have, have < text, &f);
                }
                if (e) {
                        fail(p, e, p->line_start_offset, p->scratch, have);
                        return true;
                }
        }

        if (!p->overflow && p->start_done && p->fields_off < p->cur->len) {
                if (p->n_lines < HTTP1_LINES_TRACKED)
                        p->line_ends[p->n_lines] = p->cur->len - 1;
                p->n_lines++;
        }
        p->scratch_len = 0;
        p->line_off = p->cur->len;
        p->line_start_offset = next_offset;
        return false;
}

static size_t head_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        size_t i = 0;

        while (i < avail) {
                const uint8_t *lf = memchr(q + i, '\n', avail - i);
                size_t k = lf ? (size_t) (lf - (q + i)) + 1 : avail - i, content;
                bool cr;

                head_store(p, q + i, k);
                p->cur->m.head_bytes += k;
                p->cur->m.wire_bytes += k;
                if (!lf) {
                        p->line_len += k;
                        p->prev_cr = q[i + k - 1] == '\r';
                        return avail;
                }
                content = p->line_len + k - 1;
                cr = k >= 2 ? q[i + k - 2] == '\r' : p->prev_cr;
                i += k;
                p->line_len = 0;
                p->prev_cr = false;
                if (head_line(p, content, cr, p->offset + i))
                        return i;
        }
        return i;
}

/* ---- chunked framing ---- */

static void chunk_size_done(Http1Parser *p) {
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

static size_t chunk_size_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        size_t i;

        for (i = 0; i < avail; i++) {
                uint8_t c = q[i];
                int d = hex_value(c);

                if (d >= 0) {
                        if (p->chunk_size > (UINT64_MAX >> 4) ||
                            (p->chunk_size << 4 | (unsigned) d) > HTTP1_CONTENT_LENGTH_MAX) {
                                p->cur->m.wire_bytes += i;
                                fail(p, "chunk size overflow", p->offset + i, q + i, avail - i);
                                return i + 1;
                        }
                        p->chunk_size = p->chunk_size << 4 | (unsigned) d;
                        p->chunk_digits++;
                        continue;
                }
                if (p->chunk_digits == 0 || !(c == ';' || is_ows(c) || c == '\r' || c == '\n')) {
                        p->cur->m.wire_bytes += i;
                        fail(p, "invalid chunk size", p->offset + i, q + i, avail - i);
                        return i + 1;
                }
                p->cur->m.wire_bytes += i + 1;
                if (c == '\r')
                        p->state = STATE_CHUNK_SIZE_LF;
                else if (c == '\n')
                        chunk_size_done(p);
                else
                        p->state = STATE_CHUNK_EXT;
                return i + 1;
        }
        p->cur->m.wire_bytes += avail;
        return avail;
}

static size_t chunk_ext_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        const uint8_t *lf = memchr(q, '\n', avail);
        size_t k = lf ? (size_t) (lf - q) + 1 : avail;

        p->chunk_ext_len += k;
        if (p->chunk_ext_len > HTTP1_CHUNK_EXT_MAX) {
                fail(p, "chunk extension too long", p->offset, q, avail);
                return k;
        }
        p->cur->m.wire_bytes += k;
        if (lf)
                chunk_size_done(p);
        return k;
}

static size_t trailer_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        const uint8_t *lf = memchr(q, '\n', avail);
        size_t k = lf ? (size_t) (lf - q) + 1 : avail;

        p->trailer_bytes += k;
        if (p->trailer_bytes > MAX(p->limits->head_max, (size_t) HTTP1_SCRATCH_MAX)) {
                /* trailers are not kept, but an endless trailer section means we are lost */
                fail(p, "trailer section too long", p->offset, q, avail);
                return k;
        }
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
                        message_complete(p, STATE_START, 0, true);
        }
        return k;
}

/* ---- public ---- */

int http1_parser_new(Http1Kind kind, const Http1Limits *limits, Http1Memory *mem, Stats *stats,
                     const Http1ParserCallbacks *cb, void *userdata, bool synced,
                     Http1Parser **ret) {
        Http1Parser *p;

        if (!limits || !ret)
                return -EINVAL;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->kind = kind;
        p->state = synced ? STATE_START : STATE_DESYNC;
        p->limits = limits;
        p->mem = mem;
        p->stats = stats;
        if (cb)
                p->cb = *cb;
        p->userdata = userdata;
        *ret = p;
        return 0;
}

Http1Parser *http1_parser_free(Http1Parser *p) {
        if (!p)
                return NULL;
        http1_message_free(p->cur);
        return mfree(p);
}

int http1_parser_feed(Http1Parser *p, const uint8_t *buf, size_t n, uint64_t ts_ns, uint32_t tid,
                      bool segment_start) {
        const uint8_t *q = buf, *end = buf + n;

        if (!p || (!buf && n > 0))
                return -EINVAL;

        p->r = 0;
        p->ts = ts_ns;
        p->tid = tid;
        if (p->cur && n > 0)
                /* this feed carries (at least) the next byte of the message in progress */
                p->cur->m.last_ns = ts_ns;

        if (p->state == STATE_DESYNC && segment_start && http1_looks_like_start(buf, n, p->kind))
                p->state = STATE_START;

        while (q < end) {
                size_t avail = end - q, k;

                switch (p->state) {
                case STATE_START:
                        if (*q == '\r' || *q == '\n') {
                                /* RFC 9112 §2.2: empty lines before a message are ignored */
                                k = 1;
                                break;
                        }
                        k = 0;
                        /* refuse what cannot start a message at once rather than buffer it */
                        if (!tchar[*q] || (p->kind == HTTP1_KIND_RESPONSE && *q != 'H')) {
                                fail(p, p->kind != HTTP1_KIND_RESPONSE ? "invalid request line" :
                                        tchar[*q] ? "expected a status line" : "invalid status line",
                                     p->offset, q, avail);
                                k = 1;
                                break;
                        }
                        {
                                int r = message_begin(p);
                                if (r < 0) {
                                        remember(p, r);
                                        lose_sync(p, 0, false);
                                        k = 1;
                                }
                        }
                        break;
                case STATE_HEAD:
                        k = head_consume(p, q, avail);
                        break;
                case STATE_BODY:
                case STATE_CHUNK_DATA:
                        k = MIN((uint64_t) avail, p->remaining);
                        p->remaining -= k;
                        p->cur->m.body_bytes += k;
                        p->cur->m.wire_bytes += k;
                        if (p->remaining == 0) {
                                if (p->state == STATE_BODY)
                                        message_complete(p, STATE_START, 0, true);
                                else
                                        p->state = STATE_CHUNK_CR;
                        }
                        break;
                case STATE_CHUNK_SIZE:
                        k = chunk_size_consume(p, q, avail);
                        break;
                case STATE_CHUNK_EXT:
                        k = chunk_ext_consume(p, q, avail);
                        break;
                case STATE_CHUNK_SIZE_LF:
                case STATE_CHUNK_CR:
                case STATE_CHUNK_LF:
                        k = 1;
                        if (*q == '\r' && p->state == STATE_CHUNK_CR) {
                                p->cur->m.wire_bytes++;
                                p->state = STATE_CHUNK_LF;
                        } else if (*q == '\n') {
                                p->cur->m.wire_bytes++;
                                if (p->state == STATE_CHUNK_SIZE_LF)
                                        chunk_size_done(p);
                                else
                                        p->state = STATE_CHUNK_SIZE;
                        } else
                                fail(p, p->state == STATE_CHUNK_SIZE_LF ? "invalid chunk size" :
                                        "missing CRLF after chunk data", p->offset, q, avail);
                        break;
                case STATE_TRAILER:
                        k = trailer_consume(p, q, avail);
                        break;
                case STATE_CLOSE_DELIMITED:
                        k = avail;
                        p->cur->m.body_bytes += k;
                        p->cur->m.wire_bytes += k;
                        p->cur->m.last_ns = ts_ns;
                        break;
                case STATE_DESYNC:
                case STATE_STOPPED:
                default:
                        k = avail;
                        break;
                }
                q += k;
                p->offset += k;
        }
        return p->r;
}

int http1_parser_gap(Http1Parser *p, uint64_t n, uint64_t ts_ns) {
        if (!p)
                return -EINVAL;

        p->r = 0;
        p->ts = ts_ns;
        if (n == 0)
                return 0;

        switch (p->state) {
        case STATE_STOPPED:
        case STATE_DESYNC:
                break;
        case STATE_CLOSE_DELIMITED:
                p->cur->m.body_bytes += n;
                p->cur->m.wire_bytes += n;
                p->cur->m.gap_bytes += n;
                p->cur->m.last_ns = ts_ns;
                p->cur->m.flags |= HTTP_MESSAGE_GAP;
                break;
        case STATE_BODY:
        case STATE_CHUNK_DATA: {
                /* inside a body of known length: the gap is body, framing is intact */
                uint64_t k = MIN(n, p->remaining);
                Http1Message *m = p->cur;

                p->remaining -= k;
                m->m.body_bytes += k;
                m->m.wire_bytes += k;
                m->m.gap_bytes += k;
                m->m.flags |= HTTP_MESSAGE_GAP;
                if (k < n) {
                        /* the gap ran over the framing that follows: where it is, is unknowable */
                        if (p->state == STATE_BODY)
                                message_complete(p, STATE_START, 0, true);
                        lose_sync(p, HTTP_MESSAGE_GAP, true);
                } else if (p->remaining == 0) {
                        if (p->state == STATE_BODY)
                                message_complete(p, STATE_START, 0, true);
                        else
                                p->state = STATE_CHUNK_CR;
                }
                break;
        }
        default:
                if (n > 0)
                        lose_sync(p, HTTP_MESSAGE_GAP, true);
                break;
        }
        p->offset += n;
        return p->r;
}

int http1_parser_finish(Http1Parser *p, uint64_t ts_ns) {
        if (!p)
                return -EINVAL;

        p->r = 0;
        p->ts = ts_ns;
        if (p->state == STATE_CLOSE_DELIMITED)
                message_complete(p, STATE_STOPPED, HTTP_MESSAGE_CLOSE_DELIMITED, false);
        else
                message_abandon(p, 0);
        message_reset(p);
        p->state = STATE_STOPPED;
        return p->r;
}

int http1_parser_stop(Http1Parser *p, uint64_t ts_ns) {
        if (!p)
                return -EINVAL;
        if (p->state == STATE_STOPPED)
                return 0;
        return http1_parser_finish(p, ts_ns);
}

void http1_parser_set_kind(Http1Parser *p, Http1Kind kind) {
        if (p && p->kind == HTTP1_KIND_ANY)
                p->kind = kind;
}

Http1Kind http1_parser_get_kind(const Http1Parser *p) {
        return p ? p->kind : HTTP1_KIND_ANY;
}

Http1Message *http1_parser_body_message(const Http1Parser *p) {
        if (!p || !p->cur)
                return NULL;
        switch (p->state) {
        case STATE_BODY:
        case STATE_CHUNK_SIZE:
        case STATE_CHUNK_EXT:
        case STATE_CHUNK_SIZE_LF:
        case STATE_CHUNK_DATA:
        case STATE_CHUNK_CR:
        case STATE_CHUNK_LF:
        case STATE_TRAILER:
        case STATE_CLOSE_DELIMITED:
                return p->cur;
        default:
                return NULL;
        }
}

bool http1_parser_busy(const Http1Parser *p) {
        return p && p->cur;
}

bool http1_parser_desynced(const Http1Parser *p) {
        return p && p->state == STATE_DESYNC;
}

bool http1_parser_stopped(const Http1Parser *p) {
        return p && p->state == STATE_STOPPED;
}

uint64_t http1_parser_offset(const Http1Parser *p) {
        return p ? p->offset : 0;
}

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
