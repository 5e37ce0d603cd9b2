/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/2 on one connection, as a ProtocolOps: a frame parser (frame.h) and
 * an HPACK inflater (hpack.h) per direction, and the stream table
 * (stream.h) that turns each stream into one exchange.
 *
 * Every header block of a direction goes through that direction's inflater
 * in order, whether or not its stream is tracked, so the dynamic table stays
 * the encoder's. A block that cannot be decoded (bytes lost, over
 * header_block_max, or it refers to dynamic-table entries we never saw: a
 * connection joined mid-stream) still makes its message, from what the
 * static table says (http2_hpack_peek_static: usually :status, often
 * :method and :path), flagged HTTP_MESSAGE_HEADERS_INCOMPLETE and counted
 * in headers_incomplete; the inflater restarts empty (hpack.h says why
 * decoding after that is still exact whenever it succeeds).
 *
 * The client's direction comes from the connection's role (the kernel
 * classifies HTTP/2 by the client preface, so the role is always known for
 * HTTP/2 connections; a connection of unknown role is taken as server-side).
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "protocols/http2/counters.h"
#include "protocols/http2/frame.h"
#include "protocols/http2/hpack.h"
#include "protocols/http2/protocol.h"
#include "protocols/http2/stream-ids.h"
#include "protocols/http2/stream.h"

typedef struct Http2Conn {
        const ConnInfo *conn;
        const ExchangeSink *sink;
        Stats *stats;
        const Http2ConnLimits *h2;
        Http2Memory mem;                /* everything below that grows with the peers' bytes is charged here */
        size_t state_charged;           /* upgraded: our fixed cost, charged to mem (HTTP/1's did not count it) */
        int client_dir;                 /* ConnDirection carrying the client's frames */
        Http2FrameParser *parser[2];    /* by ConnDirection */
        Http2Hpack *hpack[2];
        Http2FrameStats frame_stats[2];
        Http2HpackStats hpack_stats[2];
        uint64_t reported[_HTTP2_COUNTER_MAX];  /* of the caps' counts below, what is already in c->stats */
        Http2Streams streams;
        uint32_t last_opened[2];        /* highest stream id opened by a request (by odd/even id: client/pushed) */
        Http2StreamIds ids[2];          /* streams opened in lost bytes (by odd/even id), stream-ids.h */
} Http2Conn;

static Stats dummy_stats;

/*
 * The caps the frame parsers and inflaters count in their own stats, summed
 * over both directions and added to the daemon's counters as they grow:
 * after each call that may have hit one.
 */
static void report_caps(Http2Conn *c) {
        static const Http2Counter caps[] = {
                HTTP2_COUNTER_HEADER_BLOCK_OVERFLOWS, HTTP2_COUNTER_CONTINUATION_FLOODS,
                HTTP2_COUNTER_HEADER_FIELDS_DROPPED, HTTP2_COUNTER_HPACK_MEMORY_REFUSED,
        };
        uint64_t n[_HTTP2_COUNTER_MAX] = {};

        for (int d = 0; d < 2; d++) {
                n[HTTP2_COUNTER_HEADER_BLOCK_OVERFLOWS] += c->frame_stats[d].header_block_overflows;
                n[HTTP2_COUNTER_CONTINUATION_FLOODS] += c->frame_stats[d].continuation_floods;
                n[HTTP2_COUNTER_HEADER_FIELDS_DROPPED] += c->hpack_stats[d].fields_dropped;
                n[HTTP2_COUNTER_HPACK_MEMORY_REFUSED] += c->hpack_stats[d].memory_refused;
        }
        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                http2_counters(c->stats)[caps[i]] += n[caps[i]] - c->reported[caps[i]];
                c->reported[caps[i]] = n[caps[i]];
        }
}

static int direction_of(const Http2Conn *c, const Http2FrameParser *p) {
        return p == c->parser[CONN_DIR_EGRESS] ? CONN_DIR_EGRESS : CONN_DIR_INGRESS;
}

/*
 * Decodes f's header block with direction d's inflater. On success *ret_list
 * is set and 0 returned; otherwise *ret_peek holds what the static table
 * says and the message's flags are returned: HTTP_MESSAGE_HEADERS_INCOMPLETE,
 * and HTTP_MESSAGE_MEMORY_CAPPED when the memory caps (memory.h) refused the
 * block's buffer or its decoding.
 */
