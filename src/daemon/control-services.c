/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `services` answer of the control socket; see control-services.h and docs/control-protocol.md. */

#include <sys/resource.h>
#include <time.h>

#include "basic/histogram.h"
#include "daemon/control-services.h"
#include "daemon/metrics.h"

static uint64_t timeval_usec(struct timeval tv) {
        return (uint64_t) tv.tv_sec * USEC_PER_SEC + (uint64_t) tv.tv_usec;
}

static void build_health(JsonBuild *b, const ControlStatus *st) {
        struct rusage ru = {};

        (void) getrusage(RUSAGE_SELF, &ru);
        json_build_object_begin(b, "health");
        json_build_u64(b, "exchanges", st->stats ? st->stats->exchanges_complete + st->stats->exchanges_no_response +
                                                   st->stats->exchanges_uncorrelated : 0);
        json_build_u64(b, "ringbuf_drops", st->kernel ? st->kernel[KERNEL_COUNTER_RINGBUF_DROPS] : 0);
        json_build_u64(b, "entries_dropped", st->stats ? st->stats->entries_dropped : 0);
        json_build_u64(b, "ringbuf_used_bytes", st->ringbuf_used_bytes);
        json_build_u64(b, "ringbuf_size_bytes", st->ringbuf_size_bytes);
        json_build_u64(b, "cpu_usec", timeval_usec(ru.ru_utime) + timeval_usec(ru.ru_stime));
        json_build_object_end(b);
}

/* The members a row and a route share. */
static void build_counters(JsonBuild *b, const ServiceCounters *c) {
        uint64_t status[_SERVICE_STATUS_MAX] = {};

        for (unsigned m = 0; m < _SERVICE_METHOD_MAX; m++)
                for (unsigned s = 0; s < _SERVICE_STATUS_MAX; s++)
                        status[s] += c->requests[m][s];
        json_build_u64(b, "requests", service_counters_requests(c));
        json_build_object_begin(b, "status");
        for (unsigned s = SERVICE_STATUS_1XX; s <= SERVICE_STATUS_5XX; s++)
                json_build_u64(b, service_status_name(s), status[s]);
        json_build_object_end(b);
        json_build_u64(b, "no_response", status[SERVICE_STATUS_NONE]);
        json_build_u64(b, "request_bytes", c->request_bytes);
        json_build_u64(b, "response_bytes", c->response_bytes);
        json_build_u64(b, "duration_usec_sum", c->duration_usec_sum);
}

static void build_row(JsonBuild *b, const ServiceRow *r, Histogram *scratch) {
        ServiceCounters tot;

        service_row_totals(r, &tot, scratch);
        json_build_object_begin(b, NULL);
        json_build_string(b, "unit", r->unit);
        json_build_string(b, "role", r->role == CONN_ROLE_SERVER ? "server" : r->role == CONN_ROLE_CLIENT ? "client" : "unknown");
        build_counters(b, &tot);
        histogram_to_json(scratch, b, "latency");
        json_build_u64(b, "routes_folded", r->routes_folded);
        json_build_array_begin(b, "routes");
        for (size_t i = 0; i < r->n_routes; i++) {
                json_build_object_begin(b, NULL);
                json_build_string(b, "route", r->routes[i]->route);
                build_counters(b, &r->routes[i]->c);
                sparse_histogram_to_json(&r->routes[i]->latency, b, "latency");
                json_build_object_end(b);
        }
        json_build_array_end(b);
        json_build_object_end(b);
}

void control_services_build(JsonBuild *b, const ControlStatus *st, const Metrics *m) {
        const ServiceTable *t = metrics_table(m);
        ServiceRow *const *rows = NULL;
        Histogram *scratch;
        size_t n = t ? service_table_rows(t, &rows) : 0;

        json_build_u64(b, "since_usec", metrics_since_usec(m));
        json_build_u64(b, "now_usec", now_usec(CLOCK_REALTIME));
        json_build_u64(b, "monotonic_usec", now_usec(CLOCK_MONOTONIC));
        build_health(b, st);
        histogram_params_to_json(b, "histogram");
        json_build_u64(b, "services_folded", t ? service_table_services_folded(t) : 0);

        /* A row's latency is its routes' merged: one 8 KiB scratch histogram, not one per row. */
        scratch = malloc(sizeof(Histogram));
        json_build_array_begin(b, "services");
        for (size_t i = 0; scratch && i < n; i++)
                build_row(b, rows[i], scratch);
        json_build_array_end(b);
        if (!scratch)
                b->error = b->error ?: -ENOMEM;
        free(scratch);
}
