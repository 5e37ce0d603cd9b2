/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service table in the Prometheus text exposition format (version
 * 0.0.4, what node_exporter's textfile collector reads): every metric
 * with # HELP and # TYPE, histograms as _bucket{le=...} (cumulative,
 * ending in +Inf), _sum and _count. The names are an interface dashboards
 * are built on (docs/metrics.md); keep them.
 *
 * Label values are our own bounded labels (units, "comm:NAME", folded
 * routes): escaped as the format wants ('\', '"', newline), and any byte
 * outside printable ASCII (a comm may hold anything) written as '?', so the
 * file is always valid UTF-8. Pure: writes to a FILE, logs nothing.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "output/service-table.h"

/* One http_tracer_dropped_total{reason=...} sample. */
typedef struct MetricsDropped {
        const char *reason;
        uint64_t value;
} MetricsDropped;

typedef struct MetricsFormatInput {
        const ServiceTable *table;
        uint64_t since_usec;          /* CLOCK_REALTIME when counting began: http_tracer_start_time_seconds */
        const MetricsDropped *dropped;
        size_t n_dropped;
} MetricsFormatInput;

/* Return: 0, or -EIO when writing to @f failed. */
int metrics_format(FILE *f, const MetricsFormatInput *in);

/* "0.005" for 5000 µs: seconds, exact, without trailing zeros. */
void metrics_format_seconds(uint64_t usec, char buf[static 32]);
