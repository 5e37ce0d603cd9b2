/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The head of an HTTP/1.x message (RFC 9112 §3, §5): accumulating it
 * (whole from one feed in one pass, or line by line), the start line and
 * the header fields. Recognising a start line after sync was lost is in
 * parser-resync.c, the framing fields' values in parser-body.c. Part of
 * the parser (parser.c); no state of its own.
 */

#include <stdalign.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "protocols/http1/parser-internal.h"

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
        http1_scratch_begin(p);
        partial = m->len - p->line_off;
        p->scratch_len = MIN(partial, p->scratch_cap);
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

        if (p->scratch_len < p->scratch_cap) {
                size_t k = MIN(len, p->scratch_cap - p->scratch_len);
                memcpy(p->scratch + p->scratch_len, data, k);
                p->scratch_len += k;
        }
}

/*
 * Parses a start line (without CR/LF). complete is false when only a prefix
 * of a long line is known (it did not fit in scratch): the version is then
 * assumed 1.1. When stored, the pieces are NUL-terminated in place.
 * Always inline: since http1_head_consume() is no longer inlined into
 * parser.c, gcc stopped inlining this too, a call per message.
 */
static inline __attribute__((always_inline)) const char *start_line(Http1Parser *p, char *line, size_t len,
                                                                  bool complete, bool stored) {
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
                /* a reason phrase is a few bytes ("OK"): one loop costs less than two memchr() calls */
                for (size_t j = 13; j < len; j++)
                        if (line[j] == '\0' || line[j] == '\r')
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
                        /*
                         * The version is the last 8 bytes: its SP is the 9th byte from
                         * the end when they start with "HTTP/1." (no SP in them; sp1,
                         * the first SP, is then at or before it); otherwise look for
                         * the last SP, for the error to say what is wrong.
                         */
                        if (len >= 9 && line[len - 9] == ' ' && memcmp(line + len - 8, "HTTP/1.", 7) == 0)
                                sp2 = line + len - 9;
                        else {
                                sp2 = line + len;
                                while (sp2 > sp1 && *--sp2 != ' ')
                                        ;
                        }
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
                /* eight bytes a step while none is a control, SP or DEL; then byte by byte from there */
                for (i = 0; i + 8 <= tlen && target_word_ok(load8(sp1 + 1 + i)); i += 8)
                        ;
                for (; i < tlen; i++) {
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
                if (p->cb->kind)
                        remember(p, p->cb->kind(p, p->kind, p->userdata));
        }
        return NULL;
}


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
bool http1_start_line_salvage(Http1Parser *p) {
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

typedef struct FieldLine {
        size_t name_len;
        size_t value_off;
        size_t value_len;
        bool framing;                   /* Content-Length or Transfer-Encoding */
} FieldLine;

/*
 * Validates one field line (without CR/LF) and applies it to the framing.
 * line[len] must be a byte that is not a token character (the CR or LF that
 * ended the line, or a NUL after a scratch copy): the name is scanned up to it
 * without a bounds check per byte, the hottest loop of the parser.
 * truncated: only a prefix of the line is known (scratch).
 */
static inline __attribute__((always_inline)) const char *field_line(Http1Parser *p, const char *line, size_t len,
                                                                   bool truncated, FieldLine *ret) {
        size_t n = 0, a, b;

        /*
         * No assert(!tchar[line[len]]) here: asserts stay on in the shipped
         * build, and this is the hottest line of the parser (36 instructions
         * per exchange). Its three callers pass a line ended by CR or LF, or
         * a scratch copy NUL-terminated just before (a caller that did not
         * would let the name loop run on; fuzz-http1 under ASan exercises all three).
         */
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
                if (name_is(line, 14, "content-length")) {
                        ret->framing = true;
                        if (truncated)
                                return "header field line too long";
                        return http1_content_length(p, line + a, b - a);
                }
                break;
        case 17:
                if (name_is(line, 17, "transfer-encoding")) {
                        ret->framing = true;
                        if (truncated)
                                return "header field line too long";
                        http1_transfer_encoding(p, line + a, b - a);
                }
                break;
        case 10:
                if (name_is(line, 10, "connection"))
                        http1_connection_tokens(p, line + a, b - a);
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
void http1_head_finalize(Http1Parser *p, size_t end, const char **ret_error, size_t *ret_line) {
        Http1Message *m = p->cur;
        HttpHeaderField *fields = NULL, *last = NULL;
        size_t keep, o, k = 0, nul_line = 0;
        bool any = false, last_framing = false;
        const char *nul_error = NULL;

        p->head_finalized = true;

        keep = MIN((size_t) m->n_lines, p->limits->fields_max);
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

                if (k < HTTP1_LINES_TRACKED && k < m->n_lines)
                        lf = m->buf + m->line_ends[k];
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

/* The head is parsed (m->m's strings and fields set): framing, the ->head callback, what comes next. */
static inline __attribute__((always_inline)) void head_dispatch(Http1Parser *p) {
        Http1Message *m = p->cur;
        int d = HTTP1_BODY_DEFAULT;

        if (p->conn_close || (m->m.version == 10 && !p->keep_alive))
                m->m.flags |= HTTP_MESSAGE_CONNECTION_CLOSE;
        if (p->chunked)
                m->m.flags |= HTTP_MESSAGE_CHUNKED;

        if (m->m.kind == HTTP_MESSAGE_REQUEST) {
                if (p->te_other) {
                        /* RFC 9112 §6.3: the request's length cannot be known */
                        http1_fail(p, "Transfer-Encoding without chunked in request", p->cur_offset, m->buf,
                                   MIN(m->len, (size_t) HTTP1_EXCERPT_MAX));
                        return;
                }
                if (p->cb->head)
                        remember(p, p->cb->head(p, m, p->userdata));
                if (p->chunked)
                        p->state = STATE_CHUNK_SIZE;
                else if (p->has_content_length && p->content_length > 0) {
                        p->state = STATE_BODY;
                        p->remaining = p->content_length;
                } else
                        http1_message_complete(p, STATE_START, 0, true);
                return;
        }

        if (p->cb->head) {
                d = p->cb->head(p, m, p->userdata);
                remember(p, d);
        }

        if (m->m.status == 101)
                http1_message_complete(p, STATE_STOPPED, HTTP_MESSAGE_UPGRADE, true);
        else if (m->m.status < 200 || m->m.status == 204 || m->m.status == 304 || d == HTTP1_BODY_NONE)
                http1_message_complete(p, STATE_START, 0, true);
        else if (d == HTTP1_BODY_TUNNEL && m->m.status < 300)
                http1_message_complete(p, STATE_STOPPED, HTTP_MESSAGE_UPGRADE, true);
        else if (p->chunked)
                p->state = STATE_CHUNK_SIZE;
        else if (p->te_other)
                p->state = STATE_CLOSE_DELIMITED;
        else if (p->has_content_length) {
                if (p->content_length == 0)
                        http1_message_complete(p, STATE_START, 0, true);
                else {
                        p->state = STATE_BODY;
                        p->remaining = p->content_length;
                }
        } else
                p->state = STATE_CLOSE_DELIMITED;
}

static void head_done(Http1Parser *p) {
        const char *e = NULL;
        size_t line = 0;

        http1_head_finalize(p, p->cur->len, &e, &line);
        if (e) {
                http1_fail(p, e, p->cur_offset + line, p->cur->buf + line, p->cur->len - line);
                return;
        }
        head_dispatch(p);
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
                        http1_fail(p, e, p->cur_offset, line, have);
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
                        http1_fail(p, e, p->line_start_offset, p->scratch, have);
                        return true;
                }
        }

        if (!p->overflow && p->start_done && p->fields_off < p->cur->len) {
                Http1Message *m = p->cur;

                if (m->n_lines < HTTP1_LINES_TRACKED)
                        m->line_ends[m->n_lines] = m->len - 1;
                m->n_lines++;
        }
        p->scratch_len = 0;
        p->line_off = p->cur->len;
        p->line_start_offset = next_offset;
        return false;
}

/* What field_line() may have set from a head's framing fields, as message_reset() leaves it. */
static void framing_reset(Http1Parser *p) {
        p->content_length = 0;
        p->has_content_length = p->chunked = p->te_other = false;
        p->conn_close = p->keep_alive = p->upgrade = false;
}

/*
 * The usual case, a whole head at the start of a message within one feed
 * and within the message's first allocation: its lines are found, and its
 * field lines parsed, in one pass over the feed; it is stored with one copy
 * and its strings put in place without a second walk. Anything unusual (an
 * obs-fold, a bad field line, a NUL, more field lines than are tracked or
 * kept, a field array that does not fit) drops to the line-by-line
 * parse of the stored head by http1_head_finalize(), which gives the
 * errors and the state of the general path. Returns the bytes consumed, or
 * 0 when the head does not end within min(avail, cap): then the
 * line-by-line path below takes it from the start, having lost at most one
 * scan of cap bytes.
 * Always inline into its one caller: measured 82 instructions per exchange
 * fewer than as a call (callgrind, 2 s wrk recording), more than the call
 * itself costs; gcc's code for this function moves with small changes, so
 * measure any change to it.
 */
static inline __attribute__((always_inline)) size_t head_whole(Http1Parser *p, const uint8_t *q, size_t avail) {
        Http1Message *m = p->cur;
        size_t lim = MIN(avail, m->cap), first, empty, o, n = 0, keep, at = 0;
        struct {
                uint32_t off;
                FieldLine f;
        } fl[HTTP1_LINES_TRACKED];
        bool simple = p->limits->fields_max > 0;
        const uint8_t *lf;
        const char *e;
        char *line;

        lf = memchr(q, '\n', lim);
        if (!lf)
                return 0;
        first = lf - q + 1;
        for (o = first;; o = lf - q + 1) {
                size_t len;

                empty = o;
                if (o < lim && q[o] == '\n') {
                        o += 1;
                        break;
                }
                if (o + 1 < lim && q[o] == '\r' && q[o + 1] == '\n') {
                        o += 2;
                        break;
                }
                lf = memchr(q + o, '\n', lim - o);
                if (!lf) {
                        framing_reset(p);
                        return 0;
                }
                if (n < HTTP1_LINES_TRACKED)
                        m->line_ends[n] = lf - q;
                if (simple) {
                        /* not empty: at least one byte before an LF or a CR LF */
                        len = lf - (q + o);
                        len -= q[o + len - 1] == '\r';
                        if (n >= HTTP1_LINES_TRACKED || n >= p->limits->fields_max || is_ows(q[o]) ||
                            field_line(p, (const char *) q + o, len, false, &fl[n].f))
                                simple = false;
                        else
                                fl[n].off = o;
                }
                n++;
        }
        if (simple && memchr(q + first, '\0', o - first))
                simple = false;
        if (simple && n > 0) {
                at = (o + alignof(HttpHeaderField) - 1) & ~(alignof(HttpHeaderField) - 1);
                if (at + n * sizeof(HttpHeaderField) > m->cap)
                        simple = false;
        }
        if (!simple)
                /* http1_head_finalize() applies the framing fields again, from the start */
                framing_reset(p);

        /* [0, o) is the head: start line, n field lines, the empty line */
        memcpy(m->buf, q, o);
        m->len = o;
        m->m.head_bytes += o;
        m->m.wire_bytes += o;

        line = m->buf;
        e = start_line(p, line, first - 1 - (first >= 2 && line[first - 2] == '\r'), true, true);
        if (e) {
                /* as the line-by-line path leaves it: the start line alone consumed, no field applied */
                framing_reset(p);
                m->len = first;
                m->m.head_bytes -= o - first;
                m->m.wire_bytes -= o - first;
                http1_fail(p, e, p->cur_offset, line, first - 1 - (first >= 2 && line[first - 2] == '\r'));
                return first;
        }
        p->start_done = true;
        p->maybe_tunnel = false;
        p->fields_off = first;
        m->n_lines = n;
        /* where the line-by-line path would be when it meets the empty line */
        p->line_off = empty;
        p->line_start_offset = p->offset + empty;
        if (!simple) {
                head_done(p);
                return o;
        }

        /* what http1_head_finalize() would have made of it */
        p->head_finalized = true;
        if (m->m.kind == HTTP_MESSAGE_REQUEST) {
                m->m.method = m->buf;
                m->m.target = m->buf + p->target_off;
        } else
                m->m.reason = m->buf + p->reason_off;
        keep = n;
        m->m.headers = keep > 0 ? (HttpHeaderField *) (m->buf + at) : NULL;
        m->m.n_headers = keep;
        for (size_t k = 0; k < keep; k++) {
                char *l = m->buf + fl[k].off;

                l[fl[k].f.name_len] = '\0';
                l[fl[k].f.value_off + fl[k].f.value_len] = '\0';
                m->m.headers[k] = (HttpHeaderField) {
                        .name = l,
                        .name_len = fl[k].f.name_len,
                        .value = l + fl[k].f.value_off,
                        .value_len = fl[k].f.value_len,
                };
        }
        head_dispatch(p);
        return o;
}

size_t http1_head_consume(Http1Parser *p, const uint8_t *q, size_t avail) {
        size_t i = 0;

        if (p->cur->len == 0 && !p->overflow && p->line_len == 0) {
                i = head_whole(p, q, avail);
                if (i > 0)
                        return i;
        }

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
