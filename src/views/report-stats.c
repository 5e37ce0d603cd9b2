/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE 1  /* asprintf, strptime */
/* Per-service and per-route sums of journal entries; see report-stats.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/report-stats.h"

const char *const report_status_class[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

static void counts_done(ReportCounts *c) {
        for (size_t i = 0; i < c->n_slowest; i++) {
                free(c->slowest[i].method);
                free(c->slowest[i].target);
                free(c->slowest[i].cursor);
        }
        c->n_slowest = 0;
}

static ReportRoute *route_free(ReportRoute *rt) {
        if (!rt)
                return NULL;
        counts_done(&rt->c);
        free(rt->route);
        return mfree(rt);
}

static ReportService *service_free(ReportService *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_routes; i++)
                route_free(s->routes[i]);
        counts_done(&s->c);
        free(s->name);
        free(s->role);
        return mfree(s);
}

int report_new(Report **ret) {
        Report *r = calloc(1, sizeof(Report));

        if (!r)
                return -ENOMEM;
        r->bin_width_usec = REPORT_BIN_WIDTH_MIN_USEC;
        *ret = r;
        return 0;
}

Report *report_free(Report *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_services; i++)
                service_free(r->services[i]);
        return mfree(r);
}

int report_service_name(const ReportEntry *e, char **ret) {
        char *s;

        if (e->unit && *e->unit)
                s = strdup(e->unit);
        else if (asprintf(&s, "comm:%s", e->comm && *e->comm ? e->comm : "?") < 0)
                s = NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static const char *entry_role(const ReportEntry *e) {
        return e->role && *e->role ? e->role : "unknown";
}

static ReportService *find_service(const Report *r, const char *name, const char *role) {
        for (size_t i = 0; i < r->n_services; i++)
                if (strcmp(r->services[i]->name, name) == 0 && strcmp(r->services[i]->role, role) == 0)
                        return r->services[i];
        return NULL;
}

static const char *entry_route(const ReportEntry *e) {
        /* No path: CONNECT, "*", an uncorrelated response, a request whose head was not kept. */
        return e->route && *e->route ? e->route : "(none)";
}

static ReportRoute *find_route(const ReportService *s, const char *route) {
        for (size_t i = 0; i < s->n_routes; i++)
                if (strcmp(s->routes[i]->route, route) == 0)
                        return s->routes[i];
        return NULL;
}

static bool slow_enough(const ReportCounts *c, const ReportEntry *e) {
        return e->kind == REPORT_KIND_COMPLETE && e->has_duration &&
               (c->n_slowest < REPORT_SLOWEST || e->duration_usec > c->slowest[REPORT_SLOWEST - 1].duration_usec);
}

bool report_wants_cursor(const Report *r, const ReportEntry *e) {
        _cleanup_(freep) char *name = NULL;
        const ReportService *s;
        const ReportRoute *rt;

        if (e->kind != REPORT_KIND_COMPLETE || !e->has_duration)
                return false;
        if (report_service_name(e, &name) < 0)
                return true;
        s = find_service(r, name, entry_role(e));
        if (!s)
                return true;
        if (slow_enough(&s->c, e))
                return true;
        rt = find_route(s, entry_route(e));
        return !rt || slow_enough(&rt->c, e);
}

static int slow_add(ReportCounts *c, const ReportEntry *e, const char *cursor) {
        ReportSlow n = {
                .duration_usec = e->duration_usec,
                .realtime_usec = e->realtime_usec,
                .status = e->status,
        };
        size_t at;

        if (!slow_enough(c, e))
                return 0;
        n.method = strdup(e->method ?: "");
        n.target = strdup(e->target ?: "");
        n.cursor = strdup(cursor ?: "");
        if (!n.method || !n.target || !n.cursor) {
                free(n.method);
                free(n.target);
                free(n.cursor);
                return -ENOMEM;
        }
        if (c->n_slowest == REPORT_SLOWEST) {
                ReportSlow *last = &c->slowest[REPORT_SLOWEST - 1];

                free(last->method);
                free(last->target);
                free(last->cursor);
                c->n_slowest--;
        }
        /* Equal durations keep the earlier entry first. */
        for (at = c->n_slowest; at > 0 && c->slowest[at - 1].duration_usec < n.duration_usec; at--)
                c->slowest[at] = c->slowest[at - 1];
        c->slowest[at] = n;
        c->n_slowest++;
        return 0;
}

static int counts_add(ReportCounts *c, const ReportEntry *e, const char *cursor) {
        if (e->kind == REPORT_KIND_PARSE_ERROR)
                return 0;
        c->requests++;
        if (e->status >= 100 && e->status <= 599)
                c->status[e->status / 100 - 1]++;
        else if (e->status != 0)
                c->status[1]++;         /* as the tracer's priorities do: an odd status counts as 2xx */
        if (e->kind == REPORT_KIND_NO_RESPONSE)
                c->no_response++;
        c->request_bytes += e->request_bytes;
        c->response_bytes += e->response_bytes;
        if (e->kind == REPORT_KIND_COMPLETE && e->has_duration) {
                histogram_record(&c->latency, e->duration_usec);
                c->max_usec = MAX(c->max_usec, e->duration_usec);
        }
        return slow_add(c, e, cursor);
}