static unsigned decode_block(Http2Conn *c, int d, const Http2Frame *f, Http2HeaderList **ret_list,
                             Http2StaticPeek *ret_peek) {
        unsigned flags = HTTP_MESSAGE_HEADERS_INCOMPLETE;
        int r;

        *ret_list = NULL;
        if (!(f->parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE)) {
                r = http2_hpack_decode(c->hpack[d], f->block, f->block_len, ret_list);
                if (r >= 0)
                        return 0;
                if (r == -ENOSPC)
                        flags |= HTTP_MESSAGE_MEMORY_CAPPED;
        } else {
                if (f->parser_flags & HTTP2_FRAME_BLOCK_MEMORY_CAPPED)
                        flags |= HTTP_MESSAGE_MEMORY_CAPPED;
                (void) http2_hpack_reset(c->hpack[d]);
        }
        http2_counters(c->stats)[HTTP2_COUNTER_HEADERS_INCOMPLETE]++;
        http2_hpack_peek_static(f->block, f->block_len, ret_peek);
        return flags;
}

static Http2FrameInfo frame_info(const Http2Frame *f) {
        return (Http2FrameInfo) {
                .first_ns = f->first_ns,
                .last_ns = f->last_ns,
                .wire_bytes = f->wire_bytes,
                .gap_bytes = f->gap_bytes,
                .tid = f->tid,
                .end_stream = (f->type == HTTP2_DATA || f->type == HTTP2_HEADERS) &&
                              (f->flags & HTTP2_FLAG_END_STREAM),
        };
}

/* A header block names stream id: the streams its initiator opened since the last seen, in lost bytes. */
static void count_lost(Http2Conn *c, uint32_t id) {
        uint32_t n;

        if (id == 0)
                return;
        n = http2_stream_ids_seen(&c->ids[id & 1], id);
        http2_counters(c->stats)[HTTP2_COUNTER_STREAMS_LOST] += n;
        c->stats->exchanges_lost += n;
}

static int on_header_block(Http2Conn *c, int d, const Http2Frame *f) {
        Http2Side side = d == c->client_dir ? HTTP2_SIDE_REQUEST : HTTP2_SIDE_RESPONSE;
        Http2HeaderList *list = NULL;
        Http2StaticPeek peek = {};
        Http2FrameInfo fi = frame_info(f);
        Http2Stream *s;
        unsigned flags;

        flags = decode_block(c, d, f, &list, &peek);
        if (f->type == HTTP2_PUSH_PROMISE) {
                /* the promised request, written by the server: the pushed stream's request, already ended */
                count_lost(c, f->promised_stream_id);
                c->last_opened[f->promised_stream_id & 1] = MAX(c->last_opened[f->promised_stream_id & 1],
                                                                f->promised_stream_id);
                s = http2_streams_get(&c->streams, f->promised_stream_id, true);
                if (!s) {
                        http2_header_list_free(list);
                        return 0;
                }
                http2_counters(c->stats)[HTTP2_COUNTER_STREAMS_PUSHED]++;
                http2_stream_set_pushed(s);
                fi.end_stream = true;
                return http2_stream_headers(&c->streams, s, HTTP2_SIDE_REQUEST, list, &peek, flags, &fi);
        }

        /*
         * A response opens a stream only when its request was never seen
         * (joined mid-stream, a push whose promise was lost): a stream whose
         * request went untracked (over streams_max) stays untracked, and so
         * does one already counted in streams_lost.
         */
        count_lost(c, f->stream_id);
        if (side == HTTP2_SIDE_REQUEST)
                c->last_opened[f->stream_id & 1] = MAX(c->last_opened[f->stream_id & 1], f->stream_id);
        s = http2_streams_get(&c->streams, f->stream_id,
                              side == HTTP2_SIDE_REQUEST ||
                              (f->stream_id > c->last_opened[f->stream_id & 1] &&
                               !http2_stream_ids_counted(&c->ids[f->stream_id & 1], f->stream_id)));
        if (!s) {
                http2_header_list_free(list);
                return 0;
        }
        return http2_stream_headers(&c->streams, s, side, list, &peek, flags, &fi);
}

