/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one HTTP/2 connection holds, charged to the same caps as HTTP/1's
 * buffers: limits.conn_memory_max for the connection and
 * limits.global_memory_max (the connection layer's MemBudget) for all of
 * them. Every allocation whose size or number grows with what the peers
 * send asks first: the frame parsers' header block buffers (frame.h), the
 * HPACK inflaters' tables and scratch (hpack.h), the decoded header lists
 * and the streams' field arrays and pseudo-header copies (stream.h). A
 * refusal is counted in Stats.memory_refused (bytes) and what it cost is
 * flagged on the message (HTTP_MESSAGE_MEMORY_CAPPED, "memory-capped").
 *
 * Charged without asking, as HTTP/1 charges its message structs: a stream's
 * own struct (without it the exchange could not even be counted; their
 * number per connection is bounded by limits.http2_streams_max), the
 * short prefix of a pseudo-header kept when its whole copy is refused
 * (HTTP2_PSEUDO_CAPPED_MAX), so that a capped entry still has its method and
 * the start of its target, and on an h2c Upgrade the handler's fixed cost
 * (ProtocolOps.state_size), which HTTP/1's fixed cost did not include.
 *
 * Everything charged is released when it is freed: the budget returns to
 * what it was when the connection closes (test-protocol-http2 checks it).
 * Single-threaded, like the rest of the connection layer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "conn/stats.h"

typedef struct Http2Memory {
        size_t used;                  /* bytes charged by this connection */
        const Limits *limits;         /* conn_memory_max (0: no cap), read at each charge (reload); may be NULL */
        MemBudget *budget;            /* the global cap; may be NULL */
        Stats *stats;                 /* memory_refused; may be NULL */
        uint64_t refused;             /* bytes refused on this connection */
} Http2Memory;

/* Reserve n bytes against both caps: true, or false (counted, nothing reserved). NULL: no caps. */
static inline bool http2_memory_reserve(Http2Memory *m, size_t n) {
        size_t max;

        if (!m || n == 0)
                return true;
        max = m->limits ? m->limits->conn_memory_max : 0;
        if ((max > 0 && (n > max || m->used > max - n)) || !mem_budget_reserve(m->budget, n)) {
                m->refused += n;
                if (m->stats)
                        m->stats->memory_refused += n;
                return false;
        }
        m->used += n;
        return true;
}

/* Charge n bytes without asking (see above for what may). */
static inline void http2_memory_charge(Http2Memory *m, size_t n) {
        if (!m)
                return;
        m->used += n;
        if (m->budget)
                m->budget->used += n;
}

static inline void http2_memory_release(Http2Memory *m, size_t n) {
        if (!m)
                return;
        mem_budget_release(m->budget, MIN(n, m->used));
        m->used = n > m->used ? 0 : m->used - n;
}