/* Halve the time resolution of every service's bins: pairs are summed. */
static void bins_rescale(Report *r) {
        for (size_t k = 0; k < r->n_services; k++) {
                ReportBin *b = r->services[k]->bins;

                for (unsigned i = 0; i < REPORT_BINS; i++) {
                        ReportBin m = {};

                        if (2 * i < REPORT_BINS) {
                                const ReportBin *x = &b[2 * i], *y = &b[MIN(2 * i + 1, REPORT_BINS - 1)];
                                bool two = 2 * i + 1 < REPORT_BINS;

                                m = *x;
                                if (two) {
                                        for (unsigned c = 0; c < 5; c++)
                                                m.status[c] += y->status[c];
                                        m.no_response += y->no_response;
                                        m.durations += y->durations;
                                        m.duration_sum += y->duration_sum;
                                        m.duration_max = MAX(m.duration_max, y->duration_max);
                                }
                        }
                        b[i] = m;
                }
        }
        r->bin_width_usec *= 2;
}

static void bin_add(Report *r, ReportService *s, const ReportEntry *e) {
        ReportBin *b;
        uint64_t t = e->realtime_usec, i;

        if (e->kind == REPORT_KIND_PARSE_ERROR)
                return;
        while (t >= r->bin_start_usec && (t - r->bin_start_usec) / r->bin_width_usec >= REPORT_BINS)
                bins_rescale(r);
        i = t < r->bin_start_usec ? 0 : (t - r->bin_start_usec) / r->bin_width_usec;
        b = &s->bins[i];
        if (e->status >= 100 && e->status <= 599)
                b->status[e->status / 100 - 1]++;
        else if (e->status != 0)
                b->status[1]++;
        if (e->kind == REPORT_KIND_NO_RESPONSE)
                b->no_response++;
        if (e->kind == REPORT_KIND_COMPLETE && e->has_duration) {
                b->durations++;
                b->duration_sum += e->duration_usec;
                b->duration_max = MAX(b->duration_max, e->duration_usec);
        }
}

static int service_add(Report *r, const ReportEntry *e, ReportService **ret) {
        _cleanup_(freep) char *name = NULL;
        ReportService *s;
        int k;

        k = report_service_name(e, &name);
        if (k < 0)
                return k;
        s = find_service(r, name, entry_role(e));
        if (s) {
                *ret = s;
                return 0;
        }
        if (r->n_services >= REPORT_SERVICES_MAX) {
                *ret = NULL;
                return 0;
        }
        s = calloc(1, sizeof(ReportService));
        if (!s)
                return -ENOMEM;
        s->role = strdup(entry_role(e));
        if (!s->role) {
                free(s);
                return -ENOMEM;
        }
        s->name = TAKE_PTR(name);
        r->services[r->n_services++] = s;
        *ret = s;
        return 0;
}

static int route_get(ReportService *s, const ReportEntry *e, ReportRoute **ret) {
        const char *name = entry_route(e);
        ReportRoute *rt = find_route(s, name);
        bool other = false;

        if (!rt && s->n_routes >= REPORT_ROUTES_MAX) {
                name = REPORT_ROUTE_OTHER;
                other = true;
                rt = find_route(s, name);
        }
        if (!rt) {
                rt = calloc(1, sizeof(ReportRoute));
                if (!rt)
                        return -ENOMEM;
                rt->route = strdup(name);
                if (!rt->route) {
                        free(rt);
                        return -ENOMEM;
                }
                s->routes[s->n_routes++] = rt;
        }
        if (other || strcmp(rt->route, REPORT_ROUTE_OTHER) == 0)
                s->routes_folded++;
        *ret = rt;
        return 0;
}

int report_add(Report *r, const ReportEntry *e, const char *cursor) {
        ReportService *s;
        ReportRoute *rt;
        int k;

        k = service_add(r, e, &s);
        if (k < 0)
                return k;
        if (!s) {
                r->services_dropped++;
                return 0;
        }

        if (r->entries == 0) {
                r->first_usec = e->realtime_usec;
                r->bin_start_usec = e->realtime_usec - e->realtime_usec % REPORT_BIN_WIDTH_MIN_USEC;
        }
        bin_add(r, s, e);
        r->last_usec = MAX(r->last_usec, e->realtime_usec);
        r->entries++;

        if (e->kind == REPORT_KIND_PARSE_ERROR) {
                s->parse_errors++;
                return 0;
        }
        k = counts_add(&s->c, e, cursor);
        if (k < 0)
                return k;
        k = route_get(s, e, &rt);
        if (k < 0)
                return k;
        return counts_add(&rt->c, e, cursor);
}

static int cmp_service(const void *a, const void *b) {
        const ReportService *x = *(ReportService *const *) a, *y = *(ReportService *const *) b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : strcmp(x->role, y->role);
}

static int cmp_route(const void *a, const void *b) {
        const ReportRoute *x = *(ReportRoute *const *) a, *y = *(ReportRoute *const *) b;

        if (x->c.requests != y->c.requests)
                return x->c.requests > y->c.requests ? -1 : 1;
        return strcmp(x->route, y->route);
}

void report_sort(Report *r) {
        qsort(r->services, r->n_services, sizeof(r->services[0]), cmp_service);
        for (size_t i = 0; i < r->n_services; i++)
                qsort(r->services[i]->routes, r->services[i]->n_routes, sizeof(ReportRoute *), cmp_route);
}

uint64_t report_quantile(const ReportCounts *c, double q) {
        return MIN(histogram_quantile(&c->latency, q), c->max_usec);
}
