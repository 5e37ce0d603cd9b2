/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental HTTP/1.x parser for one direction (RFC 9112). See
 * parser.h for the contract and the sync rules. This file is the
 * per-direction state machine: memory accounting, the life of a message,
 * losing and finding sync, gaps and the public entry points. The head is
 * parsed in parser-head.c, body framing in parser-body.c. The hot paths
 * (head accumulation, bodies) work on runs of bytes found with memchr; only
 * the few bytes of chunk-size lines and CRLFs are looked at one by one.
 */

#include <stddef.h>
#include <string.h>

#include "basic/macro.h"
#include "protocols/http1/parser-internal.h"

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

static const Http1ParserCallbacks no_callbacks = {};

/* Placeholder for strings of a start line that could not be stored (memory or head cap). */
static char empty_string[1];

/* ---- memory accounting ---- */

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
        /* A block never grown or cut (cap as message_begin() made it) is kept for the next message. */
        if (m->cap == HTTP1_HEAD_INITIAL && m->mem &&
            mem_budget_spare_put(m->mem->budget, m, HTTP1_ALLOC_INITIAL))
                return NULL;
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

Http1Message *http1_message_new_request(Http1Memory *mem, const char *method, size_t method_len,
                                        const char *target, size_t target_len, uint64_t ts_ns) {
        size_t want = method_len + target_len + 2;      /* both NUL-terminated */
        bool capped = !http1_memory_reserve(mem, want);
        Http1Message *m;

        if (capped)
                want = 0;
        m = malloc(sizeof(Http1Message) + want);
        if (!m) {
                http1_memory_release(mem, want);
                return NULL;
        }
        memset(m, 0, offsetof(Http1Message, line_ends));
        http1_memory_charge(mem, sizeof(Http1Message));
        m->mem = mem;
        m->reserved = sizeof(Http1Message) + want;
        m->cap = m->len = want;
        m->m.kind = HTTP_MESSAGE_REQUEST;
        m->m.method = m->m.target = m->m.reason = empty_string;
        m->m.first_ns = m->m.last_ns = ts_ns;
        m->method_id = http1_method_from_string(method, method_len);
        if (capped) {
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED;
                return m;
        }
        m->m.method = memcpy(m->buf, method, method_len);
        m->buf[method_len] = '\0';
        m->m.target = memcpy(m->buf + method_len + 1, target, target_len);
        m->m.target[target_len] = '\0';
        return m;
}

Http1Method http1_method_from_string(const char *s, size_t len) {
        if (len == 4 && memcmp(s, "HEAD", 4) == 0)
                return HTTP1_METHOD_HEAD;
        if (len == 7 && memcmp(s, "CONNECT", 7) == 0)
                return HTTP1_METHOD_CONNECT;
        return HTTP1_METHOD_OTHER;
}

/* ---- callbacks (remember(): parser-internal.h) ---- */

static void emit_message(Http1Parser *p, Http1Message *m) {
        if (p->cb->message)
                remember(p, p->cb->message(p, m, p->userdata));
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
        if (p->scratch_cap > 0)
                free(p->scratch);
        p->scratch = NULL;
        p->scratch_cap = 0;
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

/* What message_begin() starts a message from: all zero but these. */
static const Http1Message message_template = {
        .m.method = empty_string,
        .m.target = empty_string,
        .m.reason = empty_string,
        .m.version = 11,
};

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

        m = want == HTTP1_HEAD_INITIAL && p->mem ? mem_budget_spare_take(p->mem->budget, HTTP1_ALLOC_INITIAL) : NULL;
        if (!m)
                m = malloc(sizeof(Http1Message) + want);
        if (!m) {
                http1_memory_release(p->mem, want);
                return -ENOMEM;
        }
        /*
         * line_ends[] is written before it is read (n_lines says how far).
         * Copied from a template rather than memset() and set: gcc makes that
         * memset a rep stos, a store per word; this copy is a few vector moves.
         */
        memcpy(m, &message_template, offsetof(Http1Message, line_ends));
        http1_memory_charge(p->mem, sizeof(Http1Message));
        m->mem = p->mem;
        m->reserved = sizeof(Http1Message) + want;
        m->cap = want;
        m->m.kind = p->kind == HTTP1_KIND_RESPONSE ? HTTP_MESSAGE_RESPONSE : HTTP_MESSAGE_REQUEST;
        m->m.first_ns = m->m.last_ns = p->ts;
        m->m.tid = p->tid;

        /*
         * No message_reset(p) here: every way into STATE_START leaves it done
         * (http1_parser_new()'s zeroed struct, http1_message_complete(),
         * lose_sync()), and nothing in STATE_START or STATE_DESYNC changes
         * what it resets.
         */
        p->cur = m;
        p->cur_offset = p->line_start_offset = p->offset;
        p->state = STATE_HEAD;
        if (capped) {
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED;
                http1_scratch_begin(p);
                p->overflow = true;
        }
        return 0;
}

