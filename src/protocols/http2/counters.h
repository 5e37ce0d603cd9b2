/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/2's own counters: what only HTTP/2 gives up or sees. They live in
 * HTTP/2's row of Stats.protocols and are reported under these names beside
 * the shared counters (conn/stats.h); a name HTTP/1 also has (desyncs,
 * messages_interim) is reported once, as the sum of both. A new one is
 * documented in docs/control-protocol.md.
 */
#pragma once

#include <stdint.h>

#include "conn/conn-info.h"
#include "conn/stats.h"

#define HTTP2_COUNTERS(X) \
        X(MESSAGES_INTERIM,    messages_interim)     /* 1xx header blocks (not entries) */ \
        X(DESYNCS,             desyncs)              /* directions that lost frame sync (gap, protocol error) */ \
        X(STREAMS_OVERFLOWS,   streams_overflows)    /* streams past limits.http2_streams_max: not logged */ \
        X(HEADERS_INCOMPLETE,  headers_incomplete)   /* header blocks not decoded whole (lost bytes, unknown table refs, caps) */ \
        X(STREAMS_RESET,       streams_reset)        /* streams ended by RST_STREAM */ \
        X(GOAWAYS,             goaways)              /* GOAWAY frames seen */ \
        X(STREAMS_PUSHED,      streams_pushed)       /* server-pushed streams (PUSH_PROMISE) */ \
        X(HEADER_BLOCK_OVERFLOWS, header_block_overflows) /* blocks over limits.http2_header_block_max: not decoded */ \
        X(CONTINUATION_FLOODS, continuation_floods)  /* blocks over limits.http2_continuations_max: protocol error */ \
        X(HEADER_FIELDS_DROPPED, header_fields_dropped) /* fields decoded, not kept: limits.fields_max, http2_header_list_max */ \
        X(HPACK_MEMORY_REFUSED, hpack_memory_refused) /* blocks not decoded: limits.http2_hpack_memory_max */ \
        X(STREAMS_LOST,        streams_lost)         /* streams opened in bytes not captured, by their ids (stream-ids.h): also in exchanges_lost */

typedef enum Http2Counter {
#define X(id, name) HTTP2_COUNTER_##id,
        HTTP2_COUNTERS(X)
#undef X
        _HTTP2_COUNTER_MAX,
} Http2Counter;

_Static_assert(_HTTP2_COUNTER_MAX <= PROTOCOL_COUNTERS_MAX, "HTTP/2's counters do not fit its row of Stats.protocols");

/* HTTP/2's row of s->protocols, indexed by Http2Counter. */
static inline uint64_t *http2_counters(Stats *s) {
        return s->protocols[CONN_PROTOCOL_HTTP2];
}
