/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service table: RED counts (requests, errors, duration) of every
 * exchange, per service and role and, below, per route. The metrics
 * textfile (output/metrics-format.h) and the control socket's `services`
 * command (`http-tracer top`) are views of it.
 *
 * A service is the traced process's systemd unit when it runs in a
 * .service unit ("nginx.service"), otherwise "comm:NAME" (a login
 * session's curl, a container's process); with the connection's role it
 * keys a row. A route is route_fold()'s label of the request-target.
 *
 * Counted: every exchange with a request (complete, or without response)
 * that the daemon hands over, which is before sampling and the rate limit.
 * A response whose request was never seen and bytes that are not HTTP are
 * not requests: the daemon's own counters have them.
 *
 * Bounded: at most services_max rows (further services are counted in the
 * row of unit SERVICE_OTHER, per role, and in services_folded); per row at
 * most routes_max routes from the heuristic, plus one per template that
 * matched, plus "other" (further routes, counted in the row's
 * routes_folded); methods beyond the standard nine are counted as OTHER.
 * Counters only grow: the table lives as long as the daemon, across
 * reloads (only the templates change).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/histogram-sparse.h"
#include "basic/macro.h"
#include "conn/exchange.h"
#include "select/route-fold.h"

/* A row's unit: a unit name (at most 256 bytes, systemd's limit) or "comm:" and a comm. */
#define SERVICE_UNIT_MAX 256u
/* The unit of the row that takes the services past services_max; the route past routes_max. */
#define SERVICE_OTHER "other"
/* Bounds of the duration histogram (le) at most (= CONFIG_METRICS_BUCKETS_MAX). */
#define SERVICE_BOUNDS_MAX 32u

typedef enum ServiceMethod {
        SERVICE_METHOD_GET,
        SERVICE_METHOD_HEAD,
        SERVICE_METHOD_POST,
        SERVICE_METHOD_PUT,
        SERVICE_METHOD_DELETE,
        SERVICE_METHOD_PATCH,
        SERVICE_METHOD_OPTIONS,
        SERVICE_METHOD_CONNECT,
        SERVICE_METHOD_TRACE,
        SERVICE_METHOD_OTHER,         /* any other token, or none known */
        _SERVICE_METHOD_MAX,
} ServiceMethod;

typedef enum ServiceStatus {
        SERVICE_STATUS_1XX,
        SERVICE_STATUS_2XX,
        SERVICE_STATUS_3XX,
        SERVICE_STATUS_4XX,
        SERVICE_STATUS_5XX,
        SERVICE_STATUS_OTHER,         /* a status outside 100-599 */
        SERVICE_STATUS_NONE,          /* no response: the request ended without one */
        _SERVICE_STATUS_MAX,
} ServiceStatus;

const char *service_method_name(ServiceMethod m);        /* "GET" ... "OTHER" */
const char *service_status_name(ServiceStatus s);        /* "1xx" ... "5xx", "other", "none" */
ServiceMethod service_method_from_string(const char *method);
ServiceStatus service_status_from_code(unsigned status);

/* The counters of one route of a row, or (service_row_totals()) of a whole row. */
typedef struct ServiceCounters {
        uint64_t requests[_SERVICE_METHOD_MAX][_SERVICE_STATUS_MAX];
        uint64_t request_bytes, response_bytes;     /* body bytes */
        /* Durations: of requests that got a response (request's first byte to response's last). */
        uint64_t duration_count;
        uint64_t duration_usec_sum;
        uint64_t le[SERVICE_BOUNDS_MAX + 1];         /* per bound, not cumulative; the last is +Inf */
} ServiceCounters;

typedef struct ServiceRoute {
        char route[ROUTE_BUF_SIZE];
        uint64_t hash;
        ServiceCounters c;
        SparseHistogram latency;      /* the same durations, in basic/histogram.h's buckets */
} ServiceRoute;

typedef struct ServiceRow {
        char unit[SERVICE_UNIT_MAX + 1];
        ConnRole role;
        uint64_t routes_folded;       /* requests counted under route "other" for want of room */
        size_t n_heuristic;           /* routes named by the heuristic (capped by routes_max) */
        ServiceRoute **routes;
        size_t n_routes, allocated;
} ServiceRow;

/*
 * The service of a connection, into buf: its unit (a .service), or -ENOENT
 * when it has none (then "comm:NAME" is used). Injected for tests; NULL:
 * the connection's unit (conn_info_unit(), resolved when it opened).
 */
typedef int (*ServiceUnitFn)(void *userdata, const ConnInfo *c, char *buf, size_t size);

typedef struct ServiceTableOptions {
        size_t services_max;
        size_t routes_max;
        uint64_t bounds_usec[SERVICE_BOUNDS_MAX];   /* ascending */
        size_t n_bounds;
        ServiceUnitFn unit;
        void *unit_userdata;
} ServiceTableOptions;

typedef struct ServiceTable ServiceTable;

/* Return: 0, -EINVAL (no bounds, too many, not ascending; no caps), -ENOMEM. */
int service_table_new(const ServiceTableOptions *o, ServiceTable **ret);
ServiceTable *service_table_free(ServiceTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceTable *, service_table_free);

/* The templates for exchanges from now on (borrowed; NULL: none). Rows and routes stay. */
void service_table_set_routes(ServiceTable *t, const RouteFold *f);

/* Count one exchange. Never fails: what cannot be counted for want of memory is counted in oom. */
void service_table_add(ServiceTable *t, const Exchange *x);

/* The rows, in the order they were first seen. */
size_t service_table_rows(const ServiceTable *t, ServiceRow *const **ret);
const ServiceTableOptions *service_table_options(const ServiceTable *t);
/* Requests counted in an SERVICE_OTHER row because services_max rows were taken. */
uint64_t service_table_services_folded(const ServiceTable *t);
/* Exchanges (or latency samples) not counted because memory could not be had. */
uint64_t service_table_oom(const ServiceTable *t);
/* Bytes the table holds. */
size_t service_table_memory(const ServiceTable *t);

/* A row's totals: the sum of its routes; @ret_latency (may be NULL) is reset, then filled. */
void service_row_totals(const ServiceRow *r, ServiceCounters *ret, Histogram *ret_latency);
/* Requests of a counter set: every method and status class. */
uint64_t service_counters_requests(const ServiceCounters *c);
