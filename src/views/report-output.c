/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The report as a text table, as JSON, and as summary journal entries. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "basic/json-build.h"
#include "output/entry.h"
#include "views/report.h"

/* A report of 64 services × 33 routes with their slowest exchanges fits easily. */
#define REPORT_JSON_MAX (64u << 20)

static const char *dur(char buf[static FORMAT_DURATION_MAX], uint64_t usec) {
        return format_duration(buf, usec * NSEC_PER_USEC);
}

static void print_counts_row(FILE *f, const char *name, const ReportCounts *c) {
        char p50[FORMAT_DURATION_MAX], p90[FORMAT_DURATION_MAX], p99[FORMAT_DURATION_MAX],
             max[FORMAT_DURATION_MAX];

        fprintf(f, "  %-36.36s %8" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %9s %9s %9s %9s %11" PRIu64 "\n",
                name, c->requests, c->status[3], c->status[4], c->no_response,
                dur(p50, report_quantile(c, 0.50)),
                dur(p90, report_quantile(c, 0.90)),
                dur(p99, report_quantile(c, 0.99)),
                dur(max, c->max_usec), c->response_bytes);
}

int report_print_text(const Report *r, FILE *f) {
        if (r->n_services == 0)
                fprintf(f, "No http-tracer exchanges matched.\n");

        for (size_t i = 0; i < r->n_services; i++) {
                const ReportService *s = r->services[i];

                fprintf(f, "%s%s (%s): %" PRIu64 " requests, 1xx %" PRIu64 ", 2xx %" PRIu64 ", 3xx %" PRIu64
                        ", 4xx %" PRIu64 ", 5xx %" PRIu64 ", no response %" PRIu64 ", parse errors %" PRIu64 "\n",
                        i > 0 ? "\n" : "", s->name, s->role, s->c.requests, s->c.status[0], s->c.status[1],
                        s->c.status[2], s->c.status[3], s->c.status[4], s->c.no_response, s->parse_errors);
                fprintf(f, "  %-36s %8s %6s %6s %6s %9s %9s %9s %9s %11s\n",
                        "ROUTE", "REQS", "4XX", "5XX", "NORESP", "P50", "P90", "P99", "MAX", "RESP-BYTES");
                print_counts_row(f, "(all)", &s->c);
                for (size_t k = 0; k < s->n_routes; k++)
                        print_counts_row(f, s->routes[k]->route, &s->routes[k]->c);
                if (s->c.n_slowest > 0)
                        fprintf(f, "  slowest:\n");
                for (size_t k = 0; k < s->c.n_slowest; k++) {
                        const ReportSlow *w = &s->c.slowest[k];
                        char d[FORMAT_DURATION_MAX];

                        fprintf(f, "    %9s %3u %s %.60s  journalctl -c '%s' -n 1\n", dur(d, w->duration_usec),
                                w->status, w->method, w->target, w->cursor);
                }
        }
        if (r->services_dropped > 0)
                fprintf(f, "\n%" PRIu64 " entries of services beyond the first %u not counted.\n",
                        r->services_dropped, REPORT_SERVICES_MAX);
        return ferror(f) ? -EIO : 0;
}

static void json_status(JsonBuild *b, const ReportCounts *c) {
        json_build_object_begin(b, "status");
        for (unsigned i = 0; i < 5; i++)
                json_build_u64(b, report_status_class[i], c->status[i]);
        json_build_object_end(b);
}

static void json_counts(JsonBuild *b, const ReportCounts *c) {
        json_build_u64(b, "requests", c->requests);
        json_status(b, c);
        json_build_u64(b, "no_response", c->no_response);
        json_build_u64(b, "request_bytes", c->request_bytes);
        json_build_u64(b, "response_bytes", c->response_bytes);
        json_build_u64(b, "duration_usec_sum", c->latency.sum);
        json_build_object_begin(b, "duration_usec");
        json_build_u64(b, "p50", report_quantile(c, 0.50));
        json_build_u64(b, "p90", report_quantile(c, 0.90));
        json_build_u64(b, "p99", report_quantile(c, 0.99));
        json_build_u64(b, "max", c->max_usec);
        json_build_object_end(b);
        histogram_to_json(&c->latency, b, "latency");
        json_build_array_begin(b, "slowest");
        for (size_t i = 0; i < c->n_slowest; i++) {
                const ReportSlow *w = &c->slowest[i];

                json_build_object_begin(b, NULL);
                json_build_u64(b, "duration_usec", w->duration_usec);
                json_build_u64(b, "status", w->status);
                json_build_string(b, "method", w->method);
                json_build_string(b, "target", w->target);
                json_build_u64(b, "realtime_usec", w->realtime_usec);
                json_build_string(b, "cursor", w->cursor);
                json_build_object_end(b);
        }
        json_build_array_end(b);
}

