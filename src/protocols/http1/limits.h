/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1's own caps on what one peer can make us hold (the connection
 * layer's caps, shared by every protocol, are conn/protocol.h's Limits).
 * The defaults and their reasons are in protocol.c's http1_limits_default.
 */
#pragma once

#include <stddef.h>

typedef struct Http1Limits {
        size_t head_max;              /* bytes of one message head (start line + fields) */
        size_t fields_max;            /* header fields kept per message */
        size_t pipeline_max;          /* requests waiting for their responses on one connection */
} Http1Limits;

extern const Http1Limits http1_limits_default;
