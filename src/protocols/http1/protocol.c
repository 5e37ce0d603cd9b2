/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1.x on one connection: two parsers (one per direction) and the
 * correlation of requests with responses, as a ProtocolOps.
 *
 * Correlation rules:
 *  - Completed requests wait in a FIFO: at most h1->pipeline_max of them
 *    whole. Past that, requests are only counted (pipeline_overflows): each
 *    joins a run at the FIFO's tail that keeps its place, its method class
 *    and its time, not its head (HTTP_MESSAGE_PIPELINE_OVERFLOW), so every
 *    response still pairs with its own request. Once a run exists, new
 *    requests join runs until the runs have drained, which keeps runs a
 *    suffix of the FIFO. A run holds requests of one method class (a HEAD
 *    response has no body); after pipeline_max runs, requests join the last
 *    run whatever their method (then HEAD is no longer told apart: a
 *    hostile peer's case). Memory: one message struct per run.
 *  - A final response (status >= 200, or 101) pairs with the oldest waiting
 *    request. If none waits but a request's head is complete and its body
 *    still arriving (early 413/417/401 responses), the response is held
 *    and the exchange goes out when that request ends (or is given up), so
 *    that the request's body size is exact. Otherwise the response is
 *    EXCHANGE_UNCORRELATED. Interim 1xx responses are only counted.
 *  - The request a response will pair with tells the response parser about
 *    HEAD (no body) and CONNECT (2xx: tunnel) through the ->head hook.
 *  - 101 or CONNECT 2xx: both directions stop parsing; requests still
 *    waiting become EXCHANGE_NO_RESPONSE/UPGRADE.
 *  - When the response direction loses sync, the waiting requests become
 *    EXCHANGE_NO_RESPONSE/DESYNC: we cannot know how many responses went by
 *    in the lost bytes, and pairing later responses with them would be
 *    guessing. The truncated response in progress (if its status line was
 *    seen) still pairs first.
 *  - A request the parser rejects (parse error on the request direction)
 *    was still seen, and the server usually answers it (400, 505): it keeps
 *    its place in the FIFO, so that answer pairs with it and what follows
 *    stays in order. If its start line was parsed, the parser reports it
 *    truncated; if the start line itself was bad, a stand-in takes its
 *    place, with the method and target prefix of the error's excerpt when
 *    they are sane bytes (else empty). Either way it is flagged
 *    HTTP_MESSAGE_REQUEST_INVALID and counted (requests_invalid); the
 *    parse-error entry stays the record of the bytes. It counts against
 *    pipeline_max like any request, and one that gets no response ends as
 *    EXCHANGE_NO_RESPONSE like any other.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "protocols/http1/parser.h"
#include "protocols/http1/protocol.h"
#include "protocols/http2/protocol.h"

typedef struct Http1Conn {
        const ConnInfo *conn;
        const ExchangeSink *sink;
        Stats *stats;
        const Limits *limits;
        const Http1Limits *h1;          /* HTTP/1's own caps */
        Http1Memory mem;
        Http1Parser *parser[2];         /* by ConnDirection */
        int request_dir;                /* ConnDirection carrying requests, -1 until known */

        Http1Message *queue_head;       /* completed requests waiting for their responses */
        Http1Message *queue_tail;
        size_t n_queued;                /* whole requests in the queue (<= pipeline_max) */
        size_t n_runs;                  /* runs of counted requests at its tail */

        Http1Message *early;            /* final response whose request's body is still arriving */
        Http1Message *rejected;         /* stand-in for a request being rejected: from ->error until ->desync */
        uint64_t now;                   /* timestamp of the call being handled */
        bool in_loss;                   /* a kernel loss with counted message starts is being applied */

        /*
         * h2c by Upgrade: after the 101, both directions are HTTP/2, parsed
         * by h2 (protocols/http2/), which gets stream 1's request from us.
         * wire_end[d] is where the messages parsed in direction d end (their
         * wire bytes, gaps included, from the connection's start), so the
         * first HTTP/2 byte of each direction is known exactly.
         */
        ProtocolContext ctx;            /* ours, for HTTP/2's handler (protocol_limits: NULL) */
        void *h2;
        uint64_t wire_end[2];
        uint64_t h2_from[2];            /* stream offset of each direction's first HTTP/2 byte */
} Http1Conn;

/* A queue entry standing for requests whose starts the kernel lost (1 + run of them). */
static bool is_lost(const Http1Message *m) {
        return m && (m->m.flags & HTTP_MESSAGE_START_LOST);
}

static Stats dummy_stats;

static int direction_of(const Http1Conn *c, const Http1Parser *p) {
        return p == c->parser[CONN_DIR_EGRESS] ? CONN_DIR_EGRESS : CONN_DIR_INGRESS;
}

static int emit(Http1Conn *c, ExchangeKind kind, const Http1Message *req, const Http1Message *resp,
                ExchangeEndReason reason) {
        Exchange x = {
                .kind = kind,
                .conn = c->conn,
                .request = req ? &req->m : NULL,
                .response = resp ? &resp->m : NULL,
                .reason = reason,
        };

        switch (kind) {
        case EXCHANGE_COMPLETE:
                x.duration_ns = resp->m.last_ns > req->m.first_ns ? resp->m.last_ns - req->m.first_ns : 0;
                c->stats->exchanges_complete++;
                break;
        case EXCHANGE_NO_RESPONSE:
                c->stats->exchanges_no_response++;
                break;
        case EXCHANGE_UNCORRELATED:
                c->stats->exchanges_uncorrelated++;
                break;
        default:
                break;
        }
        return exchange_sink_emit(c->sink, &x);
}

/* The oldest request waiting: the next final response pairs with it. A run stands for its oldest member. */
static Http1Message *queue_peek(Http1Conn *c) {
        return c->queue_head;
}

/* The oldest request waiting has been answered or given up. */
static void queue_consume(Http1Conn *c) {
        Http1Message *m = c->queue_head;

        if (!m)
                return;
        if (m->run > 0) {
                /* the run's next member; only the first member's start time was kept exactly */
                m->run--;
                m->m.first_ns = m->run_first_ns;
                return;
        }
        c->queue_head = m->next;
        if (!c->queue_head)
                c->queue_tail = NULL;
        if (is_lost(m))
                ;
        else if (m->m.flags & HTTP_MESSAGE_PIPELINE_OVERFLOW)
                c->n_runs--;
        else
                c->n_queued--;
        http1_message_free(m);
}

static int queue_flush(Http1Conn *c, ExchangeEndReason reason) {
        int r = 0;

        for (Http1Message *m; (m = queue_peek(c)); queue_consume(c)) {
                int k;

                if (is_lost(m)) {
                        /* neither its request nor a response was seen: counted, nothing to log */
                        c->stats->exchanges_lost++;
                        continue;
                }
                k = emit(c, EXCHANGE_NO_RESPONSE, m, NULL, reason);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

static void queue_append(Http1Conn *c, Http1Message *m) {
        m->next = NULL;
        m->run = 0;
        if (c->queue_tail)
                c->queue_tail->next = m;
        else
                c->queue_head = m;
        c->queue_tail = m;
}

static int queue_push(Http1Conn *c, Http1Message *m) {
        size_t max = MAX(c->h1->pipeline_max, (size_t) 1);
        Http1Message *t = c->queue_tail;

        if (c->n_runs == 0 && c->n_queued < max) {
                queue_append(c, m);
                c->n_queued++;
                return 0;
        }

        /* past the cap: counted, paired, not kept */
        http1_counters(c->stats)[HTTP1_COUNTER_PIPELINE_OVERFLOWS]++;
        if (c->n_runs > 0 && !is_lost(t) && (t->method_id == m->method_id || c->n_runs >= max)) {
                if (t->method_id != m->method_id)
                        t->method_id = HTTP1_METHOD_OTHER;
                t->run++;
                t->run_first_ns = m->m.first_ns;
                t->m.last_ns = m->m.last_ns;
                http1_message_free(m);
                return 0;
        }
        queue_append(c, http1_message_drop_head(m));
        c->n_runs++;
        return 0;
}

static int on_kind(Http1Parser *p, Http1Kind kind, void *userdata) {
        Http1Conn *c = ASSERT_PTR(userdata);
        int d = direction_of(c, p);

        /* CONN_ROLE_UNKNOWN: the first start line seen decides both directions */
        if (c->request_dir < 0) {
                c->request_dir = kind == HTTP1_KIND_REQUEST ? d : !d;
                http1_parser_set_kind(c->parser[!d],
                                      kind == HTTP1_KIND_REQUEST ? HTTP1_KIND_RESPONSE : HTTP1_KIND_REQUEST);
        }
        return 0;
}

/* The request the next final response in direction d will pair with, if known. */
static const Http1Message *next_request(Http1Conn *c, int d) {
        if (queue_peek(c))
                return queue_peek(c);
        return http1_parser_body_message(c->parser[!d]);
}

static int on_head(Http1Parser *p, Http1Message *m, void *userdata) {
        Http1Conn *c = ASSERT_PTR(userdata);
        const Http1Message *req;

        if (m->m.kind != HTTP_MESSAGE_RESPONSE || m->m.status < 200)
                return HTTP1_BODY_DEFAULT;

        req = next_request(c, direction_of(c, p));
        if (!req || req->m.kind != HTTP_MESSAGE_REQUEST)
                return HTTP1_BODY_DEFAULT;
        if (req->method_id == HTTP1_METHOD_HEAD)
                return HTTP1_BODY_NONE;
        if (req->method_id == HTTP1_METHOD_CONNECT && m->m.status < 300)
                return HTTP1_BODY_TUNNEL;
        return HTTP1_BODY_DEFAULT;
}

static int on_request(Http1Conn *c, Http1Message *m) {
        int r;

        c->stats->messages_requests++;
        if (c->early) {
                /* the response came while this request's body was still arriving */
                _cleanup_(http1_message_freep) Http1Message *resp = TAKE_PTR(c->early);

                r = emit(c, EXCHANGE_COMPLETE, m, resp, EXCHANGE_END_NONE);
                http1_message_free(m);
                return r;
        }
        return queue_push(c, m);
}

/* Upgrade: h2c asked and granted (RFC 7540 §3.2): the connection goes on in HTTP/2. */
static bool is_h2c_upgrade(const Http1Message *req, const Http1Message *resp) {
        const HttpHeaderField *a = req ? http_message_header(&req->m, "Upgrade") : NULL;
        const HttpHeaderField *b = http_message_header(&resp->m, "Upgrade");

        return resp->m.status == 101 && a && b && b->value_len == 3 && strncasecmp(b->value, "h2c", 3) == 0;
}

/* Hands stream 1 (req) to a new HTTP/2 handler; the 101 itself is no entry. */
static int switch_to_h2(Http1Conn *c, int d, Http1Message *req) {
        int r;

        if (c->h2)
                return 0;
        r = protocol_http2_new_upgraded(&c->ctx, &req->m, &c->h2);
        if (r < 0)
                return r;
        c->h2_from[d] = c->wire_end[d];
        c->h2_from[!d] = c->wire_end[!d];
        return 0;
}

static int on_response(Http1Conn *c, int d, Http1Message *m) {
        bool upgrade = m->m.flags & HTTP_MESSAGE_UPGRADE;
        Http1Message *req;
        int r = 0, k;

        if (m->m.status < 200 && m->m.status != 101) {
                http1_counters(c->stats)[HTTP1_COUNTER_MESSAGES_INTERIM]++;
                http1_message_free(m);
                return 0;
        }

        c->stats->messages_responses++;
        req = queue_peek(c);
        if (is_lost(req)) {
                /* its request was lost in the kernel: logged as uncorrelated, flagged */
                m->m.flags |= HTTP_MESSAGE_LOST;
                r = emit(c, EXCHANGE_UNCORRELATED, NULL, m, EXCHANGE_END_NONE);
                queue_consume(c);
                http1_message_free(m);
        } else if (req && upgrade && is_h2c_upgrade(req, m) && !(req->m.flags & HTTP_MESSAGE_PIPELINE_OVERFLOW) &&
                   switch_to_h2(c, d, req) >= 0) {
                /* the exchange is stream 1's: it goes out when HTTP/2's response to it ends */
                queue_consume(c);
                http1_message_free(m);
        } else if (req) {
                r = emit(c, EXCHANGE_COMPLETE, req, m, EXCHANGE_END_NONE);
                queue_consume(c);
                http1_message_free(m);
        } else if (!c->early && http1_parser_body_message(c->parser[!d]))
                c->early = m;
        else {
                r = emit(c, EXCHANGE_UNCORRELATED, NULL, m, EXCHANGE_END_NONE);
                http1_message_free(m);
        }

        if (upgrade) {
                /* the other direction is no longer HTTP either; a request cut by the switch is reported */
                k = http1_parser_stop(c->parser[!d], c->now);
                if (k < 0 && r >= 0)
                        r = k;
                k = queue_flush(c, EXCHANGE_END_UPGRADE);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

static int on_message(Http1Parser *p, Http1Message *m, void *userdata) {
        Http1Conn *c = ASSERT_PTR(userdata);

        c->wire_end[direction_of(c, p)] += m->m.wire_bytes;

        if (m->m.kind == HTTP_MESSAGE_REQUEST) {
                if (c->rejected) {
                        /* the request the error was in, reported cut: it is its own stand-in */
                        m->m.flags |= HTTP_MESSAGE_REQUEST_INVALID;
                        c->rejected = http1_message_free(c->rejected);
                }
                return on_request(c, m);
        }
        return on_response(c, direction_of(c, p), m);
}

static bool is_tchar(uint8_t b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                (b && strchr("!#$%&'*+-.^_`|~", b));
}

/*
 * A stand-in for the request whose start line the parser rejects, from the
 * error's excerpt (the line's first bytes): a method (a token followed by
 * SP) and the visible ASCII that follows it up to SP, CR, LF or any other
 * byte, else both empty. Kept until the parser says whether it reports the
 * request itself (->message) before losing sync (->desync).
 */
static int rejected_new(Http1Conn *c, const Http1Error *e) {
        const uint8_t *s = e->excerpt;
        size_t n = s ? e->excerpt_len : 0, ml = 0, t, tl = 0;
        Http1Message *m;

        while (ml < n && is_tchar(s[ml]))
                ml++;
        if (ml == 0 || ml == n || s[ml] != ' ')
                ml = 0;
        else
                for (t = ml + 1; t + tl < n && s[t + tl] > ' ' && s[t + tl] < 0x7f; tl++)
                        ;
        m = http1_message_new_request(&c->mem, (const char *) s, ml, (const char *) s + ml + 1, tl,
                                      e->timestamp_ns);
        if (!m)
                return -ENOMEM;
        if (m->m.flags & HTTP_MESSAGE_MEMORY_CAPPED)
                c->stats->memory_refused += ml + tl + 2;
        m->m.flags |= HTTP_MESSAGE_REQUEST_INVALID | HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_CUT;
        http1_message_free(c->rejected);
        c->rejected = m;
        return 0;
}

static int on_error(Http1Parser *p, const Http1Error *e, void *userdata) {
        Http1Conn *c = ASSERT_PTR(userdata);
        int d = direction_of(c, p), r, k = 0;
        Exchange x = {
                .kind = EXCHANGE_PARSE_ERROR,
                .conn = c->conn,
                .error_direction = direction_of(c, p),
                .error = e->error,
                .error_offset = e->offset,
                .excerpt = e->excerpt,
                .excerpt_len = e->excerpt_len,
                .timestamp_ns = e->timestamp_ns,
        };

        c->stats->parse_errors++;
        r = exchange_sink_emit(c->sink, &x);
        if (d == c->request_dir) {
                http1_counters(c->stats)[HTTP1_COUNTER_REQUESTS_INVALID]++;
                k = rejected_new(c, e);
        }
        return r < 0 ? r : k;
}

static int on_desync(Http1Parser *p, void *userdata) {
        Http1Conn *c = ASSERT_PTR(userdata);
        int d = direction_of(c, p);

        if (d == c->request_dir && c->rejected)
                /* the parser did not report the rejected request: its stand-in takes its place */
                return on_request(c, TAKE_PTR(c->rejected));
        /* within a loss whose message starts the kernel counted, http1_loss() pairs exactly instead */
        if (c->request_dir >= 0 && d != c->request_dir && !c->in_loss)
                return queue_flush(c, EXCHANGE_END_DESYNC);
        return 0;
}

static const Http1ParserCallbacks http1_callbacks = {
        .kind = on_kind,
        .head = on_head,
        .message = on_message,
        .error = on_error,
        .desync = on_desync,
};

static void *http1_free(void *p) {
        Http1Conn *c = p;

        if (!c)
                return NULL;
        while (c->queue_head) {
                Http1Message *m = c->queue_head;

                c->queue_head = m->next;
                http1_message_free(m);
        }
        http1_message_free(c->early);
        http1_message_free(c->rejected);
        protocol_http2_ops.free(c->h2);
        http1_parser_free(c->parser[0]);
        http1_parser_free(c->parser[1]);
        return mfree(c);
}

static int http1_new(const ProtocolContext *ctx, void **ret) {
        Http1Conn *c;
        bool synced;
        int r;

        if (!ctx || !ctx->conn || !ctx->limits || !ret)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->conn = ctx->conn;
        c->sink = ctx->sink;
        c->stats = ctx->stats ?: &dummy_stats;
        c->limits = ctx->limits;
        c->h1 = ctx->protocol_limits ?: &http1_limits_default;
        c->ctx = *ctx;
        c->ctx.protocol_limits = NULL;
        c->mem = (Http1Memory) {
                .max = ctx->limits->conn_memory_max,
                .budget = ctx->budget,
        };

        switch (ctx->conn->role) {
        case CONN_ROLE_SERVER:
                c->request_dir = CONN_DIR_INGRESS;
                break;
        case CONN_ROLE_CLIENT:
                c->request_dir = CONN_DIR_EGRESS;
                break;
        default:
                c->request_dir = -1;
                break;
        }

        for (int d = 0; d < 2; d++) {
                Http1Kind kind = c->request_dir < 0 ? HTTP1_KIND_ANY :
                        d == c->request_dir ? HTTP1_KIND_REQUEST : HTTP1_KIND_RESPONSE;

                /* Joined mid-stream: wait for a segment start that looks like a message, unless the
                 * source says this direction's first bytes begin one (those that classified it). */
                synced = (ctx->conn->flags & CONN_SEEN_START) ||
                         (ctx->conn->flags & (d == CONN_DIR_INGRESS ? CONN_SYNC_INGRESS : CONN_SYNC_EGRESS));

                r = http1_parser_new(kind, c->h1, &c->mem, c->stats, &http1_callbacks, c, synced,
                                     &c->parser[d]);
                if (r < 0) {
                        http1_free(c);
                        return r;
                }
        }

        *ret = c;
        return 0;
}

static int http1_data(void *p, uint8_t direction, const uint8_t *buf, size_t n, uint64_t ts_ns,
                      uint32_t tid, bool segment_start) {
        Http1Conn *c = ASSERT_PTR(p);
        uint64_t off0;
        int r, k;

        if (direction > CONN_DIR_EGRESS)
                return -EINVAL;
        c->now = ts_ns;
        if (c->h2)
                return protocol_http2_ops.data(c->h2, direction, buf, n, ts_ns, tid, segment_start);

        off0 = http1_parser_offset(c->parser[direction]);
        r = http1_parser_feed(c->parser[direction], buf, n, ts_ns, tid, segment_start);
        if (c->h2 && c->h2_from[direction] >= off0 && c->h2_from[direction] < off0 + n) {
                /* the switch happened in this feed: what follows the 101 (or the request) is HTTP/2 */
                size_t skip = (size_t) (c->h2_from[direction] - off0);

                k = protocol_http2_ops.data(c->h2, direction, buf + skip, n - skip, ts_ns, tid, false);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

static int http1_gap(void *p, uint8_t direction, uint64_t n, uint64_t ts_ns) {
        Http1Conn *c = ASSERT_PTR(p);

        if (direction > CONN_DIR_EGRESS)
                return -EINVAL;
        c->now = ts_ns;
        if (c->h2)
                return protocol_http2_ops.gap(c->h2, direction, n, ts_ns);
        return http1_parser_gap(c->parser[direction], n, ts_ns);
}

/* n requests whose starts the kernel lost: one queue entry at the tail stands for them. */
static int lost_requests(Http1Conn *c, uint64_t n) {
        Http1Message *m;

        if (n == 0)
                return 0;
        if (is_lost(c->queue_tail)) {
                c->queue_tail->run += n;
                return 0;
        }
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->m.kind = HTTP_MESSAGE_REQUEST;
        m->m.flags = HTTP_MESSAGE_START_LOST | HTTP_MESSAGE_LOST;
        m->m.first_ns = m->m.last_ns = c->now;
        m->method_id = HTTP1_METHOD_OTHER;
        queue_append(c, m);
        m->run = n - 1;
        m->run_first_ns = c->now;
        return 0;
}

/* n responses whose starts the kernel lost: the oldest waiting requests had theirs in them. */
static int lost_responses(Http1Conn *c, uint64_t n) {
        int r = 0;

        for (; n > 0; n--) {
                Http1Message *m = queue_peek(c);
                int k;

                if (!m || is_lost(m)) {
                        /* both lost (or a request never seen): counted, no entry */
                        c->stats->exchanges_lost++;
                        queue_consume(c);
                        continue;
                }
                m->m.flags |= HTTP_MESSAGE_LOST;
                k = emit(c, EXCHANGE_NO_RESPONSE, m, NULL, EXCHANGE_END_LOST);
                if (k < 0 && r >= 0)
                        r = k;
                queue_consume(c);
        }
        return r;
}

/*
 * Records lost in the kernel before the one being handled. The request
 * direction first: a response is never lost before its own request was
 * sent, so the lost requests are queued before the lost responses consume
 * the oldest ones. The bytes go to each parser as a gap (a message they cut
 * is flagged lost); the counted starts keep the pairing exact, so a
 * response stream that loses sync in them does not give up its waiting
 * requests as desync.
 */
static int http1_loss(void *p, const ConnLoss *l, uint64_t ts_ns) {
        Http1Conn *c = ASSERT_PTR(p);
        int req = c->request_dir, r = 0, k;

        c->now = ts_ns;
        c->stats->messages_lost += (uint64_t) l->starts[0] + l->starts[1];
        for (int i = 0; i < 2; i++) {
                int d = req < 0 ? i : i == 0 ? req : !req;
                Http1Message *cut = http1_parser_body_message(c->parser[d]);

                if (l->bytes[d] > 0) {
                        if (cut)
                                cut->m.flags |= HTTP_MESSAGE_LOST;
                        c->in_loss = req >= 0;
                        k = http1_parser_gap(c->parser[d], l->bytes[d], ts_ns);
                        c->in_loss = false;
                        if (k < 0 && r >= 0)
                                r = k;
                }
                if (req < 0 || l->starts[d] == 0)
                        continue;
                k = d == req ? lost_requests(c, l->starts[d]) : lost_responses(c, l->starts[d]);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

static int http1_finish(void *p, uint64_t ts_ns, ExchangeEndReason reason) {
        Http1Conn *c = ASSERT_PTR(p);
        int first = c->request_dir < 0 ? CONN_DIR_INGRESS : c->request_dir, r = 0, k;

        c->now = ts_ns;
        /*
         * Requests first: a request cut by the close is queued (truncated)
         * before a close-delimited response completes and pairs with it.
         */
        k = http1_parser_finish(c->parser[first], ts_ns);
        if (k < 0 && r >= 0)
                r = k;
        k = http1_parser_finish(c->parser[!first], ts_ns);
        if (k < 0 && r >= 0)
                r = k;

        if (c->early) {
                /* cannot happen: finishing the request side consumed it; never lose it anyway */
                _cleanup_(http1_message_freep) Http1Message *resp = TAKE_PTR(c->early);

                k = emit(c, EXCHANGE_UNCORRELATED, NULL, resp, EXCHANGE_END_NONE);
                if (k < 0 && r >= 0)
                        r = k;
        }

        k = queue_flush(c, reason);
        if (k < 0 && r >= 0)
                r = k;
        if (c->h2) {
                k = protocol_http2_ops.finish(c->h2, ts_ns, reason);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

static size_t http1_memory(const void *p) {
        const Http1Conn *c = p;

        return c ? c->mem.used + (c->h2 ? protocol_http2_ops.memory(c->h2) : 0) : 0;
}

static bool http1_pending(const void *p) {
        const Http1Conn *c = p;

        return c && (c->queue_head || c->early || c->rejected || (c->h2 && protocol_http2_ops.pending(c->h2)) ||
                     http1_parser_busy(c->parser[0]) || http1_parser_busy(c->parser[1]));
}

const Http1Limits http1_limits_default = {
        /* Heads beyond 64 KiB are rejected by common servers (nginx: 4 x 8 KiB large buffers). */
        .head_max = 64 * 1024,
        /* nginx and Apache refuse more than ~100 fields; keep a little more than that. */
        .fields_max = 128,
        /* Pipelining depth seen in practice is a handful; 64 bounds a hostile peer. */
        .pipeline_max = 64,
};

static const char *const http1_counter_names[_HTTP1_COUNTER_MAX] = {
#define X(id, name) [HTTP1_COUNTER_##id] = #name,
        HTTP1_COUNTERS(X)
#undef X
};

const ProtocolOps protocol_http1_ops = {
        .id = CONN_PROTOCOL_HTTP1,
        .name = "http1",
        .title = "HTTP/1.x",
        .limits_size = sizeof(Http1Limits),
        .state_size = sizeof(Http1Conn) + 2 * HTTP1_PARSER_SIZE,
        .limits_default = &http1_limits_default,
        .counter_names = http1_counter_names,
        .n_counters = _HTTP1_COUNTER_MAX,
        .new = http1_new,
        .free = http1_free,
        .data = http1_data,
        .gap = http1_gap,
        .loss = http1_loss,
        .finish = http1_finish,
        .memory = http1_memory,
        .pending = http1_pending,
};