static int on_frame(Http2FrameParser *p, const Http2Frame *f, void *userdata) {
        Http2Conn *c = ASSERT_PTR(userdata);
        int d = direction_of(c, p);
        Http2Side side = d == c->client_dir ? HTTP2_SIDE_REQUEST : HTTP2_SIDE_RESPONSE;
        Http2FrameInfo fi;
        Http2Stream *s;

        switch (f->type) {
        case HTTP2_SETTINGS:
                /* what the sender will accept: the limit of the other direction's frames */
                if (!(f->flags & HTTP2_FLAG_ACK) && f->settings.has[HTTP2_SETTINGS_MAX_FRAME_SIZE])
                        http2_frame_parser_set_max_frame_size(c->parser[!d],
                                                              f->settings.value[HTTP2_SETTINGS_MAX_FRAME_SIZE]);
                return 0;
        case HTTP2_HEADERS:
        case HTTP2_PUSH_PROMISE:
                return on_header_block(c, d, f);
        case HTTP2_DATA:
                s = http2_streams_get(&c->streams, f->stream_id, false);
                if (!s)
                        return 0;
                fi = frame_info(f);
                return http2_stream_data(&c->streams, s, side, f->data_bytes, &fi);
        case HTTP2_RST_STREAM:
                s = http2_streams_get(&c->streams, f->stream_id, false);
                return s ? http2_stream_reset(&c->streams, s, f->error_code, f->last_ns) : 0;
        case HTTP2_GOAWAY:
                http2_counters(c->stats)[HTTP2_COUNTER_GOAWAYS]++;
                return d == c->client_dir ? 0 : http2_streams_goaway(&c->streams, f->last_stream_id);
        default:
                return 0;
        }
}

static int on_error(Http2FrameParser *p, const Http2Error *e, void *userdata) {
        Http2Conn *c = ASSERT_PTR(userdata);
        Exchange x = {
                .kind = EXCHANGE_PARSE_ERROR,
                .conn = c->conn,
                .error_direction = direction_of(c, p),
                .error = e->error,
                .error_offset = e->offset,
                .stream_id = e->stream_id,
        };

        c->stats->parse_errors++;
        return exchange_sink_emit(c->sink, &x);
}

static int on_desync(Http2FrameParser *p, void *userdata) {
        Http2Conn *c = ASSERT_PTR(userdata);

        http2_counters(c->stats)[HTTP2_COUNTER_DESYNCS]++;
        /* header blocks were lost: the dynamic table of this direction is no longer the encoder's */
        return http2_hpack_reset(c->hpack[direction_of(c, p)]);
}

static const Http2FrameCallbacks http2_callbacks = {
        .frame = on_frame,
        .error = on_error,
        .desync = on_desync,
};

static void *http2_free(void *p) {
        Http2Conn *c = p;

        if (!c)
                return NULL;
        http2_streams_done(&c->streams);
        for (int d = 0; d < 2; d++) {
                http2_frame_parser_free(c->parser[d]);
                http2_hpack_free(c->hpack[d]);
        }
        http2_memory_release(&c->mem, c->state_charged);
        return mfree(c);
}

static int new_handler(const ProtocolContext *ctx, bool synced, Http2Conn **ret) {
        Http2Conn *c;
        int r;

        if (!ctx || !ctx->conn || !ret)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->conn = ctx->conn;
        c->sink = ctx->sink;
        c->stats = ctx->stats ?: &dummy_stats;
        c->h2 = ctx->protocol_limits ?: &http2_limits_default;
        c->client_dir = ctx->conn->role == CONN_ROLE_CLIENT ? CONN_DIR_EGRESS : CONN_DIR_INGRESS;
        c->mem = (Http2Memory) {
                .limits = ctx->limits,
                .budget = ctx->budget,
                .stats = c->stats,
        };
        http2_streams_init(&c->streams, c->conn, c->sink, c->stats, &c->mem, MAX(c->h2->streams_max, (size_t) 1));
        for (unsigned parity = 0; parity < 2; parity++)
                http2_stream_ids_init(&c->ids[parity], parity, synced);

        for (int d = 0; d < 2; d++) {
                Http2Limits fl = {
                        .header_block_max = c->h2->header_block_max,
                        .continuation_max = (unsigned) MIN(c->h2->continuations_max, (size_t) UINT_MAX),
                        .mem = &c->mem,
                };
                Http2HpackLimits hl = {
                        .memory_max = c->h2->hpack_memory_max,
                        .fields_max = c->h2->fields_max,
                        .list_bytes_max = c->h2->list_bytes_max,
                        .mem = &c->mem,
                };

                r = http2_frame_parser_new(d == c->client_dir ? HTTP2_FROM_CLIENT : HTTP2_FROM_SERVER, &fl,
                                           &c->frame_stats[d], &http2_callbacks, c, synced, &c->parser[d]);
                if (r >= 0)
                        r = http2_hpack_new(&hl, &c->hpack_stats[d], &c->hpack[d]);
                if (r < 0) {
                        http2_free(c);
                        return r;
                }
        }

        *ret = c;
        return 0;
}

