/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User-space counters. One struct for the whole pipeline so that status,
 * statistics entries and tests read the same numbers. Every place that gives
 * something up (a byte, a message, an entry) increments one of these.
 */
#pragma once

#include <stdint.h>

#include "conn/conn-info.h"

/*
 * The counters every protocol shares, one list: Stats below, the control
 * socket's "counters" object (control.c) and the tests are generated from
 * it. A new counter is documented in docs/control-protocol.md. A counter only
 * one protocol has (HTTP/1's desyncs) is that protocol's: see
 * Stats.protocols.
 */
#define STATS_COUNTERS(X) \
        /* events from the ring buffer (or a replay) */ \
        X(records)                /* records received */ \
        X(records_invalid)        /* records too short or of an unknown type: ignored */ \
        X(records_orphan)         /* data for a connection we never saw opened */ \
        X(bytes_captured)         /* payload bytes received */ \
        X(bytes_gap)              /* bytes reported as not captured */ \
        X(bytes_lost)             /* bytes lost in the kernel (ring buffer full) */ \
        \
        /* connections */ \
        X(conns_opened) \
        X(conns_closed) \
        X(conns_active) \
        X(conns_refused)          /* over the connection cap: not tracked */ \
        X(conns_expired)          /* idle, state freed */ \
        X(conns_reopened)         /* announced again with no end seen: the kernel map evicted it (LRU) */ \
        X(units_resolved)         /* cgroups whose unit was read from /proc/PID/cgroup (once per cgroup) */ \
        X(units_walked)           /* cgroups found by the bounded walk of the tree (the process was gone) */ \
        X(units_unknown)          /* cgroups not found (gone, walk gave up), or no room for another unit name */ \
        \
        /* protocols (their own counters are in Stats.protocols) */ \
        X(messages_requests) \
        X(messages_responses) \
        X(exchanges_complete) \
        X(exchanges_no_response) \
        X(exchanges_uncorrelated) \
        X(exchanges_lost)         /* request and response both lost in the kernel: counted, no entry */ \
        X(messages_lost)          /* message starts the kernel reported lost (ring buffer full) */ \
        X(parse_errors) \
        X(memory_refused)         /* bytes refused by the per-connection or global cap */ \
        \
        /* selection (selector.h): each exchange gets one verdict; these are not logged */ \
        X(exchanges_filtered)     /* excluded by a user-space filter */ \
        X(exchanges_sampled_out) \
        X(exchanges_rate_limited) /* refused by the rate limit: reported in summary entries */ \
        \
        /* outputs */ \
        X(entries_written)        /* exchange entries accepted by the sink (journald socket, stdout...) */ \
        X(entries_queued)         /* entries of either kind waiting in the output queues now */ \
        X(entries_dropped)        /* exchange entries given up: queue full, sink gone */ \
        X(daemon_entries_written) /* the daemon's own entries (statistics, drop warnings, summaries) accepted */ \
        X(daemon_entries_dropped) /* the daemon's own entries given up */ \
        X(output_errors)          /* send/write failures */ \
        X(fields_truncated)       /* values cut to their length limit */ \
        X(fields_dropped)         /* header fields not logged: over FORMAT_HEADER_FIELDS_MAX per entry */ \
        \
        /* cost, not loss: in no loss sum */ \
        X(spare_reused)           /* message blocks taken from the table's spare list instead of malloc() */ \
        /* end */

/*
 * Slots for a protocol's own counters. The protocol names them
 * (ProtocolOps.counter_names, e.g. protocols/http1/counters.h) and counts in
 * its row of Stats.protocols; the connection layer knows no name;
 * protocols/registry.h reports them beside STATS_COUNTERS.
 */
#define PROTOCOL_COUNTERS_MAX 16

typedef struct Stats {
#define X(name) uint64_t name;
        STATS_COUNTERS(X)
#undef X
        uint64_t protocols[_CONN_PROTOCOL_MAX][PROTOCOL_COUNTERS_MAX];   /* by ConnProtocol */
} Stats;

/*
 * The kernel's per-CPU counters (enum ht_counter in bpf/abi.h, same order;
 * src/capture/ asserts it), as they appear in status answers and
 * statistics: X(ID, name, meaning). A new one is documented in
 * docs/control-protocol.md.
 */