/*
 * Hands the message over. now: its last byte is in the current feed or gap;
 * otherwise (given up, or ended by the end of the stream) last_ns stays the
 * time of the last byte we did see.
 */
void http1_message_complete(Http1Parser *p, Http1State next, unsigned flags, bool now) {
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

/*
 * Gives up the message in progress: reported truncated if its start line
 * was seen, or enough of it (http1_start_line_salvage()), dropped otherwise.
 */
static void message_abandon(Http1Parser *p, unsigned flags) {
        Http1Message *m = p->cur;

        if (!m)
                return;
        if (!p->start_done && !http1_start_line_salvage(p)) {
                p->cur = http1_message_free(p->cur);
                message_reset(p);
                return;
        }
        if (p->state == STATE_HEAD) {
                flags |= HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT;
                if (!p->head_finalized)
                        /* keep the complete field lines we have; stop quietly at a bad one */
                        http1_head_finalize(p, p->overflow ? p->cur->len : p->line_off, NULL, NULL);
        }
        http1_message_complete(p, p->state, HTTP_MESSAGE_TRUNCATED | flags, false);
}

static void lose_sync(Http1Parser *p, unsigned flags, bool count) {
        message_abandon(p, flags);
        message_reset(p);
        p->state = STATE_DESYNC;
        p->maybe_tunnel = false;
        if (count && p->stats)
                http1_counters(p->stats)[HTTP1_COUNTER_DESYNCS]++;
        if (p->cb->desync)
                remember(p, p->cb->desync(p, p->userdata));
}

void http1_fail(Http1Parser *p, const char *error, uint64_t offset, const void *excerpt, size_t excerpt_len) {
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
        if (p->cb->error) {
                Http1Error e = {
                        .error = error,
                        .offset = offset,
                        .excerpt = excerpt,
                        .excerpt_len = MIN(excerpt_len, (size_t) HTTP1_EXCERPT_MAX),
                        .timestamp_ns = p->ts,
                };
                remember(p, p->cb->error(p, &e, p->userdata));
        }
        if (!p->start_done) {
                /* the start line itself is bad: the error says all there is to say (after it: the excerpt may point into cur) */
                p->cur = http1_message_free(p->cur);
                message_reset(p);
        }
        lose_sync(p, 0, false);
}

/* ---- public ---- */

_Static_assert(sizeof(Http1Parser) <= HTTP1_PARSER_SIZE, "HTTP1_PARSER_SIZE is what a parser is counted as");

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
        p->cb = cb ?: &no_callbacks;
        p->userdata = userdata;
        *ret = p;
        return 0;
}

Http1Parser *http1_parser_free(Http1Parser *p) {
        if (!p)
                return NULL;
        http1_message_free(p->cur);
        if (p->scratch_cap > 0)
                free(p->scratch);
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
                                http1_fail(p, p->kind != HTTP1_KIND_RESPONSE ? "invalid request line" :
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
                        k = http1_head_consume(p, q, avail);
                        break;
                case STATE_BODY:
                case STATE_CHUNK_DATA:
                        k = MIN((uint64_t) avail, p->remaining);
                        p->remaining -= k;
                        p->cur->m.body_bytes += k;
                        p->cur->m.wire_bytes += k;
                        if (p->remaining == 0) {
                                if (p->state == STATE_BODY)
                                        http1_message_complete(p, STATE_START, 0, true);
                                else
                                        p->state = STATE_CHUNK_CR;
                        }
                        break;
                case STATE_CHUNK_SIZE:
                        k = http1_chunk_size_consume(p, q, avail);
                        break;
                case STATE_CHUNK_EXT:
                        k = http1_chunk_ext_consume(p, q, avail);
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
                                        http1_chunk_size_done(p);
                                else
                                        p->state = STATE_CHUNK_SIZE;
                        } else
                                http1_fail(p, p->state == STATE_CHUNK_SIZE_LF ? "invalid chunk size" :
                                              "missing CRLF after chunk data", p->offset, q, avail);
                        break;
                case STATE_TRAILER:
                        k = http1_trailer_consume(p, q, avail);
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
                                http1_message_complete(p, STATE_START, 0, true);
                        lose_sync(p, HTTP_MESSAGE_GAP, true);
                } else if (p->remaining == 0) {
                        if (p->state == STATE_BODY)
                                http1_message_complete(p, STATE_START, 0, true);
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
                http1_message_complete(p, STATE_STOPPED, HTTP_MESSAGE_CLOSE_DELIMITED, false);
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
