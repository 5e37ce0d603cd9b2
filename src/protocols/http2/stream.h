/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The streams of one HTTP/2 connection, each becoming one exchange: the
 * request is the client's HEADERS (+ DATA, trailers) up to END_STREAM, the
 * response the server's (1xx blocks skipped) up to END_STREAM. Frames are
 * parsed elsewhere (frame.h) and header blocks decoded elsewhere (hpack.h);
 * this module only keeps per-stream state and says when an exchange is
 * whole.
 *
 * When a stream goes out:
 *  - both messages ended: EXCHANGE_COMPLETE, duration from the first byte of
 *    the request's HEADERS to the last byte of the response's END_STREAM
 *    frame; a response that ends before its request (an early answer) waits
 *    for the request's end, an RST_STREAM or the connection's end;
 *  - a response without a request seen (joined mid-stream): UNCORRELATED;
 *  - RST_STREAM: at once, with its error code (Exchange.stream_reset): a
 *    response begun is COMPLETE (TRUNCATED if it had not ended), else
 *    NO_RESPONSE/RESET;
 *  - a server's GOAWAY: the client's streams above its last stream id were
 *    never processed: NO_RESPONSE/GOAWAY, those open then at once, those
 *    opened after it (a client that had not read it yet) when they end
 *    without a response;
 *  - the connection's end: what is left, as above, with the caller's reason.
 *
 * Memory: at most limits->streams_max streams (a stream past it is counted
 * in streams_overflows and never logged); per stream, the decoded header
 * lists (capped by hpack.h) and one field array per message. All of it is
 * charged to Http2Streams.mem (memory.h): a field array or a pseudo-header
 * copy it refuses is not made (the copy keeps its first
 * HTTP2_PSEUDO_CAPPED_MAX bytes) and the message is flagged
 * HTTP_MESSAGE_MEMORY_CAPPED and HTTP_MESSAGE_HEAD_TRUNCATED.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/exchange.h"
#include "conn/stats.h"
#include "protocols/http2/hpack.h"
#include "protocols/http2/memory.h"

/*
 * Bytes of a pseudo-header (:method, :path, :authority) kept, charged
 * without asking, when the memory caps refuse its whole copy: the method and
 * the start of the target stay in the entry, as HTTP/1 keeps a capped
 * head's start line. 256 holds any method and the path of most requests.
 */
#define HTTP2_PSEUDO_CAPPED_MAX 256u

typedef enum Http2Side {
        HTTP2_SIDE_REQUEST,
        HTTP2_SIDE_RESPONSE,
} Http2Side;

typedef struct Http2Stream Http2Stream;

typedef struct Http2Streams {
        Http2Stream *first;
        size_t n;
        size_t max;                   /* streams_max */
        Http2Memory *mem;             /* where streams, copies and field arrays are charged; may be NULL */
        uint32_t goaway_last;         /* lowest last-stream-id of the server's GOAWAYs (UINT32_MAX: none) */
        const ConnInfo *conn;
        const ExchangeSink *sink;
        Stats *stats;
} Http2Streams;

/* What a frame says about itself, for a stream's message. */
typedef struct Http2FrameInfo {
        uint64_t first_ns, last_ns;
        uint64_t wire_bytes, gap_bytes;
        uint32_t tid;
        bool end_stream;
} Http2FrameInfo;

void http2_streams_init(Http2Streams *t, const ConnInfo *conn, const ExchangeSink *sink, Stats *stats,
                        Http2Memory *mem, size_t max);
/* Frees every stream without emitting. */
void http2_streams_done(Http2Streams *t);

/* The stream with this id; with create, a new one (NULL when over the cap: counted). */
Http2Stream *http2_streams_get(Http2Streams *t, uint32_t id, bool create);

/*
 * A header block of side for stream s. list (taken, may be NULL when the
 * block could not be decoded) or else peek (what the static table says)
 * fills the message; flags (HTTP_MESSAGE_*: HEADERS_INCOMPLETE, MEMORY_CAPPED)
 * are added to it.
 */
int http2_stream_headers(Http2Streams *t, Http2Stream *s, Http2Side side, Http2HeaderList *list,
                         const Http2StaticPeek *peek, unsigned flags, const Http2FrameInfo *fi);

/* A DATA frame: data_bytes of payload (padding excluded). */
int http2_stream_data(Http2Streams *t, Http2Stream *s, Http2Side side, uint64_t data_bytes,
                      const Http2FrameInfo *fi);

/*
 * h2c by Upgrade (RFC 9113 §3.2 of RFC 7540): stream 1's request is the
 * HTTP/1.1 request that asked for the upgrade, already ended; its method,
 * target, Host and sizes are copied (flagged HTTP_MESSAGE_UPGRADE).
 */
int http2_stream_seed_request(Http2Streams *t, Http2Stream *s, const HttpMessage *req);

/* PUSH_PROMISE made s a pushed stream. */
void http2_stream_set_pushed(Http2Stream *s);

/* RST_STREAM with error_code: the stream goes out now. */
int http2_stream_reset(Http2Streams *t, Http2Stream *s, uint32_t error_code, uint64_t ts_ns);

/* GOAWAY from the server: client streams above last_stream_id go out as NO_RESPONSE/GOAWAY. */
int http2_streams_goaway(Http2Streams *t, uint32_t last_stream_id);

/* The connection ended: every stream goes out with what is known. */
int http2_streams_finish(Http2Streams *t, ExchangeEndReason reason);