#define KERNEL_COUNTERS(X) \
        X(RINGBUF_DROPS,      ringbuf_drops,      "records that did not fit in the ring buffer") \
        X(RINGBUF_DROP_BYTES, ringbuf_drop_bytes, "payload bytes those records stood for") \
        X(CONN_MAP_FULL,      conn_map_full,      "connections not tracked: connection map full") \
        X(ARGS_MAP_FULL,      args_map_full,      "syscalls not traced: no task storage for their arguments") \
        X(RECORDS,            records,            "records delivered") \
        X(CAPTURED_BYTES,     captured_bytes,     "payload bytes delivered") \
        X(GAP_BYTES,          gap_bytes,          "bytes reported as gaps (over N, sendfile, iovecs past the cap)") \
        X(READ_FAULTS,        read_faults,        "user buffers that could not be read") \
        X(CONNS_HTTP,         conns_http,         "connections classified as HTTP/1") \
        X(CONNS_OTHER,        conns_other,        "connections classified as not HTTP") \
        X(IOV_TRUNCATED,      iov_truncated,      "vectored syscalls whose iovec array could not be read whole (the walk covers up to 1024, the kernel's limit)") \
        X(FILTERED_CONNS,     filtered_conns,     "connections the filter excluded (each time a decision excluded one)") \
        X(FILTERED_SYSCALLS,  filtered_syscalls,  "data syscalls on excluded connections: nothing copied") \
        X(OTHER_PIDNS,        other_pidns,        "socket syscalls of tasks outside the daemon's PID namespace: not traced") \
        X(TLS_UNTIED,         tls_untied,         "TLS plaintext chunks not tied to a socket (no fd known for the SSL*): not traced") \
        X(TLS_TIED_BY_READ,   tls_tied_by_read,   "SSL*s of memory-BIO libraries (node) tied to the socket their thread last read") \
        X(LOST_STARTS,        lost_starts,        "message starts (request or status lines) in records that did not fit") \
        X(TLS_CONNS_EVICTED,  tls_conns_evicted,  "TLS views of sockets evicted from the full tls_conns map while in use: traced again mid-stream") \
        X(CLOSES_LOST,        closes_lost,        "close records that did not fit: their connection ends at exit or idle timeout, its last loss unattached") \
        X(IO_URING_SOCKETS,   io_uring_sockets,   "TCP sockets seen driven through io_uring: their bytes are not traced") \
        X(EXCHANGES_LOST_UNSEEN, exchanges_lost_unseen, "exchanges whose whole connection was lost in a full ring, or lost by a connection the daemon forgot: no record carried their request's start (also in exchanges_lost)")

typedef enum KernelCounter {
#define X(id, name, doc) KERNEL_COUNTER_##id,
        KERNEL_COUNTERS(X)
#undef X
        _KERNEL_COUNTER_MAX,
} KernelCounter;

/* Every exchange the protocols finished: complete + no_response + uncorrelated. */
static inline uint64_t statistics_exchanges(const Stats *s) {
        return s->exchanges_complete + s->exchanges_no_response + s->exchanges_uncorrelated;
}

/* Finished exchanges that got an entry: no selection verdict against them (0, never less). */
static inline uint64_t statistics_logged(const Stats *s) {
        uint64_t e = statistics_exchanges(s), n = s->exchanges_filtered + s->exchanges_sampled_out +
                s->exchanges_rate_limited;

        return e > n ? e - n : 0;
}

/* Records the kernel dropped and exchange entries the outputs dropped: "dropped" wherever it is shown. */
static inline uint64_t statistics_dropped(const Stats *s, const uint64_t k[static _KERNEL_COUNTER_MAX]) {
        return k[KERNEL_COUNTER_RINGBUF_DROPS] + s->entries_dropped;
}

/*
 * The statistics as people read them, one list for both places they are
 * read: the "Statistics:" line on stderr (daemon/statistics-log.c) and the
 * journal's statistics entry (output/daemon-entries.c), so that neither can
 * lack a counter the other has. X(key, FIELD, value): key=N on the line,
 * HTTP_TRACER_<FIELD>=N in the entry, value an expression over s (const
 * Stats *) and k (the kernel counters since the last stats-reset). A new
 * row is documented in docs/journal-fields.md ("Statistics entries"); the
 * protocols' own counters follow the rows in both places
 * (protocol_registry_counter()). Meanings are those of the status answer
 * (docs/control-protocol.md).
 */
