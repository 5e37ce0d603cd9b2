/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own entries: the periodic statistics, the warning that
 * records or entries were dropped, and the rate limit's summary. Built into
 * the same FormatEntry as the exchanges (entry.h), so every output carries
 * them; their fields are in docs/journal-fields.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/stats.h"
#include "output/entry.h"

/* One output's counters, for the statistics entry. */
typedef struct FormatOutputStats {
        const char *name;                /* "journal", "json", ...: [a-z0-9_-] */
        uint64_t written;
        uint64_t dropped;
        uint64_t queued;                 /* gauge: entries waiting now */
} FormatOutputStats;

/* Outputs named in one statistics entry at most (each adds 3 fields). */
#define FORMAT_STATISTICS_OUTPUTS_MAX 4u

typedef struct FormatStatistics {
        const Stats *stats;              /* required */
        const uint64_t *kernel;          /* _KERNEL_COUNTER_MAX counters of the BPF side; NULL: unknown (0) */
        const FormatOutputStats *outputs;/* NULL or n_outputs of them (beyond the max are ignored) */
        size_t n_outputs;
        uint64_t connections_tracked;
        uint64_t memory_bytes;
        uint64_t interval_usec;          /* stats.interval */
} FormatStatistics;

/**
 * format_statistics() - the periodic statistics entry
 * @e: the entry to fill (reset first)
 * @s: the counters
 *
 * MESSAGE_ID FORMAT_MESSAGE_ID_STATISTICS, PRIORITY info, a one-line
 * MESSAGE and one HTTP_TRACER_* field per counter (docs/journal-fields.md).
 *
 * Return: 0, or -EINVAL without stats.
 */
int format_statistics(FormatEntry *e, const FormatStatistics *s);

typedef enum FormatDropReason {
        FORMAT_DROP_RING_BUFFER,         /* the kernel found the ring buffer full */
        FORMAT_DROP_OUTPUT_QUEUE,        /* an output's queue was full or its receiver gone */
        _FORMAT_DROP_REASON_MAX,
} FormatDropReason;

typedef struct FormatDrops {
        FormatDropReason reason;
        uint64_t dropped;                /* since the previous warning */
        uint64_t total;                  /* since start (or stats-reset) */
        uint64_t daemon_dropped;         /* FORMAT_DROP_OUTPUT_QUEUE: the daemon's own entries, since the previous warning */
        const char *output;              /* FORMAT_DROP_OUTPUT_QUEUE: which output; may be NULL */
} FormatDrops;

/**
 * format_drops() - the warning that records or entries were dropped
 * @e: the entry to fill (reset first)
 * @d: what was dropped
 *
 * MESSAGE_ID FORMAT_MESSAGE_ID_DROPS, PRIORITY warning.
 *
 * Return: 0, or -EINVAL for an unknown reason.
 */
int format_drops(FormatEntry *e, const FormatDrops *d);

const char *format_drop_reason_to_string(FormatDropReason r);

/**
 * format_statistics_due() - whether the periodic statistics entry is due
 * @now_usec: CLOCK_MONOTONIC now
 * @interval_usec: stats.interval; 0 turns the entries off
 * @last_usec: when the last one was due; 0 before the first call
 *
 * The first call only starts the clock (nothing to report at start-up);
 * then true once per interval, with *last_usec advanced. After a long
 * stall one entry is due, not a burst of them.
 */
bool format_statistics_due(uint64_t now_usec, uint64_t interval_usec, uint64_t *last_usec);

/**
 * format_rate_limit_summary() - the entry that stands for exchanges the rate limit refused
 * @e: the entry to fill (reset first)
 * @refused: exchanges not logged during the interval
 * @passed: exchanges logged during it
 * @interval_ns: its length
 * @per_second: the limit
 * @burst: the bucket's size
 *
 * Return: 0, or -ENOBUFS (a bug in the limits).
 */
int format_rate_limit_summary(FormatEntry *e, uint64_t refused, uint64_t passed, uint64_t interval_ns,
                              uint64_t per_second, uint64_t burst);
