/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service table: rows by unit or comm and role, routes, caps (all counted), and the sparse histogram. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/histogram-sparse.h"
#include "output/service-table.h"

/* Units by cgroup id: 1 is nginx.service, 2 is api.service, anything else has none. */
static int fake_unit(void *userdata, const ConnInfo *c, char *buf, size_t size) {
        unsigned *calls = userdata;

        (*calls)++;
        if (c->cgroup_id == 1 || c->cgroup_id == 2) {
                snprintf(buf, size, "%s", c->cgroup_id == 1 ? "nginx.service" : "api.service");
                return 0;
        }
        return -ENOENT;
}

typedef struct Ex {
        ConnInfo conn;
        HttpMessage req, resp;
        Exchange x;
} Ex;

static const Exchange *ex(Ex *e, uint64_t cgroup, const char *comm, ConnRole role, const char *method,
                          const char *target, unsigned status, uint64_t duration_usec) {
        *e = (Ex) {};
        e->conn = (ConnInfo) { .cgroup_id = cgroup, .role = (uint8_t) role };
        snprintf(e->conn.comm, sizeof(e->conn.comm), "%s", comm);
        e->req = (HttpMessage) { .kind = HTTP_MESSAGE_REQUEST, .method = (char *) method, .target = (char *) target,
                                 .body_bytes = 10 };
        e->resp = (HttpMessage) { .kind = HTTP_MESSAGE_RESPONSE, .status = status, .body_bytes = 100 };
        e->x = (Exchange) { .kind = status ? EXCHANGE_COMPLETE : EXCHANGE_NO_RESPONSE, .conn = &e->conn,
                            .request = &e->req, .response = status ? &e->resp : NULL,
                            .duration_ns = duration_usec * 1000 };
        return &e->x;
}

static ServiceTable *new_table(size_t services_max, size_t routes_max, unsigned *calls) {
        ServiceTableOptions o = {
                .services_max = services_max,
                .routes_max = routes_max,
                .bounds_usec = { 5000, 10000, 100000 },
                .n_bounds = 3,
                .unit = fake_unit,
                .unit_userdata = calls,
        };
        ServiceTable *t;

        assert_int_equal(service_table_new(&o, &t), 0);
        return t;
}

static const ServiceRow *row(const ServiceTable *t, const char *unit, ConnRole role) {
        ServiceRow *const *rows;
        size_t n = service_table_rows(t, &rows);

        for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i]->unit, unit) == 0 && rows[i]->role == role)
                        return rows[i];
        return NULL;
}

static const ServiceRoute *route(const ServiceRow *r, const char *name) {
        for (size_t i = 0; r && i < r->n_routes; i++)
                if (strcmp(r->routes[i]->route, name) == 0)
                        return r->routes[i];
        return NULL;
}

static void test_rows_and_counts(void **state) {
        unsigned calls = 0;
        ServiceTable *t = new_table(64, 32, &calls);
        const ServiceRow *r;
        const ServiceRoute *x;
        ServiceCounters tot;
        Histogram h;
        Ex e;

        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/api/users/1", 200, 4000));
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/api/users/2?x", 200, 5000));
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "POST", "/api/users/3", 503, 20000));
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "BREW", "/api/users/4", 404, 200000));
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/", 0, 0));
        /* another process in the same unit: the same row */
        service_table_add(t, ex(&e, 1, "nginx-worker", CONN_ROLE_SERVER, "GET", "/", 299, 1));
        /* no unit: comm, per role */
        service_table_add(t, ex(&e, 7, "curl", CONN_ROLE_CLIENT, "GET", "/", 200, 1));
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_CLIENT, "GET", "/", 200, 1));
        /* not requests: not counted */
        e.x.kind = EXCHANGE_UNCORRELATED;
        e.x.request = NULL;
        service_table_add(t, &e.x);
        e.x.kind = EXCHANGE_PARSE_ERROR;
        service_table_add(t, &e.x);

        r = row(t, "nginx.service", CONN_ROLE_SERVER);
        assert_non_null(r);
        x = route(r, "/api/users/*");
        assert_non_null(x);
        assert_int_equal(x->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 2);
        assert_int_equal(x->c.requests[SERVICE_METHOD_POST][SERVICE_STATUS_5XX], 1);
        assert_int_equal(x->c.requests[SERVICE_METHOD_OTHER][SERVICE_STATUS_4XX], 1);
        assert_int_equal(service_counters_requests(&x->c), 4);
        assert_int_equal(x->c.duration_count, 4);
        assert_int_equal(x->c.duration_usec_sum, 229000);
        /* le: 4000 and 5000 (equal to the bound) <= 5 ms, 20 ms <= 100 ms, 200 ms above all */
        assert_int_equal(x->c.le[0], 2);
        assert_int_equal(x->c.le[1], 0);
        assert_int_equal(x->c.le[2], 1);
        assert_int_equal(x->c.le[3], 1);
        assert_int_equal(x->c.request_bytes, 40);
        assert_int_equal(x->c.response_bytes, 400);
        assert_int_equal(x->latency.n, 4);

        x = route(r, "/");
        assert_non_null(x);
        assert_int_equal(x->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_NONE], 1);
        assert_int_equal(x->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 1);
        assert_int_equal(x->c.duration_count, 1);

        service_row_totals(r, &tot, &h);
        assert_int_equal(service_counters_requests(&tot), 6);
        assert_int_equal(tot.duration_count, 5);
        assert_int_equal(h.count, 5);
        assert_int_equal(h.sum, 229001);
        assert_int_equal(tot.request_bytes, 60);
        assert_int_equal(tot.response_bytes, 500);

        assert_non_null(row(t, "comm:curl", CONN_ROLE_CLIENT));
        assert_non_null(row(t, "nginx.service", CONN_ROLE_CLIENT));
        assert_null(row(t, "comm:nginx", CONN_ROLE_SERVER));
        /* unit lookups only on cache misses: one per (cgroup, role, comm) */
        assert_int_equal(calls, 4);
        assert_int_equal(service_table_services_folded(t), 0);
        assert_int_equal(service_table_oom(t), 0);
        service_table_free(t);
}