static int http2_new(const ProtocolContext *ctx, void **ret) {
        /* joined mid-stream: the parsers wait for a segment start that looks like a frame or the preface */
        Http2Conn *c;
        int r;

        r = new_handler(ctx, ctx && ctx->conn && (ctx->conn->flags & CONN_SEEN_START), &c);
        if (r >= 0)
                *ret = c;
        return r;
}

int protocol_http2_new_upgraded(const ProtocolContext *ctx, const HttpMessage *upgrade_request, void **ret) {
        Http2Conn *c;
        Http2Stream *s;
        int r;

        if (!upgrade_request || !ret)
                return -EINVAL;
        r = new_handler(ctx, true, &c);
        if (r < 0)
                return r;
        /* without asking, as a connection's fixed cost is: one per connection, and the upgrade must go on */
        c->state_charged = protocol_http2_ops.state_size;
        http2_memory_charge(&c->mem, c->state_charged);
        count_lost(c, 1);
        c->last_opened[1] = 1;
        s = http2_streams_get(&c->streams, 1, true);
        r = s ? http2_stream_seed_request(&c->streams, s, upgrade_request) : -ENOMEM;
        if (r < 0) {
                http2_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static int http2_data(void *p, uint8_t direction, const uint8_t *buf, size_t n, uint64_t ts_ns,
                      uint32_t tid, bool segment_start) {
        Http2Conn *c = ASSERT_PTR(p);
        int r;

        if (direction > CONN_DIR_EGRESS)
                return -EINVAL;
        r = http2_frame_parser_feed(c->parser[direction], buf, n, ts_ns, tid, segment_start);
        report_caps(c);
        return r;
}

static int http2_gap(void *p, uint8_t direction, uint64_t n, uint64_t ts_ns) {
        Http2Conn *c = ASSERT_PTR(p);
        int r;

        if (direction > CONN_DIR_EGRESS)
                return -EINVAL;
        /* the client opens odd streams, the server pushes even ones: either may be in these bytes */
        http2_stream_ids_gap(&c->ids[direction == c->client_dir]);
        r = http2_frame_parser_gap(c->parser[direction], n, ts_ns);
        report_caps(c);
        return r;
}

static int http2_finish(void *p, uint64_t ts_ns, ExchangeEndReason reason) {
        Http2Conn *c = ASSERT_PTR(p);

        return http2_streams_finish(&c->streams, reason);
}

/* What the connection has charged to the caps (memory.h): its parsers, inflaters, lists and streams. */
static size_t http2_memory(const void *p) {
        const Http2Conn *c = p;

        return c ? c->mem.used : 0;
}

static bool http2_pending(const void *p) {
        const Http2Conn *c = p;

        return c && (c->streams.n > 0 ||
                     http2_frame_parser_busy(c->parser[0]) || http2_frame_parser_busy(c->parser[1]));
}

const Http2ConnLimits http2_limits_default = {
        /*
         * Concurrent streams tracked per connection: servers announce 100
         * (Apache, Go, node) or 128 (nginx) in SETTINGS_MAX_CONCURRENT_STREAMS;
         * 256 leaves room for pushed streams and for a peer that overshoots.
         */
        .streams_max = 256,
        .header_block_max = HTTP2_HEADER_BLOCK_MAX_DEFAULT,
        .continuations_max = HTTP2_CONTINUATION_MAX_DEFAULT,
        .fields_max = HTTP2_HPACK_FIELDS_MAX_DEFAULT,
        .list_bytes_max = HTTP2_HPACK_LIST_BYTES_MAX_DEFAULT,
        .hpack_memory_max = HTTP2_HPACK_MEMORY_MAX_DEFAULT,
};

static const char *const http2_counter_names[_HTTP2_COUNTER_MAX] = {
#define X(id, name) [HTTP2_COUNTER_##id] = #name,
        HTTP2_COUNTERS(X)
#undef X
};

const ProtocolOps protocol_http2_ops = {
        .id = CONN_PROTOCOL_HTTP2,
        .name = "http2",
        .title = "HTTP/2",
        .limits_size = sizeof(Http2ConnLimits),
        /* its parsers' and inflaters' structs too; what grows is charged as it grows (memory.h) */
        .state_size = sizeof(Http2Conn) + 2 * (HTTP2_FRAME_PARSER_STATE_SIZE + HTTP2_HPACK_STATE_SIZE),
        .limits_default = &http2_limits_default,
        .counter_names = http2_counter_names,
        .n_counters = _HTTP2_COUNTER_MAX,
        .new = http2_new,
        .free = http2_free,
        .data = http2_data,
        .gap = http2_gap,
        .finish = http2_finish,
        .memory = http2_memory,
        .pending = http2_pending,
};
