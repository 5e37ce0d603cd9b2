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
 * The last counted range is kept so that a response for one of those
 * streams arriving later does not make an entry as well (it is already
 * counted); a response for a stream of an older counted range cannot
 * arrive below the last request seen (protocol.c makes no stream for it).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Http2StreamIds {
        int64_t last;           /* highest id seen, or -1 (odd) / 0 (even) from the start; INT64_MIN: none */
        int64_t counted_lo;     /* the last range counted lost: (counted_lo, counted_hi), exclusive */
        int64_t counted_hi;
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

/* Whether id was counted lost in the last counted range (no entry may be made for it). */
bool http2_stream_ids_counted(const Http2StreamIds *ids, uint32_t id);