static void test_route_cap(void **state) {
        unsigned calls = 0;
        ServiceTable *t = new_table(64, 4, &calls);
        char *templates[] = { "/static/**" };
        RouteFold *f;
        const ServiceRow *r;
        char target[64];
        Ex e;

        assert_int_equal(route_fold_new(templates, 1, &f), 0);
        service_table_set_routes(t, f);
        /* 10,000 distinct hostile paths: 4 routes, the rest "other", each counted */
        for (int i = 0; i < 10000; i++) {
                snprintf(target, sizeof(target), "/x%dq/y", i);
                service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", target, 404, 100));
        }
        /* templates are not pushed out by them */
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/static/a.css", 200, 100));
        r = row(t, "nginx.service", CONN_ROLE_SERVER);
        assert_int_equal(r->n_routes, 4 + 1 + 1);
        assert_int_equal(r->routes_folded, 10000 - 4);
        assert_int_equal(route(r, "other")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_4XX], 10000 - 4);
        assert_int_equal(route(r, "/static/**")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 1);
        /* known routes still count after the cap */
        service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/x0q/y", 404, 100));
        assert_int_equal(route(r, "/x0q/y")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_4XX], 2);
        assert_int_equal(r->routes_folded, 10000 - 4);
        service_table_free(t);
        route_fold_free(f);
}

/* The (row, target) -> route cache answers what the fold would, and never hides a count. */
static void test_route_cache(void **state) {
        unsigned calls = 0;
        ServiceTable *t = new_table(64, 2, &calls);
        char *templates[] = { "/a/**" };
        const char *long_target = "/a-target-longer-than-the-cache-keeps-whole/0123456789";
        RouteFold *f;
        const ServiceRow *r;
        Ex e;

        for (int i = 0; i < 3; i++) {
                service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/a/1", 200, 100));
                service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/b/c", 200, 100));
                /* past routes_max: "other" each time, and each time counted as folded */
                service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", "/c/d", 200, 100));
                service_table_add(t, ex(&e, 1, "nginx", CONN_ROLE_SERVER, "GET", long_target, 200, 100));
                /* same target, another row: its own route */
                service_table_add(t, ex(&e, 2, "api", CONN_ROLE_SERVER, "GET", "/a/1", 200, 100));
        }
        r = row(t, "nginx.service", CONN_ROLE_SERVER);
        assert_int_equal(route(r, "/a/*")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 3);
        assert_int_equal(route(r, "/b/c")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 3);
        assert_int_equal(route(r, "other")->c.requests[SERVICE_METHOD_GET][SERVICE_STATUS_2XX], 6);
        assert_int_equal(r->routes_folded, 6);
        assert_int_equal(route(row(t, "api.service", CONN_ROLE_SERVER), "/a/*")->c.duration_count, 3);

        /* new templates: a cached target folds anew */
        assert_int_equal(route_fold_new(templates, 1, &f), 0);
        service_table_set_routes(t, f);
        service_table_add(t, ex(&e, 2, "api", CONN_ROLE_SERVER, "GET", "/a/1", 200, 100));
        assert_int_equal(route(row(t, "api.service", CONN_ROLE_SERVER), "/a/**")->c.duration_count, 1);
        assert_int_equal(route(row(t, "api.service", CONN_ROLE_SERVER), "/a/*")->c.duration_count, 3);
        service_table_free(t);
        route_fold_free(f);
}

