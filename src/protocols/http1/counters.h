/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1's own counters: what only HTTP/1 gives up or sees (framing lost,
 * heads over its caps, pipelined requests past its cap, interim responses).
 * They live in HTTP/1's row of Stats.protocols and are reported under these
 * names beside the shared counters (conn/stats.h); a new one is documented
 * in docs/control-protocol.md.
 */
#pragma once

#include <stdint.h>

#include "conn/conn-info.h"
#include "conn/stats.h"

#define HTTP1_COUNTERS(X) \
        X(MESSAGES_INTERIM,   messages_interim)    /* 1xx other than 101 */ \
        X(DESYNCS,            desyncs)             /* streams that lost message framing after a gap */ \
        X(HEAD_OVERFLOWS,     head_overflows)      /* heads over the size or field limit */ \
        X(PIPELINE_OVERFLOWS, pipeline_overflows)  /* requests past limits.pipeline_max waiting: paired, head not kept */ \
        X(REQUESTS_INVALID,   requests_invalid)    /* requests the parser rejected (request-direction parse errors): paired, flagged request-invalid */

typedef enum Http1Counter {
#define X(id, name) HTTP1_COUNTER_##id,
        HTTP1_COUNTERS(X)
#undef X
        _HTTP1_COUNTER_MAX,
} Http1Counter;

_Static_assert(_HTTP1_COUNTER_MAX <= PROTOCOL_COUNTERS_MAX, "HTTP/1's counters do not fit its row of Stats.protocols");

/* HTTP/1's row of s->protocols, indexed by Http1Counter. */
static inline uint64_t *http1_counters(Stats *s) {
        return s->protocols[CONN_PROTOCOL_HTTP1];
}
