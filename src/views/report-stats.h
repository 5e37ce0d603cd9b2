/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The aggregation behind `http-tracer report`: journal entries, already
 * decoded into a ReportEntry, summed per service (systemd unit or comm, and
 * role) and per route. Pure and bounded: percentiles come from histograms
 * (basic/histogram.h), services and routes are capped and what went past a
 * cap is counted, the time series has a fixed number of bins whose width
 * doubles as the covered time grows. Memory: at most REPORT_SERVICES_MAX ×
 * (REPORT_ROUTES_MAX + 2) histograms of 8 KiB (about 18 MiB), whatever the
 * journal's size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/histogram.h"

/* Services (unit or comm × role) kept; entries of further ones are counted in services_dropped. */
#define REPORT_SERVICES_MAX 64u
/* Distinct paths kept per service; later ones are summed as route "(other)". */
#define REPORT_ROUTES_MAX 32u
/* Slowest exchanges kept per service and per route, with their cursors. */
#define REPORT_SLOWEST 5u
/* Time-series bins per service: enough points for a plot, fixed memory. */
#define REPORT_BINS 120u
/* The first bin width; doubled whenever the entries outgrow REPORT_BINS bins. */
#define REPORT_BIN_WIDTH_MIN_USEC (1 * USEC_PER_SEC)

#define REPORT_ROUTE_OTHER "(other)"

typedef enum ReportKind {
        REPORT_KIND_COMPLETE,           /* request and response */
        REPORT_KIND_NO_RESPONSE,
        REPORT_KIND_UNCORRELATED,       /* response without its request */
        REPORT_KIND_PARSE_ERROR,
} ReportKind;

/* One journal entry's fields; strings borrowed, NULL when absent. */
typedef struct ReportEntry {
        ReportKind kind;
        const char *unit;               /* OBJECT_SYSTEMD_UNIT */
        const char *comm;               /* OBJECT_COMM */
        const char *role;               /* HTTP_ROLE */
        const char *method, *target;
        const char *route;              /* HTTP_PATH folded (select/route-fold.h); NULL: "(none)" */
        unsigned status;                /* HTTP_STATUS, 0 if none */
        bool has_duration;
        uint64_t duration_usec;
        uint64_t request_bytes, response_bytes;
        uint64_t realtime_usec;
} ReportEntry;

typedef struct ReportSlow {
        uint64_t duration_usec, realtime_usec;
        unsigned status;
        char *method, *target, *cursor;
} ReportSlow;

typedef struct ReportCounts {
        uint64_t requests;              /* complete + no response + uncorrelated */
        uint64_t status[5];             /* 1xx .. 5xx */
        uint64_t no_response;
        uint64_t request_bytes, response_bytes;
        uint64_t max_usec;              /* exact */
        Histogram latency;              /* complete exchanges' durations */
        ReportSlow slowest[REPORT_SLOWEST];     /* slowest first */
        size_t n_slowest;
} ReportCounts;

typedef struct ReportBin {
        uint64_t status[5], no_response;
        uint64_t durations, duration_sum, duration_max;
} ReportBin;

typedef struct ReportRoute {
        char *route;
        ReportCounts c;
} ReportRoute;

typedef struct ReportService {
        char *name;                     /* unit, or "comm:NAME" */
        char *role;
        ReportCounts c;
        uint64_t parse_errors;
        ReportRoute *routes[REPORT_ROUTES_MAX + 1];     /* the last one: "(other)" */
        size_t n_routes;
        uint64_t routes_folded;         /* requests counted under "(other)" */
        ReportBin bins[REPORT_BINS];
} ReportService;

typedef struct Report {
        ReportService *services[REPORT_SERVICES_MAX];
        size_t n_services;
        uint64_t entries;               /* entries added */
        uint64_t services_dropped;      /* entries of services past the cap */
        uint64_t first_usec, last_usec; /* realtime of the first and last entry */
        uint64_t bin_start_usec, bin_width_usec;
} Report;

int report_new(Report **ret);
Report *report_free(Report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Report *, report_free);

/*
 * Would an exchange of @duration_usec be among the slowest kept for its
 * service or route? Lets the reader fetch a cursor only when it is.
 */
bool report_wants_cursor(const Report *r, const ReportEntry *e);

/*
 * Add one entry, in time order (the bins assume it: an earlier entry lands
 * in the first bin). @cursor may be NULL. Return: 0, -ENOMEM.
 */
int report_add(Report *r, const ReportEntry *e, const char *cursor);

/* Sort services by name and role, routes by requests (most first) and name. */
void report_sort(Report *r);

/* The service name an entry is counted under, as report_add() forms it. */
int report_service_name(const ReportEntry *e, char **ret);

/*
 * The latency at quantile @q: the histogram's (within HISTOGRAM_RELATIVE_ERROR
 * of the exact sample), never above the exact max.
 */
uint64_t report_quantile(const ReportCounts *c, double q);

/* Count of a status class, 1..5 -> "1xx".."5xx". */
extern const char *const report_status_class[5];