static void test_service_cap(void **state) {
        unsigned calls = 0;
        ServiceTable *t = new_table(3, 8, &calls);
        ServiceRow *const *rows;
        char comm[16];
        Ex e;

        for (int i = 0; i < 100; i++) {
                snprintf(comm, sizeof(comm), "c%d", i);
                service_table_add(t, ex(&e, 9, comm, CONN_ROLE_CLIENT, "GET", "/", 200, 1));
                service_table_add(t, ex(&e, 9, comm, CONN_ROLE_SERVER, "GET", "/", 200, 1));
        }
        /* 3 rows, then one "other" row per role */
        assert_int_equal(service_table_rows(t, &rows), 5);
        assert_int_equal(service_table_services_folded(t), 200 - 3);
        assert_non_null(row(t, SERVICE_OTHER, CONN_ROLE_SERVER));
        assert_non_null(row(t, SERVICE_OTHER, CONN_ROLE_CLIENT));
        /* c0 client, c0 server, c1 client took the rows */
        assert_int_equal(service_counters_requests(&route(row(t, SERVICE_OTHER, CONN_ROLE_SERVER), "/")->c), 99);
        assert_int_equal(service_counters_requests(&route(row(t, SERVICE_OTHER, CONN_ROLE_CLIENT), "/")->c), 98);
        /* from the cache, still counted as folded */
        service_table_add(t, ex(&e, 9, "c99", CONN_ROLE_SERVER, "GET", "/", 200, 1));
        assert_int_equal(service_table_services_folded(t), 200 - 3 + 1);
        assert_true(service_table_memory(t) > 0);
        service_table_free(t);
}

static void test_names(void **state) {
        ServiceTableOptions bad = { .services_max = 1, .routes_max = 1, .bounds_usec = { 10, 10 }, .n_bounds = 2 };
        ServiceTable *t;

        assert_int_equal(service_method_from_string("GET"), SERVICE_METHOD_GET);
        assert_int_equal(service_method_from_string("get"), SERVICE_METHOD_OTHER);
        assert_int_equal(service_method_from_string(NULL), SERVICE_METHOD_OTHER);
        assert_string_equal(service_method_name(SERVICE_METHOD_OTHER), "OTHER");
        assert_int_equal(service_status_from_code(99), SERVICE_STATUS_OTHER);
        assert_int_equal(service_status_from_code(100), SERVICE_STATUS_1XX);
        assert_int_equal(service_status_from_code(599), SERVICE_STATUS_5XX);
        assert_int_equal(service_status_from_code(600), SERVICE_STATUS_OTHER);
        assert_string_equal(service_status_name(SERVICE_STATUS_NONE), "none");
        assert_int_equal(service_table_new(&bad, &t), -EINVAL);
}

static void test_sparse_histogram(void **state) {
        SparseHistogram s = {};
        Histogram full, back;

        histogram_reset(&full);
        for (uint64_t v = 0; v < 200000; v = v * 3 + 1)
                for (int k = 0; k < 3; k++) {
                        assert_int_equal(sparse_histogram_record(&s, v), 0);
                        histogram_record(&full, v);
                }
        assert_int_equal(sparse_histogram_record(&s, UINT64_MAX), 0);
        histogram_record(&full, UINT64_MAX);
        histogram_reset(&back);
        sparse_histogram_add_to(&s, &back);
        assert_int_equal(back.count, full.count);
        assert_memory_equal(back.counts, full.counts, sizeof(full.counts));
        for (uint32_t k = 1; k < s.n; k++)
                assert_true(s.index[k - 1] < s.index[k]);
        sparse_histogram_done(&s);
        assert_int_equal(sparse_histogram_memory(&s), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows_and_counts),
                cmocka_unit_test(test_route_cap),
                cmocka_unit_test(test_route_cache),
                cmocka_unit_test(test_service_cap),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_sparse_histogram),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