#define STATISTICS_ROWS(X) \
        X(records,                RECORDS,                s->records) \
        X(exchanges,              EXCHANGES,              statistics_exchanges(s)) \
        X(complete,               COMPLETE,               s->exchanges_complete) \
        X(no_response,            NO_RESPONSE,            s->exchanges_no_response) \
        X(uncorrelated,           UNCORRELATED,           s->exchanges_uncorrelated) \
        X(logged,                 LOGGED,                 statistics_logged(s)) \
        X(filtered,               FILTERED,               s->exchanges_filtered) \
        X(sampled_out,            SAMPLED_OUT,            s->exchanges_sampled_out) \
        X(rate_limited,           RATE_LIMITED,           s->exchanges_rate_limited) \
        /* losses */ \
        X(exchanges_lost,         EXCHANGES_LOST,         s->exchanges_lost) \
        X(exchanges_lost_unseen,  EXCHANGES_LOST_UNSEEN,  k[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN]) \
        X(messages_lost,          MESSAGES_LOST,          s->messages_lost) \
        X(closes_lost,            CLOSES_LOST,            k[KERNEL_COUNTER_CLOSES_LOST]) \
        X(parse_errors,           PARSE_ERRORS,           s->parse_errors) \
        X(dropped,                DROPPED,                statistics_dropped(s, k)) \
        X(ringbuf_drops,          RINGBUF_DROPS,          k[KERNEL_COUNTER_RINGBUF_DROPS]) \
        X(bytes_lost,             BYTES_LOST,             s->bytes_lost) \
        X(entries_written,        ENTRIES_WRITTEN,        s->entries_written) \
        X(entries_queued,         ENTRIES_QUEUED,         s->entries_queued) \
        X(entries_dropped,        ENTRIES_DROPPED,        s->entries_dropped) \
        X(daemon_entries_written, DAEMON_ENTRIES_WRITTEN, s->daemon_entries_written) \
        X(daemon_entries_dropped, DAEMON_ENTRIES_DROPPED, s->daemon_entries_dropped) \
        X(output_errors,          OUTPUT_ERRORS,          s->output_errors) \
        X(fields_truncated,       FIELDS_TRUNCATED,       s->fields_truncated) \
        X(fields_dropped,         FIELDS_DROPPED,         s->fields_dropped) \
        X(records_orphan,         RECORDS_ORPHAN,         s->records_orphan) \
        X(records_invalid,        RECORDS_INVALID,        s->records_invalid) \
        X(conns_opened,           CONNS_OPENED,           s->conns_opened) \
        X(conns_refused,          CONNS_REFUSED,          s->conns_refused) \
        X(memory_refused,         MEMORY_REFUSED,         s->memory_refused) \
        X(map_full,               MAP_FULL,               k[KERNEL_COUNTER_CONN_MAP_FULL] + k[KERNEL_COUNTER_ARGS_MAP_FULL]) \
        /* what is not traced, by design or configuration */ \
        X(filtered_conns,         FILTERED_CONNS,         k[KERNEL_COUNTER_FILTERED_CONNS]) \
        X(filtered_syscalls,      FILTERED_SYSCALLS,      k[KERNEL_COUNTER_FILTERED_SYSCALLS]) \
        X(other_pidns,            OTHER_PIDNS,            k[KERNEL_COUNTER_OTHER_PIDNS]) \
        X(tls_untied,             TLS_UNTIED,             k[KERNEL_COUNTER_TLS_UNTIED]) \
        X(tls_tied_by_read,       TLS_TIED_BY_READ,       k[KERNEL_COUNTER_TLS_TIED_BY_READ]) \
        X(tls_conns_evicted,      TLS_CONNS_EVICTED,      k[KERNEL_COUNTER_TLS_CONNS_EVICTED]) \
        X(io_uring_sockets,       IO_URING_SOCKETS,       k[KERNEL_COUNTER_IO_URING_SOCKETS]) \
        /* cost, not loss */ \
        X(spare_reused,           SPARE_REUSED,           s->spare_reused)
