/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `http-tracer top` shows, computed from the daemon's `services`
 * answers (docs/control-protocol.md): each answer is a cumulative snapshot
 * since the daemon started; the rows of an interval are the difference of
 * two snapshots (rates over the monotonic clock, percentiles from the
 * difference of the latency histograms, basic/histogram.h). Pure: parsing
 * and arithmetic only, no terminal, no socket; unit-tested with fixtures.
 *
 * Memory: a snapshot holds one 8 KiB histogram per service and per route;
 * the control protocol caps an answer at CONTROL_RESPONSE_MAX (256 KiB),
 * which bounds how many there can be.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/histogram.h"

typedef struct TopCounts {
        char *name;                     /* unit ("nginx.service", "comm:curl") or route */
        char *role;                     /* "server" | "client"; NULL for a route */
        uint64_t requests, status[5], no_response;
        uint64_t request_bytes, response_bytes, duration_usec_sum;
        Histogram latency;
} TopCounts;

typedef struct TopService {
        TopCounts c;
        TopCounts *routes;
        size_t n_routes;
        uint64_t routes_folded;
} TopService;

typedef struct TopHealth {
        uint64_t exchanges, ringbuf_drops, entries_dropped;
        uint64_t ringbuf_used_bytes, ringbuf_size_bytes, cpu_usec;
} TopHealth;

typedef struct TopSnapshot {
        uint64_t since_usec, now_usec, monotonic_usec;
        TopHealth health;
        TopService *services;
        size_t n_services;
} TopSnapshot;

/**
 * top_snapshot_parse() - a `services` answer
 * @text: the answer line: the snapshot object itself, or the control
 *        protocol's envelope {"ok":true,...,"services":{snapshot}}
 * @ret: to top_snapshot_free()
 *
 * Return: 0; -EBADMSG when it is not a snapshot (a field missing or of the
 * wrong type, a histogram that does not parse); -EPROTO when its histogram
 * parameters are not ours; -ENOMEM.
 */
int top_snapshot_parse(const char *text, size_t len, TopSnapshot **ret);
TopSnapshot *top_snapshot_free(TopSnapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(TopSnapshot *, top_snapshot_free);

typedef enum TopSort {
        TOP_SORT_RATE,                  /* requests/s, most first */
        TOP_SORT_ERRORS,                /* 5xx %, then 4xx %, most first */
        TOP_SORT_LATENCY,               /* p99, slowest first */
        _TOP_SORT_MAX,
} TopSort;

typedef struct TopRow {
        const char *name, *role;        /* borrowed from the newer snapshot */
        size_t index;                   /* of the service (or route) in the newer snapshot */
        uint64_t requests, status[5], no_response, bytes;       /* in the interval */
        double requests_per_sec, bytes_per_sec, pct_4xx, pct_5xx;
        uint64_t p50, p90, p99;         /* µs; 0 when no exchange completed */
} TopRow;

typedef struct TopView {
        TopRow *rows;
        size_t n_rows;
        double interval_sec;
        double exchanges_per_sec;
        double cpu_pct;                 /* the daemon's CPU, % of one core */
        double ringbuf_pct;             /* ring buffer in use */
        uint64_t drops;                 /* ringbuf_drops + entries_dropped, cumulative */
        bool restarted;                 /* the daemon restarted between the snapshots */
} TopView;

/*
 * The rows of one interval: @prev may be NULL (then everything since the
 * daemon started, over its realtime clock). With @service_index a service
 * of @now, its routes instead of the services (SIZE_MAX: the services).
 * A row missing from @prev counts from zero; when a counter went down (a
 * restart) the whole of @now is the interval and `restarted` is set.
 * Return: 0, -ENOMEM.
 */
int top_view_build(const TopSnapshot *prev, const TopSnapshot *now, size_t service_index, TopView *ret);
void top_view_sort(TopView *v, TopSort key);
void top_view_done(TopView *v);

/* The service of @now named @name/@role, or SIZE_MAX. */
size_t top_snapshot_find(const TopSnapshot *now, const char *name, const char *role);
