/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/2's own caps on what one connection can make us hold (the connection
 * layer's caps, shared by every protocol, are conn/protocol.h's Limits).
 * The defaults and their reasons are in protocol.c's http2_limits_default.
 */
#pragma once

#include <stddef.h>

typedef struct Http2ConnLimits {
        size_t streams_max;           /* streams tracked at once on one connection (past it: counted, not logged) */
        size_t header_block_max;      /* bytes of one assembled header block (frame.h's header_block_max) */
        size_t fields_max;            /* header fields kept per message (hpack.h's fields_max) */
        size_t list_bytes_max;        /* bytes of names and values kept per header block (hpack.h's list_bytes_max) */
} Http2ConnLimits;

extern const Http2ConnLimits http2_limits_default;
