/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The report's aggregation: services keyed by unit (or comm) and role, the
 * route cap folding into "(other)", the service cap counted, the slowest
 * exchanges kept in order with their cursors, the time bins rescaling
 * without losing a count, quantiles never above the exact max.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "views/report-stats.h"

static ReportEntry entry(const char *unit, const char *path, unsigned status, uint64_t dur, uint64_t t) {
        return (ReportEntry) {
                .kind = REPORT_KIND_COMPLETE, .unit = unit, .comm = "nginx", .role = "server",
                .method = "GET", .target = path, .route = path, .status = status,
                .has_duration = true, .duration_usec = dur, .response_bytes = 10,
                .realtime_usec = t,
        };
}

static uint64_t bins_total(const ReportService *s) {
        uint64_t n = 0;

        for (unsigned b = 0; b < REPORT_BINS; b++)
                for (unsigned k = 0; k < 5; k++)
                        n += s->bins[b].status[k];
        return n;
}

static void test_services_routes(void **state) {
        _cleanup_(report_freep) Report *r = NULL;
        ReportEntry e;
        char path[32];

        assert_int_equal(report_new(&r), 0);
        /* REPORT_ROUTES_MAX + 10 distinct paths: the last 10 fold into "(other)". */
        for (unsigned i = 0; i < REPORT_ROUTES_MAX + 10; i++) {
                snprintf(path, sizeof(path), "/p/%u", i);
                e = entry("a.service", path, i % 2 ? 500 : 200, 100 + i, 1000000000 + i * USEC_PER_SEC);
                assert_int_equal(report_add(r, &e, "c"), 0);
        }
        /* The same unit as client is another row; no unit: comm. */
        e = entry("a.service", "/x", 404, 5, 1000000000);
        e.role = "client";
        assert_int_equal(report_add(r, &e, NULL), 0);
        e = entry(NULL, "/x", 404, 5, 1000000000);
        assert_int_equal(report_add(r, &e, NULL), 0);
        e.kind = REPORT_KIND_PARSE_ERROR;
        assert_int_equal(report_add(r, &e, NULL), 0);
        e = entry(NULL, "/x", 0, 0, 1000000000);
        e.kind = REPORT_KIND_NO_RESPONSE;
        e.has_duration = false;
        assert_int_equal(report_add(r, &e, NULL), 0);

        report_sort(r);
        assert_int_equal(r->n_services, 3);
        assert_string_equal(r->services[0]->name, "a.service");
        assert_string_equal(r->services[0]->role, "client");
        assert_string_equal(r->services[1]->role, "server");
        assert_string_equal(r->services[2]->name, "comm:nginx");

        const ReportService *s = r->services[1];
        assert_int_equal(s->c.requests, REPORT_ROUTES_MAX + 10);
        assert_int_equal(s->c.status[1], (REPORT_ROUTES_MAX + 10) / 2);
        assert_int_equal(s->c.status[4], (REPORT_ROUTES_MAX + 10) / 2);
        assert_int_equal(s->n_routes, REPORT_ROUTES_MAX + 1);
        assert_int_equal(s->routes_folded, 10);
        /* sorted: "(other)" with 10 requests first */
        assert_string_equal(s->routes[0]->route, REPORT_ROUTE_OTHER);
        assert_int_equal(s->routes[0]->c.requests, 10);
        assert_int_equal(s->c.max_usec, 100 + REPORT_ROUTES_MAX + 9);
        assert_int_equal(s->c.n_slowest, REPORT_SLOWEST);
        for (size_t i = 0; i < REPORT_SLOWEST; i++)
                assert_int_equal(s->c.slowest[i].duration_usec, 100 + REPORT_ROUTES_MAX + 9 - i);
        assert_string_equal(s->c.slowest[0].cursor, "c");
        assert_true(report_quantile(&s->c, 1.0) <= s->c.max_usec);
        assert_int_equal(bins_total(s), s->c.requests);

        s = r->services[2];
        assert_int_equal(s->c.requests, 2);
        assert_int_equal(s->c.no_response, 1);
        assert_int_equal(s->parse_errors, 1);
        assert_int_equal(s->c.latency.count, 1);
}

static void test_service_cap_and_bins(void **state) {
        _cleanup_(report_freep) Report *r = NULL;
        char unit[32];
        uint64_t t0 = UINT64_C(1700000000) * USEC_PER_SEC;

        assert_int_equal(report_new(&r), 0);
        for (unsigned i = 0; i < REPORT_SERVICES_MAX + 3; i++) {
                ReportEntry e;

                snprintf(unit, sizeof(unit), "u%03u.service", i);
                e = entry(unit, "/", 200, 10, t0);
                assert_int_equal(report_add(r, &e, NULL), 0);
        }
        assert_int_equal(r->n_services, REPORT_SERVICES_MAX);
        assert_int_equal(r->services_dropped, 3);

        /* A day of entries, one a minute: the bins double until a day fits, no count lost. */
        for (unsigned m = 0; m < 24 * 60; m++) {
                ReportEntry e = entry("u000.service", "/", 200, 10, t0 + (uint64_t) m * 60 * USEC_PER_SEC);

                assert_int_equal(report_add(r, &e, NULL), 0);
        }
        assert_true(r->bin_width_usec * REPORT_BINS >= 24 * 3600 * USEC_PER_SEC);
        assert_true(r->bin_width_usec * REPORT_BINS / 2 < 24 * 3600 * USEC_PER_SEC);
        assert_int_equal(bins_total(r->services[0]), 1 + 24 * 60);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_services_routes),
                cmocka_unit_test(test_service_cap_and_bins),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
