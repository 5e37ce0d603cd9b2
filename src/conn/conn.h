/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection layer: takes decoded calls from a data source (open, bytes
 * and gaps, close, process exit; capture/records.c decodes the kernel's
 * records into them) and hands each connection's byte streams to its
 * protocol handler (protocols/registry.h finds it). It owns connection lifetimes,
 * the idle timeout, and the caps on how many connections and how much
 * memory peers can make us hold. Pure: no BPF, no journald, no event loop;
 * the daemon tells it the time and what to do when a connection is dropped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn-info.h"
#include "conn/exchange.h"
#include "conn/protocol.h"
#include "conn/stats.h"

typedef struct ConnTable ConnTable;

/* Defaults for every cap, with their reasons in conn.c. */
extern const Limits limits_default;

/*
 * Called when user space gives up a connection the kernel still tracks
 * (idle expiry, process exit), so the kernel side can forget or re-announce
 * it. reannounce: the connection may still be alive; have the kernel
 * classify it again and send CONN_OPEN on its next message start.
 */
typedef void (*ConnForgetFn)(void *userdata, const ConnInfo *info, bool reannounce);

int conn_table_new(const Limits *limits, Stats *stats, const ExchangeSink *sink, ConnTable **ret);
ConnTable *conn_table_free(ConnTable *t);

void conn_table_set_forget(ConnTable *t, ConnForgetFn fn, void *userdata);
/* Replace the caps (reload). Existing connections keep their state. */
void conn_table_set_limits(ConnTable *t, const Limits *limits);

/*
 * Set (start) or replace (reload) the own caps of the protocol ops parses:
 * ops->limits_size bytes are copied. Connections open and to come use them;
 * until this is called, a protocol uses ops->limits_default.
 */
int conn_table_set_protocol_limits(ConnTable *t, const ProtocolOps *ops, const void *limits);

/*
 * The source seam. A connection is named by (source, id): the syscall view
 * and the TLS view of one socket are two connections and never evict each
 * other. Each call carries its CLOCK_MONOTONIC timestamp.
 */

/*
 * A connection was announced, with ops its protocol's handler (NULL: no
 * handler for info->protocol). An open connection with the same (source, id),
 * or the same (source, sock), is finished first: its end was not seen.
 * Returns 0 (also when refused for the connection cap, counted in
 * conns_refused), -EPROTONOSUPPORT when ops is NULL (after finishing those),
 * other negative errno on an internal failure.
 */
int conn_table_open(ConnTable *t, const ConnInfo *info, const ProtocolOps *ops);

/* True when (source, id) is open. */
bool conn_table_has(const ConnTable *t, ConnSource source, uint64_t id);

/*
 * n bytes in one direction, in order (n may be 0: activity without bytes).
 * segment_start: buf begins a read or write of the traced process (a hint
 * for finding message starts after lost bytes). -ENOENT if (source, id) is
 * not open.
 */
int conn_table_data(ConnTable *t, ConnSource source, uint64_t id, ConnDirection direction,
                    const uint8_t *buf, size_t n, uint64_t ts_ns, uint32_t tid, bool segment_start);

/* n bytes in one direction that were not captured. -ENOENT if (source, id) is not open. */
int conn_table_gap(ConnTable *t, ConnSource source, uint64_t id, ConnDirection direction, uint64_t n,
                   uint64_t ts_ns);

/*
 * One record's worth, for conn_table_segment(): lost_before bytes that were
 * not captured, then buf[0..n), then gap_after bytes the record stood for but
 * did not carry (each may be 0). segment_start: as for conn_table_data().
 */
typedef struct ConnSegment {
        uint64_t id;
        uint64_t lost_before;
        uint64_t lost_other;          /* bytes of the other direction lost before this record */
        uint32_t lost_starts[2];      /* by ConnDirection: message starts in the lost bytes */
        const uint8_t *buf;
        size_t n;
        uint64_t gap_after;
        uint64_t ts_ns;
        uint32_t tid;
        ConnSource source;
        ConnDirection direction;
        bool segment_start;
} ConnSegment;

/*
 * One record at one lookup, as conn_table_gap(), conn_table_data(),
 * conn_table_gap() would. -ENOENT if (s->source, s->id) is not open. The hot
 * path: a lookup per call instead of one per record cost ~6 % of user space
 * per exchange; one struct pointer instead of eleven arguments saves the
 * spilling of them at every record.
 */
int conn_table_segment(ConnTable *t, const ConnSegment *s);

/* The connection was closed: finish it. -ENOENT if (source, id) is not open. */
int conn_table_close(ConnTable *t, ConnSource source, uint64_t id, uint64_t ts_ns);

/*
 * What the kernel lost on (source, id) before a record at ts_ns, both
 * directions (conn_table_segment() does this itself for lost_before,
 * lost_other and lost_starts). -ENOENT if (source, id) is not open.
 */
int conn_table_loss(ConnTable *t, ConnSource source, uint64_t id, const ConnLoss *loss, uint64_t ts_ns);

/* Process tgid exited: finish its connections of every source (and forget them, see ConnForgetFn). */
void conn_table_process_exit(ConnTable *t, uint32_t tgid, uint64_t ts_ns);

/* Time seen by a source without a call above (conn_table_last_timestamp() follows it). */
void conn_table_advance(ConnTable *t, uint64_t ts_ns);

/* Give up connections idle for limits->idle_timeout_ns at time now_ns (CLOCK_MONOTONIC). */
void conn_table_expire(ConnTable *t, uint64_t now_ns);

/* Finish and free every connection (shutdown, or end of a replay). */
void conn_table_finish_all(ConnTable *t, uint64_t now_ns, ExchangeEndReason reason);

size_t conn_table_size(const ConnTable *t);
size_t conn_table_memory(const ConnTable *t);
/* The newest timestamp seen in any call (replay uses it as "now"). */
uint64_t conn_table_last_timestamp(const ConnTable *t);