int report_print_json(const Report *r, uint64_t since_usec, uint64_t until_usec, FILE *f) {
        _cleanup_(freep) char *s = NULL;
        JsonBuild b;
        size_t len;
        int k;

        json_build_init(&b, REPORT_JSON_MAX);
        json_build_object_begin(&b, NULL);
        json_build_u64(&b, "since_usec", since_usec);
        json_build_u64(&b, "until_usec", until_usec);
        json_build_u64(&b, "entries", r->entries);
        json_build_u64(&b, "services_dropped", r->services_dropped);
        histogram_params_to_json(&b, "histogram");
        json_build_array_begin(&b, "services");
        for (size_t i = 0; i < r->n_services; i++) {
                const ReportService *sv = r->services[i];

                json_build_object_begin(&b, NULL);
                json_build_string(&b, "unit", sv->name);
                json_build_string(&b, "role", sv->role);
                json_counts(&b, &sv->c);
                json_build_u64(&b, "parse_errors", sv->parse_errors);
                json_build_u64(&b, "routes_folded", sv->routes_folded);
                json_build_array_begin(&b, "routes");
                for (size_t k2 = 0; k2 < sv->n_routes; k2++) {
                        json_build_object_begin(&b, NULL);
                        json_build_string(&b, "route", sv->routes[k2]->route);
                        json_counts(&b, &sv->routes[k2]->c);
                        json_build_object_end(&b);
                }
                json_build_array_end(&b);
                json_build_object_end(&b);
        }
        json_build_array_end(&b);
        json_build_object_end(&b);

        k = json_build_finish(&b, true, &s, &len);
        json_build_done(&b);
        if (k < 0)
                return k;
        if (fwrite(s, 1, len, f) != len)
                return -EIO;
        return fflush(f) == 0 ? 0 : -EIO;
}

/* The routes with the most 4xx+5xx, as "route 5xx=N 4xx=N; ..." (at most three). */
static void top_error_routes(const ReportService *s, char *buf, size_t size) {
        const ReportRoute *best[3] = {};
        size_t n = 0, at = 0;

        for (size_t i = 0; i < s->n_routes; i++) {
                const ReportRoute *rt = s->routes[i];
                uint64_t e = rt->c.status[3] + rt->c.status[4];
                size_t j;

                if (e == 0)
                        continue;
                for (j = n; j > 0 && best[j - 1]->c.status[3] + best[j - 1]->c.status[4] < e; j--)
                        if (j < ELEMENTSOF(best))
                                best[j] = best[j - 1];
                if (j < ELEMENTSOF(best)) {
                        best[j] = rt;
                        n = MIN(n + 1, ELEMENTSOF(best));
                }
        }
        buf[0] = 0;
        for (size_t i = 0; i < n && at < size; i++) {
                int w = snprintf(buf + at, size - at, "%s%s 5xx=%" PRIu64 " 4xx=%" PRIu64, i > 0 ? "; " : "",
                                 best[i]->route, best[i]->c.status[4], best[i]->c.status[3]);
                if (w < 0)
                        break;
                at += (size_t) w;
        }
}

int report_send_summaries(const Report *r, uint64_t since_usec, uint64_t until_usec) {
        for (size_t i = 0; i < r->n_services; i++) {
                const ReportService *s = r->services[i];
                char p50[FORMAT_DURATION_MAX], p99[FORMAT_DURATION_MAX], top[1024];
                uint64_t q50 = report_quantile(&s->c, 0.50), q99 = report_quantile(&s->c, 0.99);
                int k;

                top_error_routes(s, top, sizeof(top));
                k = sd_journal_send(
                        "MESSAGE=%s (%s): %" PRIu64 " requests, %" PRIu64 " 4xx, %" PRIu64 " 5xx, %" PRIu64
                        " without response, p50 %s, p99 %s", s->name, s->role, s->c.requests, s->c.status[3],
                        s->c.status[4], s->c.no_response, dur(p50, q50), dur(p99, q99),
                        "MESSAGE_ID=" FORMAT_MESSAGE_ID_REPORT_SUMMARY,
                        "PRIORITY=%d", s->c.status[4] > 0 ? 5 : 6,
                        "SYSLOG_IDENTIFIER=" REPORT_SYSLOG_IDENTIFIER,
                        "REPORT_UNIT=%s", s->name,
                        "REPORT_ROLE=%s", s->role,
                        "REPORT_SINCE_USEC=%" PRIu64, since_usec,
                        "REPORT_UNTIL_USEC=%" PRIu64, until_usec,
                        "REPORT_REQUESTS=%" PRIu64, s->c.requests,
                        "REPORT_1XX=%" PRIu64, s->c.status[0],
                        "REPORT_2XX=%" PRIu64, s->c.status[1],
                        "REPORT_3XX=%" PRIu64, s->c.status[2],
                        "REPORT_4XX=%" PRIu64, s->c.status[3],
                        "REPORT_5XX=%" PRIu64, s->c.status[4],
                        "REPORT_NO_RESPONSE=%" PRIu64, s->c.no_response,
                        "REPORT_P50_USEC=%" PRIu64, q50,
                        "REPORT_P99_USEC=%" PRIu64, q99,
                        "REPORT_MAX_USEC=%" PRIu64, s->c.max_usec,
                        "REPORT_TOP_ERROR_ROUTES=%s", top,
                        NULL);
                if (k < 0)
                        return k;
        }
        return 0;
}
