/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's metrics: the service table (output/service-table.h), fed
 * with every exchange the filters let through, before sampling and the
 * rate limit, and its exposition for node_exporter's textfile collector,
 * written every metrics.interval from the event loop (docs/metrics.md).
 *
 * The table lives as long as the daemon: a reload changes the route
 * templates and where and whether the textfile is written, never the
 * counters. The textfile is replaced atomically (a temporary file in the
 * same directory, then rename(), so the collector reads an old or a new
 * file, never half of one) and removed when the daemon stops or the
 * textfile is turned off: a stopped tracer's counters would look like a
 * service without traffic.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "config/configuration.h"
#include "daemon/control.h"
#include "output/metrics-format.h"
#include "output/service-table.h"
#include "select/route-fold.h"

/* The textfile's name: node_exporter reads *.prom in its textfile directory. */
#define METRICS_TEXTFILE "http-tracer.prom"

typedef struct MetricsOptions {
        ServiceTableOptions table;          /* fixed at start (metrics.buckets, *_max need a restart) */
        const RouteFold *routes;            /* borrowed: the Settings in force own it */
        bool enabled;                       /* write the textfile */
        const char *directory;              /* copied */
        uint64_t interval_usec;
} MetricsOptions;

/* The options from the metrics.* settings; @routes is borrowed. Return: 0 or -EINVAL. */
int metrics_options_from_config(const Config *c, const RouteFold *routes, MetricsOptions *ret);

typedef struct Metrics Metrics;

int metrics_new(const MetricsOptions *o, Metrics **ret);
/* Removes the textfile it wrote. */
Metrics *metrics_free(Metrics *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* A reload: templates and the textfile's settings from @o; the table's own are kept. */
int metrics_apply(Metrics *m, const MetricsOptions *o);

/*
 * Write the textfile every interval on @event, with the daemon's loss
 * counters from @status (the control socket's status callback).
 */
int metrics_start(Metrics *m, sd_event *event, int (*status)(void *userdata, ControlStatus *ret), void *userdata);

/* Count one exchange (@m may be NULL: nothing is counted). */
void metrics_feed(Metrics *m, const Exchange *x);

const ServiceTable *metrics_table(const Metrics *m);
/* CLOCK_REALTIME µs when counting began. */
uint64_t metrics_since_usec(const Metrics *m);

/* The http_tracer_dropped_total samples: the daemon's loss counters in @st. Returns how many. */
#define METRICS_DROPPED_MAX 16u
size_t metrics_dropped(const ControlStatus *st, const ServiceTable *t, MetricsDropped ret[static METRICS_DROPPED_MAX]);

/* Write the textfile now. Return: 0, or negative errno (logged once per kind of failure). */
int metrics_write(Metrics *m);
