/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition of the service table; see metrics-format.h. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output/metrics-format.h"

void metrics_format_seconds(uint64_t usec, char buf[static 32]) {
        uint64_t s = usec / USEC_PER_SEC, frac = usec % USEC_PER_SEC;
        int n;

        n = snprintf(buf, 32, "%" PRIu64, s);
        if (frac == 0)
                return;
        n += snprintf(buf + n, 32 - (size_t) n, ".%06" PRIu64, frac);
        while (buf[n - 1] == '0')
                buf[--n] = 0;
}

/* A label value: the format's escapes, and '?' for what is not printable ASCII. */
static void put_value(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '\\' || c == '"') {
                        fputc('\\', f);
                        fputc(c, f);
                } else if (c == '\n')
                        fputs("\\n", f);
                else
                        fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
        }
}

static void put_label(FILE *f, const char *name, const char *value, bool first) {
        fprintf(f, "%s%s=\"", first ? "" : ",", name);
        put_value(f, value);
        fputc('"', f);
}

static const char *role_name(ConnRole r) {
        return r == CONN_ROLE_SERVER ? "server" : r == CONN_ROLE_CLIENT ? "client" : "unknown";
}

static void put_row_labels(FILE *f, const ServiceRow *r) {
        put_label(f, "unit", r->unit, true);
        put_label(f, "role", role_name(r->role), false);
}

static void put_header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_requests(FILE *f, ServiceRow *const *rows, size_t n) {
        put_header(f, "http_tracer_requests_total", "counter",
                   "HTTP requests seen, by the traced process's service, its role, the method, the response's status "
                   "class (none: no response) and the route.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < rows[i]->n_routes; k++) {
                        const ServiceRoute *x = rows[i]->routes[k];

                        for (unsigned m = 0; m < _SERVICE_METHOD_MAX; m++)
                                for (unsigned s = 0; s < _SERVICE_STATUS_MAX; s++) {
                                        if (x->c.requests[m][s] == 0)
                                                continue;
                                        fputs("http_tracer_requests_total{", f);
                                        put_row_labels(f, rows[i]);
                                        put_label(f, "method", service_method_name(m), false);
                                        put_label(f, "status_class", service_status_name(s), false);
                                        put_label(f, "route", x->route, false);
                                        fprintf(f, "} %" PRIu64 "\n", x->c.requests[m][s]);
                                }
                }
}

static void put_duration(FILE *f, const ServiceTableOptions *o, ServiceRow *const *rows, size_t n) {
        static const char name[] = "http_tracer_request_duration_seconds";
        char v[32];

        put_header(f, name, "histogram",
                   "Time from a request's first byte to its response's last byte, of requests that got a response.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < rows[i]->n_routes; k++) {
                        const ServiceRoute *x = rows[i]->routes[k];
                        uint64_t cum = 0;

                        for (size_t b = 0; b <= o->n_bounds; b++) {
                                cum += x->c.le[b];
                                if (b < o->n_bounds)
                                        metrics_format_seconds(o->bounds_usec[b], v);
                                fprintf(f, "%s_bucket{", name);
                                put_row_labels(f, rows[i]);
                                put_label(f, "route", x->route, false);
                                put_label(f, "le", b < o->n_bounds ? v : "+Inf", false);
                                fprintf(f, "} %" PRIu64 "\n", cum);
                        }
                        metrics_format_seconds(x->c.duration_usec_sum, v);
                        fprintf(f, "%s_sum{", name);
                        put_row_labels(f, rows[i]);
                        put_label(f, "route", x->route, false);
                        fprintf(f, "} %s\n%s_count{", v, name);
                        put_row_labels(f, rows[i]);
                        put_label(f, "route", x->route, false);
                        fprintf(f, "} %" PRIu64 "\n", x->c.duration_count);
                }
}

static void put_bytes(FILE *f, ServiceRow *const *rows, size_t n, bool response) {
        const char *name = response ? "http_tracer_response_body_bytes_total" : "http_tracer_request_body_bytes_total";

        put_header(f, name, "counter", response ? "Bytes of response bodies (decoded size when chunked)."
                                                : "Bytes of request bodies (decoded size when chunked).");
        for (size_t i = 0; i < n; i++) {
                ServiceCounters c;

                service_row_totals(rows[i], &c, NULL);
                fprintf(f, "%s{", name);
                put_row_labels(f, rows[i]);
                fprintf(f, "} %" PRIu64 "\n", response ? c.response_bytes : c.request_bytes);
        }
}

static void put_folded(FILE *f, const ServiceTable *t, ServiceRow *const *rows, size_t n) {
        put_header(f, "http_tracer_routes_folded_total", "counter",
                   "Requests counted under route=\"other\" because the service had metrics.routes_max routes already.");
        for (size_t i = 0; i < n; i++) {
                uint64_t v = 0;
                bool seen = false;

                /* One sample per unit, both roles summed. */
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(rows[j]->unit, rows[i]->unit) == 0;
                if (seen)
                        continue;
                for (size_t j = i; j < n; j++)
                        if (strcmp(rows[j]->unit, rows[i]->unit) == 0)
                                v += rows[j]->routes_folded;
                fputs("http_tracer_routes_folded_total{", f);
                put_label(f, "unit", rows[i]->unit, true);
                fprintf(f, "} %" PRIu64 "\n", v);
        }
        put_header(f, "http_tracer_services_folded_total", "counter",
                   "Requests counted under unit=\"other\" because metrics.services_max services were counted already.");
        fprintf(f, "http_tracer_services_folded_total %" PRIu64 "\n", service_table_services_folded(t));
}

int metrics_format(FILE *f, const MetricsFormatInput *in) {
        ServiceRow *const *rows;
        size_t n = service_table_rows(in->table, &rows);
        char v[32];

        put_requests(f, rows, n);
        put_duration(f, service_table_options(in->table), rows, n);
        put_bytes(f, rows, n, false);
        put_bytes(f, rows, n, true);
        put_folded(f, in->table, rows, n);

        put_header(f, "http_tracer_dropped_total", "counter",
                   "What the tracer could not see or deliver, by reason (docs/metrics.md says what each one counts).");
        for (size_t i = 0; i < in->n_dropped; i++) {
                fputs("http_tracer_dropped_total{", f);
                put_label(f, "reason", in->dropped[i].reason, true);
                fprintf(f, "} %" PRIu64 "\n", in->dropped[i].value);
        }

        put_header(f, "http_tracer_start_time_seconds", "gauge",
                   "When these counters began (the daemon's start; reloads keep them), in seconds since the epoch.");
        metrics_format_seconds(in->since_usec, v);
        fprintf(f, "http_tracer_start_time_seconds %s\n", v);

        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
