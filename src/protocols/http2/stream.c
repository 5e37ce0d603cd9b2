/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The streams of one HTTP/2 connection; see stream.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "protocols/http2/counters.h"
#include "protocols/http2/stream.h"

/* One message of a stream. */
typedef struct Http2Message {
        HttpMessage m;                /* its strings point into the lists and the copies below */
        Http2HeaderList *head;        /* the (final) header block */
        Http2HeaderList *trailers;
        char *method, *target, *authority;  /* NUL-terminated copies of the pseudo-headers */
        size_t charged;               /* bytes of those copies and of m.headers charged to Http2Streams.mem */
        size_t headers_charged;       /* of which m.headers */
        bool started, ended, has_head;
} Http2Message;

struct Http2Stream {
        Http2Stream *next;
        uint32_t id;
        bool pushed;
        Http2Message msg[2];          /* by Http2Side */
};

/* The lists release their own charge (hpack.h); the copies and the field array are the message's. */
static void message_done(Http2Streams *t, Http2Message *m) {
        http2_memory_release(t->mem, m->charged);
        http2_header_list_free(m->head);
        http2_header_list_free(m->trailers);
        free(m->m.headers);
        free(m->method);
        free(m->target);
        free(m->authority);
        *m = (Http2Message) {};
}

static Http2Stream *stream_free(Http2Streams *t, Http2Stream *s) {
        message_done(t, &s->msg[0]);
        message_done(t, &s->msg[1]);
        http2_memory_release(t->mem, sizeof(*s));
        return mfree(s);
}

void http2_streams_init(Http2Streams *t, const ConnInfo *conn, const ExchangeSink *sink, Stats *stats,
                        Http2Memory *mem, size_t max) {
        *t = (Http2Streams) {
                .max = max,
                .mem = mem,
                .conn = conn,
                .sink = sink,
                .stats = stats,
                .goaway_last = UINT32_MAX,
        };
}

void http2_streams_done(Http2Streams *t) {
        while (t->first) {
                Http2Stream *s = t->first;

                t->first = s->next;
                stream_free(t, s);
        }
        t->n = 0;
}

