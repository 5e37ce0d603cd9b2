/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `top`'s rows from two `services` snapshots; see top-model.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json-value.h"
#include "views/top-model.h"

static const char *const status_keys[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

static void counts_done(TopCounts *c) {
        free(c->name);
        free(c->role);
}

TopSnapshot *top_snapshot_free(TopSnapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_services; i++) {
                for (size_t k = 0; k < s->services[i].n_routes; k++)
                        counts_done(&s->services[i].routes[k]);
                free(s->services[i].routes);
                counts_done(&s->services[i].c);
        }
        free(s->services);
        return mfree(s);
}

static int get_u64(const JsonValue *o, const char *key, uint64_t *ret) {
        return json_value_u64(json_object_get(o, key), ret) < 0 ? -EBADMSG : 0;
}

static int dup_string(const JsonValue *o, const char *key, char **ret) {
        const char *s = json_value_string(json_object_get(o, key));

        if (!s)
                return -EBADMSG;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_counts(const JsonValue *o, const char *name_key, bool with_role, TopCounts *c) {
        const JsonValue *st;
        int r;

        if (!o || o->type != JSON_OBJECT)
                return -EBADMSG;
        r = dup_string(o, name_key, &c->name);
        if (r < 0)
                return r;
        if (with_role) {
                r = dup_string(o, "role", &c->role);
                if (r < 0)
                        return r;
        }
        if (get_u64(o, "requests", &c->requests) < 0 ||
            get_u64(o, "no_response", &c->no_response) < 0 ||
            get_u64(o, "request_bytes", &c->request_bytes) < 0 ||
            get_u64(o, "response_bytes", &c->response_bytes) < 0 ||
            get_u64(o, "duration_usec_sum", &c->duration_usec_sum) < 0)
                return -EBADMSG;
        st = json_object_get(o, "status");
        if (!st || st->type != JSON_OBJECT)
                return -EBADMSG;
        for (unsigned i = 0; i < 5; i++)
                if (get_u64(st, status_keys[i], &c->status[i]) < 0)
                        return -EBADMSG;
        r = histogram_from_json(json_object_get(o, "latency"), &c->latency);
        if (r < 0)
                return -EBADMSG;
        c->latency.sum = c->duration_usec_sum;
        return 0;
}

static int parse_service(const JsonValue *o, TopService *s) {
        const JsonValue *routes;
        int r;

        r = parse_counts(o, "unit", true, &s->c);
        if (r < 0)
                return r;
        if (get_u64(o, "routes_folded", &s->routes_folded) < 0)
                s->routes_folded = 0;   /* optional */
        routes = json_object_get(o, "routes");
        if (!routes)
                return 0;
        if (routes->type != JSON_ARRAY)
                return -EBADMSG;
        if (routes->n == 0)
                return 0;
        s->routes = calloc(routes->n, sizeof(TopCounts));
        if (!s->routes)
                return -ENOMEM;
        for (size_t i = 0; i < routes->n; i++) {
                s->n_routes = i + 1;
                r = parse_counts(routes->items[i], "route", false, &s->routes[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int top_snapshot_parse(const char *text, size_t len, TopSnapshot **ret) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(top_snapshot_freep) TopSnapshot *s = NULL;
        const JsonValue *o, *h, *list;
        int r;

        r = json_parse(text, len, &root);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || root->type != JSON_OBJECT)
                return -EBADMSG;
        /* The control protocol's envelope, or the snapshot itself. */
        o = json_object_get(root, "services");
        if (o && o->type != JSON_OBJECT)
                o = root;
        if (!o)
                return -EBADMSG;

        s = calloc(1, sizeof(TopSnapshot));
        if (!s)
                return -ENOMEM;
        if (get_u64(o, "since_usec", &s->since_usec) < 0 || get_u64(o, "now_usec", &s->now_usec) < 0 ||
            get_u64(o, "monotonic_usec", &s->monotonic_usec) < 0)
                return -EBADMSG;
        r = histogram_params_check(json_object_get(o, "histogram"));
        if (r < 0)
                return r;
        h = json_object_get(o, "health");
        if (!h || h->type != JSON_OBJECT)
                return -EBADMSG;
        (void) get_u64(h, "exchanges", &s->health.exchanges);
        (void) get_u64(h, "ringbuf_drops", &s->health.ringbuf_drops);
        (void) get_u64(h, "entries_dropped", &s->health.entries_dropped);
        (void) get_u64(h, "ringbuf_used_bytes", &s->health.ringbuf_used_bytes);
        (void) get_u64(h, "ringbuf_size_bytes", &s->health.ringbuf_size_bytes);
        (void) get_u64(h, "cpu_usec", &s->health.cpu_usec);

        list = json_object_get(o, "services");
        if (!list || list->type != JSON_ARRAY)
                return -EBADMSG;
        if (list->n > 0) {
                s->services = calloc(list->n, sizeof(TopService));
                if (!s->services)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < list->n; i++) {
                s->n_services = i + 1;
                r = parse_service(list->items[i], &s->services[i]);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

size_t top_snapshot_find(const TopSnapshot *now, const char *name, const char *role) {
        for (size_t i = 0; now && i < now->n_services; i++)
                if (strcmp(now->services[i].c.name, name) == 0 && strcmp(now->services[i].c.role, role) == 0)
                        return i;
        return SIZE_MAX;
}

static const TopCounts *find_route(const TopService *s, const char *route) {
        for (size_t i = 0; s && i < s->n_routes; i++)
                if (strcmp(s->routes[i].name, route) == 0)
                        return &s->routes[i];
        return NULL;
}

/* @now - @prev (NULL: zeros); false when a counter went down. */
static bool row_delta(const TopCounts *now, const TopCounts *prev, double secs, TopRow *row) {
        _cleanup_(freep) Histogram *d = malloc(sizeof(Histogram));
        uint64_t bytes_now = now->request_bytes + now->response_bytes, bytes_prev = 0;
        bool ok = true;

        *row = (TopRow) { .name = now->name, .role = now->role };
        if (prev) {
                bytes_prev = prev->request_bytes + prev->response_bytes;
                if (prev->requests > now->requests || prev->no_response > now->no_response || bytes_prev > bytes_now)
                        ok = false;
                for (unsigned i = 0; i < 5; i++)
                        if (prev->status[i] > now->status[i])
                                ok = false;
        }
        if (!ok || !prev)
                prev = NULL, bytes_prev = 0;

        row->requests = now->requests - (prev ? prev->requests : 0);
        for (unsigned i = 0; i < 5; i++)
                row->status[i] = now->status[i] - (prev ? prev->status[i] : 0);
        row->no_response = now->no_response - (prev ? prev->no_response : 0);
        row->bytes = bytes_now - bytes_prev;
        if (secs > 0) {
                row->requests_per_sec = (double) row->requests / secs;
                row->bytes_per_sec = (double) row->bytes / secs;
        }
        if (row->requests > 0) {
                row->pct_4xx = 100.0 * (double) row->status[3] / (double) row->requests;
                row->pct_5xx = 100.0 * (double) row->status[4] / (double) row->requests;
        }

        if (d) {
                if (!prev || histogram_subtract(d, &now->latency, &prev->latency) < 0) {
                        if (prev)
                                ok = false;
                        memcpy(d, &now->latency, sizeof(Histogram));
                }
                row->p50 = histogram_quantile(d, 0.50);
                row->p90 = histogram_quantile(d, 0.90);
                row->p99 = histogram_quantile(d, 0.99);
        }
        return ok;
}

int top_view_build(const TopSnapshot *prev, const TopSnapshot *now, size_t service_index, TopView *ret) {
        const TopService *svc = NULL, *psvc = NULL;
        TopView v = {};
        size_t n;

        if (prev && (prev->since_usec != now->since_usec || prev->monotonic_usec > now->monotonic_usec ||
                     prev->health.exchanges > now->health.exchanges)) {
                prev = NULL;            /* a new daemon: start over */
                v.restarted = true;
        }
        if (prev)
                v.interval_sec = (double) (now->monotonic_usec - prev->monotonic_usec) / 1e6;   /* 0: no rates */
        else if (now->now_usec > now->since_usec)
                v.interval_sec = (double) (now->now_usec - now->since_usec) / 1e6;

        if (service_index != SIZE_MAX) {
                if (service_index >= now->n_services)
                        return -EINVAL;
                size_t k;

                svc = &now->services[service_index];
                k = prev ? top_snapshot_find(prev, svc->c.name, svc->c.role) : SIZE_MAX;
                psvc = k != SIZE_MAX ? &prev->services[k] : NULL;
        }
        n = svc ? svc->n_routes : now->n_services;
        if (n > 0) {
                v.rows = calloc(n, sizeof(TopRow));
                if (!v.rows)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const TopCounts *c, *pc = NULL;

                if (svc) {
                        c = &svc->routes[i];
                        pc = find_route(psvc, c->name);
                } else {
                        size_t k;

                        c = &now->services[i].c;
                        k = prev ? top_snapshot_find(prev, c->name, c->role) : SIZE_MAX;
                        pc = k != SIZE_MAX ? &prev->services[k].c : NULL;
                }
                if (!row_delta(c, pc, v.interval_sec, &v.rows[i]))
                        v.restarted = true;
                v.rows[i].index = i;
        }
        v.n_rows = n;

        v.drops = now->health.ringbuf_drops + now->health.entries_dropped;
        if (now->health.ringbuf_size_bytes > 0)
                v.ringbuf_pct = 100.0 * (double) now->health.ringbuf_used_bytes / (double) now->health.ringbuf_size_bytes;
        if (v.interval_sec > 0) {
                uint64_t ex = now->health.exchanges - (prev ? prev->health.exchanges : 0);
                uint64_t cpu = now->health.cpu_usec;

                if (prev && prev->health.cpu_usec <= cpu)
                        cpu -= prev->health.cpu_usec;
                v.exchanges_per_sec = (double) ex / v.interval_sec;
                v.cpu_pct = 100.0 * (double) cpu / 1e6 / v.interval_sec;
        }
        *ret = v;
        return 0;
}

static TopSort sort_key;

static int cmp_double_desc(double a, double b) {
        return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_row(const void *a, const void *b) {
        const TopRow *x = a, *y = b;
        int c = 0;

        switch (sort_key) {
        case TOP_SORT_ERRORS:
                c = cmp_double_desc(x->pct_5xx, y->pct_5xx);
                if (c == 0)
                        c = cmp_double_desc(x->pct_4xx, y->pct_4xx);
                break;
        case TOP_SORT_LATENCY:
                c = x->p99 > y->p99 ? -1 : x->p99 < y->p99 ? 1 : 0;
                break;
        default:
                break;
        }
        if (c == 0)
                c = x->requests > y->requests ? -1 : x->requests < y->requests ? 1 : 0;
        if (c == 0)
                c = strcmp(x->name, y->name);
        if (c == 0 && x->role && y->role)
                c = strcmp(x->role, y->role);
        return c;
}

void top_view_sort(TopView *v, TopSort key) {
        sort_key = key;
        if (v->n_rows > 1)
                qsort(v->rows, v->n_rows, sizeof(TopRow), cmp_row);
}

void top_view_done(TopView *v) {
        v->rows = mfree(v->rows);
        v->n_rows = 0;
}
