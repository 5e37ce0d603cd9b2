/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which protocol handler parses a connection: the one place that maps a
 * ConnProtocol (the kernel's classification, decoded) to its ProtocolOps.
 * A new protocol is a row in registry.c and its own folder beside http1/.
 */
#pragma once

#include <stddef.h>

#include "conn/conn-info.h"
#include "conn/conn.h"
#include "conn/protocol.h"
#include "conn/stats.h"
#include "protocols/http1/limits.h"
#include "protocols/http2/limits.h"

/* Each protocol's own caps, as configured (the defaults: each protocol's *_limits_default). */
typedef struct ProtocolLimits {
        Http1Limits http1;
        Http2ConnLimits http2;
} ProtocolLimits;

/* The handler for protocol, or NULL when none is traced (unknown, other, not implemented yet). */
const ProtocolOps *protocol_registry_find(ConnProtocol protocol);

/*
 * Puts each protocol's caps in force on t, for connections open and to come.
 * Only the first call for a table allocates (-ENOMEM); later ones cannot fail.
 */
int protocol_registry_set_limits(ConnTable *t, const ProtocolLimits *l);

/* One more than the largest ConnProtocol with a row (rows may be NULL), for walking the table. */
size_t protocol_registry_size(void);

/*
 * The protocols' own counters (ProtocolOps.counter_names, counted in
 * s->protocols) as one list for reports, after the shared STATS_COUNTERS:
 * the i-th distinct name, in registry order, and in *ret_value (if not NULL)
 * its sum over every protocol that has a counter of that name (HTTP/2's
 * desyncs would add to HTTP/1's). NULL past the last one.
 */
const char *protocol_registry_counter(const Stats *s, size_t i, uint64_t *ret_value);

/*
 * The traced protocols for people, from the registry's titles in its order:
 * "HTTP/1.x", "HTTP/1.x and HTTP/2", "A, B and C". Cut to fit size; returns buf.
 */
const char *protocol_registry_describe(char *buf, size_t size);
