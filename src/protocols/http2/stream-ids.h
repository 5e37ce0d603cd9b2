/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The streams of one HTTP/2 connection that were opened inside lost bytes,
 * counted by their ids. Pure: no allocation, no logging.
 *
 * Stream ids of one initiator are used in increasing order (RFC 9113
 * §5.1.1): the client's odd, the server's pushes even. When bytes of the
 * direction that opens a parity's streams were not captured (a gap, or
 * records lost in the kernel) between the last id seen, M, and the next
 * one, N, the ids M+2 ... N-2 were opened inside those bytes: their
 * exchanges have no entry, and they are counted (streams_lost, also in
 * exchanges_lost). An endpoint may skip ids (the RFC only asks that a new
 * id be greater than those used before); one that does so across a gap
 * makes the count an upper bound. Without a gap, a jump is never counted.
 *
 * Before the first id seen nothing is counted on a connection joined
 * mid-stream: the streams before it belong to a past we never saw. On a
 * connection seen from its start, the ids before the first seen (1 for
 * the client, 2 for pushes) are counted when bytes were lost before it.
 *
 * The last HTTP2_STREAM_IDS_RANGES counted ranges are kept so that a
 * response for one of those streams arriving later does not make an entry
 * as well (it is already counted). A response below the last request seen
 * makes no stream anyway (protocol.c), so an older range matters only
 * when responses alone (requests lost) moved the count on more times than
 * that before the response came: then it has an entry and is counted.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define HTTP2_STREAM_IDS_RANGES 4

typedef struct Http2StreamIds {
        int64_t last;           /* highest id seen, or -1 (odd) / 0 (even) from the start; INT64_MIN: none */
        struct {
                int64_t lo, hi; /* ids counted lost: (lo, hi), exclusive */
        } counted[HTTP2_STREAM_IDS_RANGES];     /* the last ranges counted, a ring */
        unsigned next;          /* the ring's next slot */
        bool gap;               /* bytes of the opening direction not captured since last */
} Http2StreamIds;

/* parity: 1 client streams, 0 pushed; from_start: the connection was seen from its first byte. */
void http2_stream_ids_init(Http2StreamIds *ids, unsigned parity, bool from_start);

/* Bytes of the direction that opens these streams were not captured. */
static inline void http2_stream_ids_gap(Http2StreamIds *ids) {
        ids->gap = true;
}

/* A header block for stream id was seen: returns how many streams before it were lost. */
uint32_t http2_stream_ids_seen(Http2StreamIds *ids, uint32_t id);

/* Whether id was counted lost in one of the last counted ranges (no entry may be made for it). */
bool http2_stream_ids_counted(const Http2StreamIds *ids, uint32_t id);
