/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/2's own caps on what one connection can make us hold (the connection
 * layer's caps, shared by every protocol, are conn/protocol.h's Limits).
 * The defaults and their reasons are in protocol.c's http2_limits_default.
 */
#pragma once

#include <stddef.h>

/*
 * Each is a configuration key (config/config-table.c, limits.http2_* and
 * limits.fields_max) and each is counted when hit (counters.h).
 */
typedef struct Http2ConnLimits {
        size_t streams_max;           /* streams tracked at once on one connection: streams_overflows */
        size_t header_block_max;      /* bytes of one assembled header block (frame.h): header_block_overflows */
        size_t continuations_max;     /* CONTINUATION frames per block (frame.h): continuation_floods */
        size_t fields_max;            /* header fields kept per message (hpack.h): header_fields_dropped */
        size_t list_bytes_max;        /* bytes of names and values kept per block (hpack.h): header_fields_dropped */
        size_t hpack_memory_max;      /* one direction's inflater (hpack.h's memory_max): hpack_memory_refused */
} Http2ConnLimits;

extern const Http2ConnLimits http2_limits_default;