Http2Stream *http2_streams_get(Http2Streams *t, uint32_t id, bool create) {
        Http2Stream *s;

        if (id == 0)
                return NULL;
        for (s = t->first; s; s = s->next)
                if (s->id == id)
                        return s;
        if (!create)
                return NULL;
        if (t->n >= t->max) {
                http2_counters(t->stats)[HTTP2_COUNTER_STREAMS_OVERFLOWS]++;
                return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->id = id;
        s->msg[HTTP2_SIDE_REQUEST].m.kind = HTTP_MESSAGE_REQUEST;
        s->msg[HTTP2_SIDE_RESPONSE].m.kind = HTTP_MESSAGE_RESPONSE;
        s->next = t->first;
        t->first = s;
        t->n++;
        /* without asking (memory.h): bounded by streams_max, and the exchange is counted and logged */
        http2_memory_charge(t->mem, sizeof(*s));
        return s;
}

static void stream_unlink(Http2Streams *t, Http2Stream *s) {
        for (Http2Stream **p = &t->first; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        t->n--;
                        return;
                }
}

static int append_fields(HttpHeaderField *out, size_t *n, const Http2HeaderList *l) {
        for (size_t i = 0; l && i < l->n_fields; i++)
                out[(*n)++] = (HttpHeaderField) {
                        .name = l->fields[i].name,
                        .name_len = l->fields[i].name_len,
                        .value = l->fields[i].value,
                        .value_len = l->fields[i].value_len,
                };
        return 0;
}

/*
 * The message's field array: the head's fields, a Host field from
 * :authority when the head has none (so that HTTP_HOST, filters and
 * fields.request_headers see HTTP/2's Host), then the trailers' fields
 * (gRPC's grpc-status lives there).
 */
static int rebuild_fields(Http2Streams *t, Http2Message *m) {
        size_t n = 0, max = 1 + (m->head ? m->head->n_fields : 0) + (m->trailers ? m->trailers->n_fields : 0);
        HttpHeaderField *f;

        if (!http2_memory_reserve(t->mem, max * sizeof(*f))) {
                /* the head's fields stay (an earlier trailer block's, now freed, do not) */
                size_t head = (m->authority && !(m->head && http2_header_list_get(m->head, "host"))) +
                              (m->head ? m->head->n_fields : 0);

                m->m.n_headers = MIN(m->m.n_headers, head);
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED;
                return 0;
        }
        f = calloc(max, sizeof(*f));
        if (!f) {
                http2_memory_release(t->mem, max * sizeof(*f));
                return -ENOMEM;
        }
        if (m->authority && !(m->head && http2_header_list_get(m->head, "host")))
                f[n++] = (HttpHeaderField) {
                        .name = "host",
                        .name_len = 4,
                        .value = m->authority,
                        .value_len = strlen(m->authority),
                };
        append_fields(f, &n, m->head);
        append_fields(f, &n, m->trailers);
        free(m->m.headers);
        http2_memory_release(t->mem, m->headers_charged);
        m->charged = m->charged - m->headers_charged + max * sizeof(*f);
        m->headers_charged = max * sizeof(*f);
        m->m.headers = f;
        m->m.n_headers = n;
        return 0;
}

/* A copy of s (n bytes) charged to the message; refused, its first HTTP2_PSEUDO_CAPPED_MAX bytes. */
static char *message_strndup(Http2Streams *t, Http2Message *m, const char *s, size_t n) {
        char *c;

        if (!s)
                return NULL;
        if (!http2_memory_reserve(t->mem, n + 1)) {
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED;
                n = MIN(n, (size_t) HTTP2_PSEUDO_CAPPED_MAX);
                http2_memory_charge(t->mem, n + 1);
        }
        c = strndup(s, n);
        if (!c) {
                http2_memory_release(t->mem, n + 1);
                return NULL;
        }
        m->charged += n + 1;
        return c;
}

static char *pseudo_dup(Http2Streams *t, Http2Message *m, const Http2HeaderList *l, const Http2StaticPeek *peek,
                        Http2Pseudo p) {
        if (l)
                return message_strndup(t, m, l->pseudo[p], l->pseudo_len[p]);
        if (peek)
                return message_strndup(t, m, peek->pseudo[p], peek->pseudo_len[p]);
        return NULL;
}

static void account(Http2Message *m, const Http2FrameInfo *fi, bool head) {
        if (!m->started) {
                m->started = true;
                m->m.version = 20;
                m->m.first_ns = fi->first_ns;
                m->m.tid = fi->tid;
                /* begun by DATA: its HEADERS were lost (gap, joined after them) */
                if (!head)
                        m->m.flags |= HTTP_MESSAGE_HEADERS_INCOMPLETE;
        }
        m->m.last_ns = fi->last_ns;
        m->m.wire_bytes += fi->wire_bytes;
        m->m.gap_bytes += fi->gap_bytes;
        if (head)
                m->m.head_bytes += fi->wire_bytes;
        if (fi->gap_bytes > 0)
                m->m.flags |= HTTP_MESSAGE_GAP;
}

static int emit(Http2Streams *t, Http2Stream *s, ExchangeKind kind, ExchangeEndReason reason, bool reset,
                uint32_t error_code) {
        Http2Message *req = &s->msg[HTTP2_SIDE_REQUEST], *resp = &s->msg[HTTP2_SIDE_RESPONSE];
        Exchange x = {
                .kind = kind,
                .conn = t->conn,
                .stream_id = s->id,
                .request = kind != EXCHANGE_UNCORRELATED ? &req->m : NULL,
                .response = kind != EXCHANGE_NO_RESPONSE ? &resp->m : NULL,
                .reason = reason,
                .stream_reset = reset,
                .stream_error = error_code,
        };
        int r;

        for (int i = 0; i < 2; i++)
                if (s->pushed)
                        s->msg[i].m.flags |= HTTP_MESSAGE_PUSHED;

        switch (kind) {
        case EXCHANGE_COMPLETE:
                x.duration_ns = resp->m.last_ns > req->m.first_ns ? resp->m.last_ns - req->m.first_ns : 0;
                t->stats->exchanges_complete++;
                break;
        case EXCHANGE_NO_RESPONSE:
                t->stats->exchanges_no_response++;
                break;
        case EXCHANGE_UNCORRELATED:
                t->stats->exchanges_uncorrelated++;
                break;
        default:
                break;
        }
        r = exchange_sink_emit(t->sink, &x);
        stream_unlink(t, s);
        stream_free(t, s);
        return r;
}

/* Out with what is known; the stream is freed (also when nothing is known: nothing is emitted then). */
static int stream_end(Http2Streams *t, Http2Stream *s, ExchangeEndReason reason, bool reset, uint32_t code) {
        Http2Message *req = &s->msg[HTTP2_SIDE_REQUEST], *resp = &s->msg[HTTP2_SIDE_RESPONSE];

        if (resp->started && !resp->ended)
                resp->m.flags |= HTTP_MESSAGE_TRUNCATED;
        if (req->started && !req->ended)
                req->m.flags |= HTTP_MESSAGE_TRUNCATED;
        if (resp->started && req->started)
                return emit(t, s, EXCHANGE_COMPLETE, EXCHANGE_END_NONE, reset, code);
        if (resp->started)
                return emit(t, s, EXCHANGE_UNCORRELATED, EXCHANGE_END_NONE, reset, code);
        if (req->started)
                /* a client stream above a GOAWAY's last stream id: the server never took it */
                return emit(t, s, EXCHANGE_NO_RESPONSE,
                            !reset && (s->id & 1) && s->id > t->goaway_last ? EXCHANGE_END_GOAWAY : reason,
                            reset, code);
        stream_unlink(t, s);
        stream_free(t, s);
        return 0;
}

/* Both ends seen (or a response whose request was never seen): out. */
static int stream_maybe_done(Http2Streams *t, Http2Stream *s) {
        Http2Message *req = &s->msg[HTTP2_SIDE_REQUEST], *resp = &s->msg[HTTP2_SIDE_RESPONSE];

        if (!resp->ended || (req->started && !req->ended))
                return 0;
        return stream_end(t, s, EXCHANGE_END_NONE, false, 0);
}

int http2_stream_headers(Http2Streams *t, Http2Stream *s, Http2Side side, Http2HeaderList *list,
                         const Http2StaticPeek *peek, unsigned flags, const Http2FrameInfo *fi) {
        _cleanup_(http2_header_list_freep) Http2HeaderList *l = list;
        Http2Message *m = &s->msg[side];
        unsigned status = l ? l->status : peek ? peek->status : 0;
        int r;

        if (side == HTTP2_SIDE_RESPONSE && !m->has_head && status >= 100 && status < 200) {
                /* interim (100 Continue, 103 Early Hints): not the response */
                http2_counters(t->stats)[HTTP2_COUNTER_MESSAGES_INTERIM]++;
                return 0;
        }

        account(m, fi, !m->has_head);
        if (!m->has_head)
                m->m.flags &= ~HTTP_MESSAGE_HEADERS_INCOMPLETE;   /* the head is here after all */
        m->m.flags |= flags;
        if (l && (l->flags & HTTP2_HEADERS_FIELDS_DROPPED))
                m->m.flags |= HTTP_MESSAGE_HEAD_TRUNCATED;   /* fields past hpack's caps: decoded, not kept */
        if (l && (l->flags & HTTP2_HEADERS_MEMORY_CAPPED))
                m->m.flags |= HTTP_MESSAGE_MEMORY_CAPPED;

        if (!m->has_head) {
                /* the message's head */
                m->has_head = true;
                m->m.version = 20;
                if (side == HTTP2_SIDE_REQUEST) {
                        m->method = pseudo_dup(t, m, l, peek, HTTP2_PSEUDO_METHOD);
                        m->authority = pseudo_dup(t, m, l, peek, HTTP2_PSEUDO_AUTHORITY);
                        /* CONNECT has no :path: its target is the authority (RFC 9113 §8.5) */
                        m->target = pseudo_dup(t, m, l, peek, HTTP2_PSEUDO_PATH) ?:
                                    (m->authority ? message_strndup(t, m, m->authority, strlen(m->authority)) : NULL);
                        m->m.method = m->method;
                        m->m.target = m->target;
                } else
                        m->m.status = status;
                m->head = TAKE_PTR(l);
                if (side == HTTP2_SIDE_REQUEST)
                        t->stats->messages_requests++;
                else
                        t->stats->messages_responses++;
        } else if (l) {
                /* trailers (a second trailer block would be a protocol error: the last one wins) */
                http2_header_list_free(m->trailers);
                m->trailers = TAKE_PTR(l);
        }
        r = rebuild_fields(t, m);
        if (r < 0)
                return r;

        if (fi->end_stream) {
                m->ended = true;
                return stream_maybe_done(t, s);
        }
        return 0;
}

int http2_stream_data(Http2Streams *t, Http2Stream *s, Http2Side side, uint64_t data_bytes,
                      const Http2FrameInfo *fi) {
        Http2Message *m = &s->msg[side];

        account(m, fi, false);
        m->m.body_bytes += data_bytes;
        if (fi->end_stream) {
                m->ended = true;
                return stream_maybe_done(t, s);
        }
        return 0;
}

int http2_stream_seed_request(Http2Streams *t, Http2Stream *s, const HttpMessage *req) {
        Http2Message *m = &s->msg[HTTP2_SIDE_REQUEST];
        const HttpHeaderField *host = http_message_header(req, "Host");

        m->method = req->method ? message_strndup(t, m, req->method, strlen(req->method)) : NULL;
        m->target = req->target ? message_strndup(t, m, req->target, strlen(req->target)) : NULL;
        m->authority = host ? message_strndup(t, m, host->value, host->value_len) : NULL;
        if ((req->method && !m->method) || (req->target && !m->target) || (host && !m->authority))
                return -ENOMEM;
        m->m.method = m->method;
        m->m.target = m->target;
        m->m.version = 20;
        m->m.head_bytes = req->head_bytes;
        m->m.body_bytes = req->body_bytes;
        m->m.wire_bytes = req->wire_bytes;
        m->m.gap_bytes = req->gap_bytes;
        m->m.first_ns = req->first_ns;
        m->m.last_ns = req->last_ns;
        m->m.tid = req->tid;
        m->m.flags |= (req->flags & (HTTP_MESSAGE_GAP | HTTP_MESSAGE_TRUNCATED)) | HTTP_MESSAGE_UPGRADE;
        m->started = m->ended = m->has_head = true;
        t->stats->messages_requests++;
        return rebuild_fields(t, m);
}

void http2_stream_set_pushed(Http2Stream *s) {
        s->pushed = true;
}

int http2_stream_reset(Http2Streams *t, Http2Stream *s, uint32_t error_code, uint64_t ts_ns) {
        Http2Message *resp = &s->msg[HTTP2_SIDE_RESPONSE];

        http2_counters(t->stats)[HTTP2_COUNTER_STREAMS_RESET]++;
        /* a response that had ended was whole: the reset only cut the request (an early answer) */
        if (resp->started && !resp->ended && ts_ns > resp->m.last_ns)
                resp->m.last_ns = ts_ns;
        return stream_end(t, s, EXCHANGE_END_RESET, true, error_code);
}

int http2_streams_goaway(Http2Streams *t, uint32_t last_stream_id) {
        int r = 0;

        t->goaway_last = MIN(t->goaway_last, last_stream_id);
        for (Http2Stream *s = t->first, *next; s; s = next) {
                next = s->next;
                /* client-initiated (odd) streams the server says it never processed */
                if ((s->id & 1) && s->id > last_stream_id && !s->msg[HTTP2_SIDE_RESPONSE].started) {
                        int k = stream_end(t, s, EXCHANGE_END_GOAWAY, false, 0);
                        if (k < 0 && r >= 0)
                                r = k;
                }
        }
        return r;
}

static uint32_t lowest_id(const Http2Streams *t) {
        uint32_t id = UINT32_MAX;

        for (const Http2Stream *s = t->first; s; s = s->next)
                id = MIN(id, s->id);
        return id;
}

int http2_streams_finish(Http2Streams *t, ExchangeEndReason reason) {
        int r = 0;

        /* in stream order: entries of one connection come out as they were opened */
        while (t->first) {
                uint32_t id = lowest_id(t);
                int k = stream_end(t, http2_streams_get(t, id, false), reason, false, 0);

                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}
