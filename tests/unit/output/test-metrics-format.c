/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition: names, HELP/TYPE, cumulative buckets, label escaping. */

#define _GNU_SOURCE 1   /* asprintf(), open_memstream() */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/metrics-format.h"

static int no_unit(void *userdata, const ConnInfo *c, char *buf, size_t size) {
        return -ENOENT;
}

static void add(ServiceTable *t, const char *comm, const char *method, const char *target, unsigned status, uint64_t usec) {
        ConnInfo conn = { .role = CONN_ROLE_SERVER };
        HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST, .method = (char *) method, .target = (char *) target, .body_bytes = 7 };
        HttpMessage resp = { .kind = HTTP_MESSAGE_RESPONSE, .status = status, .body_bytes = 11 };
        Exchange x = { .kind = EXCHANGE_COMPLETE, .conn = &conn, .request = &req, .response = &resp,
                       .duration_ns = usec * 1000 };

        snprintf(conn.comm, sizeof(conn.comm), "%s", comm);
        service_table_add(t, &x);
}

static void expect_line(const char *text, const char *line) {
        char *want;

        assert_true(asprintf(&want, "\n%s\n", line) > 0);
        if (!strstr(text, want))
                fail_msg("missing line: %s\n--- in:\n%s", line, text);
        free(want);
}

static void test_format(void **state) {
        ServiceTableOptions o = {
                .services_max = 8, .routes_max = 8, .bounds_usec = { 5000, 2500000 }, .n_bounds = 2, .unit = no_unit,
        };
        MetricsDropped dropped[] = { { "ring_buffer", 3 } };
        ServiceTable *t;
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(service_table_new(&o, &t), 0);
        add(t, "web", "GET", "/u/1", 200, 5000);
        add(t, "web", "GET", "/u/2", 200, 6000);
        add(t, "web", "GET", "/u/3", 500, 3000000);
        add(t, "we\"b\\\n\xff", "PUT", "/", 204, 1);

        f = open_memstream(&text, &size);
        assert_non_null(f);
        assert_int_equal(metrics_format(f, &(MetricsFormatInput) {
                .table = t, .since_usec = 1764700000123000, .dropped = dropped, .n_dropped = 1 }), 0);
        fclose(f);

        expect_line(text, "# TYPE http_tracer_requests_total counter");
        expect_line(text, "http_tracer_requests_total{unit=\"comm:web\",role=\"server\",method=\"GET\",status_class=\"2xx\",route=\"/u/*\"} 2");
        expect_line(text, "http_tracer_requests_total{unit=\"comm:web\",role=\"server\",method=\"GET\",status_class=\"5xx\",route=\"/u/*\"} 1");
        expect_line(text, "# TYPE http_tracer_request_duration_seconds histogram");
        /* cumulative, a bound's own value included */
        expect_line(text, "http_tracer_request_duration_seconds_bucket{unit=\"comm:web\",role=\"server\",route=\"/u/*\",le=\"0.005\"} 1");
        expect_line(text, "http_tracer_request_duration_seconds_bucket{unit=\"comm:web\",role=\"server\",route=\"/u/*\",le=\"2.5\"} 2");
        expect_line(text, "http_tracer_request_duration_seconds_bucket{unit=\"comm:web\",role=\"server\",route=\"/u/*\",le=\"+Inf\"} 3");
        expect_line(text, "http_tracer_request_duration_seconds_sum{unit=\"comm:web\",role=\"server\",route=\"/u/*\"} 3.011");
        expect_line(text, "http_tracer_request_duration_seconds_count{unit=\"comm:web\",role=\"server\",route=\"/u/*\"} 3");
        expect_line(text, "http_tracer_request_body_bytes_total{unit=\"comm:web\",role=\"server\"} 21");
        expect_line(text, "http_tracer_response_body_bytes_total{unit=\"comm:web\",role=\"server\"} 33");
        expect_line(text, "http_tracer_routes_folded_total{unit=\"comm:web\"} 0");
        expect_line(text, "http_tracer_dropped_total{reason=\"ring_buffer\"} 3");
        expect_line(text, "http_tracer_start_time_seconds 1764700000.123");
        /* a comm may hold anything: escaped or '?' */
        expect_line(text, "http_tracer_requests_total{unit=\"comm:we\\\"b\\\\\\n?\",role=\"server\",method=\"PUT\",status_class=\"2xx\",route=\"/\"} 1");
        /* every metric has HELP and TYPE */
        for (const char *p = text; (p = strstr(p, "\n# TYPE ")); p++) {
                char name[128];

                assert_int_equal(sscanf(p + 8, "%127s", name), 1);
                assert_non_null(strstr(text, name));
        }
        for (const char *p = text; *p; p++)
                assert_true((unsigned char) *p < 0x80);

        free(text);
        service_table_free(t);
}

static void test_seconds(void **state) {
        char b[32];

        metrics_format_seconds(0, b);
        assert_string_equal(b, "0");
        metrics_format_seconds(5000, b);
        assert_string_equal(b, "0.005");
        metrics_format_seconds(2500000, b);
        assert_string_equal(b, "2.5");
        metrics_format_seconds(10000000, b);
        assert_string_equal(b, "10");
        metrics_format_seconds(1, b);
        assert_string_equal(b, "0.000001");
        metrics_format_seconds(UINT64_MAX, b);
        assert_string_equal(b, "18446744073709.551615");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_seconds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
